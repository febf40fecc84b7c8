import { Args, Flags } from '@oclif/core';
import { basename } from 'node:path';
import { BaseCommand } from '../../cli/base-command';
import { workspaceFlag } from '../../cli/flags';
import { renderOperation } from '../../cli/render';
import { TufsignError } from '../../errors';
import { addTargets, parseCustomJson, type OperationResult, type TargetInput } from '../../repository/operations';
import { Workspace } from '../../repository/workspace';

export default class TargetsAdd extends BaseCommand<typeof TargetsAdd> {
  static override summary = 'Register target files, copy them into targets/, and re-sign targets → snapshot → timestamp.';
  static override examples = ['<%= config.bin %> targets add dist/app-1.0.tar.gz -w myrepo', '<%= config.bin %> targets add build/app.bin --path app/linux/app.bin --custom \'{"channel":"stable"}\''];
  static override strict = false;
  static override args = { file: Args.string({ description: 'Files to add.', required: true }) };
  static override flags = {
    workspace: workspaceFlag,
    path: Flags.string({ description: 'Target path in metadata (only with a single file; default: the file name).' }),
    custom: Flags.string({ description: 'Custom metadata for the target(s), a JSON object.' }),
    expires: Flags.string({ description: 'Targets expiry period (default from tufsign.json).' }),
  };

  async run(): Promise<OperationResult> {
    const files = this.positional;
    if (this.flags.path !== undefined && files.length !== 1) throw new TufsignError('USAGE', '--path works with exactly one file', { rule: 'targets add FILE --path TARGETPATH' });
    const custom = this.flags.custom === undefined ? undefined : parseCustomJson(this.flags.custom);
    const inputs: TargetInput[] = files.map((file) => {
      const input: TargetInput = { file, path: this.flags.path ?? basename(file) };
      if (custom !== undefined) input.custom = custom;
      return input;
    });
    const ws = Workspace.open(this.flags.workspace);
    const options: { expires?: string } = {};
    if (this.flags.expires !== undefined) options.expires = this.flags.expires;
    const result = await addTargets(ws, inputs, this.ctx.signingContext(ws.dir, ws), options);
    this.log(renderOperation(result, ws.dir));
    return result;
  }
}
