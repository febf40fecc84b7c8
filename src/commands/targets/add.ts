import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { runTargetsAdd, targetsAddFlags, type TargetsChangeResult } from '../../cli/targets-add';

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
  static override flags = targetsAddFlags;

  async run(): Promise<TargetsChangeResult> {
    return runTargetsAdd(this.io, this.flags, this.positional);
  }
}
