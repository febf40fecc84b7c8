import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { releaseListFlags, runReleaseList } from '../../cli/release-list';
import type { ReleaseListing } from '../../repository/release';

export default class ReleaseList extends BaseCommand<typeof ReleaseList> {
  static override summary =
    'List releases with archive and patch sizes and channels (final / rc / b / a, as tufup clients filter them).';
  static override examples = [
    '<%= config.bin %> release list -w myrepo',
    '<%= config.bin %> release list myapp -w myrepo --json',
  ];
  static override args = { app: Args.string({ description: 'Only this application.' }) };
  static override flags = releaseListFlags;

  async run(): Promise<{ releases: ReleaseListing[] }> {
    return runReleaseList(this.io, this.flags, this.args);
  }
}
