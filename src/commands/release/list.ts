import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { workspaceFlag } from '../../cli/flags';
import { table } from '../../cli/render';
import { releaseListing, type ReleaseListing } from '../../repository/release';
import { Workspace } from '../../repository/workspace';

export default class ReleaseList extends BaseCommand<typeof ReleaseList> {
  static override summary =
    'List releases with archive and patch sizes and channels (final / rc / b / a, as tufup clients filter them).';
  static override examples = [
    '<%= config.bin %> release list -w myrepo',
    '<%= config.bin %> release list myapp -w myrepo --json',
  ];
  static override args = { app: Args.string({ description: 'Only this application.' }) };
  static override flags = { workspace: workspaceFlag };

  async run(): Promise<{ releases: ReleaseListing[] }> {
    const list = releaseListing(Workspace.open(this.flags.workspace), this.args.app);
    this.log(
      table([
        ['APP', 'VERSION', 'CHANNEL', 'ARCHIVE', 'REQUIRED', 'PATCH', 'PATCH/ARCHIVE'],
        ...list.map((r) => [
          r.app,
          r.version,
          r.channel,
          r.archive === null ? '-' : `${r.archive.length}`,
          r.archive?.required === true ? 'yes' : 'no',
          r.patch === null ? '-' : `${r.patch.length}`,
          r.patch?.ratio === null || r.patch === null ? '-' : r.patch.ratio.toFixed(3),
        ]),
      ]),
    );
    return { releases: list };
  }
}
