import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { waitFlag, workspaceFlag } from '../../cli/flags';
import { renderOperation } from '../../cli/render';
import { runTargetsAdd, type TargetsAddInput } from '../../cli/delegation';
import type { OperationResult } from '../../repository/outcome';
import { parseCustomJson } from '../../repository/targets';

export default class TargetsAdd extends BaseCommand<typeof TargetsAdd> {
  static override summary =
    'Register target files, copy them into targets/, and re-sign the role that holds them → snapshot → timestamp.';
  static override description =
    "Without --role each target goes to the role a client looks in first for its path (delegations in order; with hash bins, the bin of the path's hash). " +
    'Folders are added recursively (paths relative to the folder); a list file gives one FILE or FILE<TAB>TARGETPATH per line.';
  static override examples = [
    '<%= config.bin %> targets add dist/app-1.0.tar.gz -w myrepo',
    '<%= config.bin %> targets add build/app.bin --path app/linux/app.bin --custom \'{"channel":"stable"}\'',
    '<%= config.bin %> targets add packages/ --path packages',
    'find dist -type f | <%= config.bin %> targets add --from-file -',
  ];
  static override strict = false;
  static override args = { file: Args.string({ description: 'Files or folders to add.' }) };
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    path: Flags.string({
      description:
        'Target path in metadata (only with a single file, or the path prefix of a single folder; default: the file name).',
    }),
    custom: Flags.string({ description: 'Custom metadata for the target(s), a JSON object.' }),
    expires: Flags.string({ description: 'Expiry period of the re-signed role(s) (default from tufsign.json).' }),
    role: Flags.string({ description: 'Sign into this role (it must be delegated the paths).' }),
    'from-file': Flags.string({
      description: 'Read files to add from this list ("-": stdin), one FILE or FILE<TAB>TARGETPATH per line.',
    }),
  };

  async run(): Promise<OperationResult> {
    const input: TargetsAddInput = { workspace: this.flags.workspace, files: this.positional };
    if (this.flags.path !== undefined) input.path = this.flags.path;
    if (this.flags.custom !== undefined) input.custom = parseCustomJson(this.flags.custom);
    if (this.flags['from-file'] !== undefined) input.fromFile = this.flags['from-file'];
    if (this.flags.expires !== undefined) input.expires = this.flags.expires;
    if (this.flags.role !== undefined) input.role = this.flags.role;
    await this.lockWorkspace(this.flags.workspace);
    const result = await runTargetsAdd(this.ctx, input);
    this.log(renderOperation(result, this.flags.workspace));
    return result;
  }
}
