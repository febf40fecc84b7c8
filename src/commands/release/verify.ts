import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { releaseVerifyFlags, runReleaseVerify } from '../../cli/release-verify';
import type { VerifyReleaseResult } from '../../release';

export default class ReleaseVerify extends BaseCommand<typeof ReleaseVerify> {
  static override summary =
    'Rebuild a release archive from a folder and say whether it is byte-identical to the published one (exit 1 if not).';
  static override examples = ['<%= config.bin %> release verify myapp 1.0 dist/myapp -w myrepo'];
  static override args = {
    app: Args.string({ description: 'Application name.', required: true }),
    version: Args.string({ description: 'Published version.', required: true }),
    dir: Args.string({ description: 'The application folder to rebuild from.', required: true }),
  };
  static override flags = releaseVerifyFlags;

  async run(): Promise<VerifyReleaseResult & { archive: string }> {
    return runReleaseVerify(this.io, this.flags, this.args);
  }
}
