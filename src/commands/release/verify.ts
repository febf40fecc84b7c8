import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { workspaceFlag } from '../../cli/flags';
import { progressReporter } from '../../cli/progress';
import { TufsignError } from '../../errors';
import { verifyPublishedRelease } from '../../repository/release';
import { Workspace } from '../../repository/workspace';

export default class ReleaseVerify extends BaseCommand<typeof ReleaseVerify> {
  static override summary =
    'Rebuild a release archive from a folder and say whether it is byte-identical to the published one (exit 1 if not).';
  static override examples = ['<%= config.bin %> release verify myapp 1.0 dist/myapp -w myrepo'];
  static override args = {
    app: Args.string({ description: 'Application name.', required: true }),
    version: Args.string({ description: 'Published version.', required: true }),
    dir: Args.string({ description: 'The application folder to rebuild from.', required: true }),
  };
  static override flags = { workspace: workspaceFlag };

  async run(): Promise<Awaited<ReturnType<typeof verifyPublishedRelease>>> {
    const ws = Workspace.open(this.flags.workspace);
    const progress = progressReporter(this.jsonEnabled());
    let r: Awaited<ReturnType<typeof verifyPublishedRelease>>;
    try {
      r = await verifyPublishedRelease(ws, this.args.app, this.args.version, this.args.dir, progress);
    } finally {
      progress.done();
    }
    this.log(
      `${r.archive}: ${r.identical ? 'byte-identical to the published archive' : r.tarIdentical ? 'same tar, different gzip bytes (another zlib build?)' : 'DIFFERENT from the published archive'}`,
    );
    for (const d of r.differences) this.log(`  ${d.what}: ${d.path}`);
    if (!r.identical) {
      throw new TufsignError('VERIFY_FAILED', `${r.archive} is not byte-identical to the published archive`, {
        file: this.args.dir,
        details: { result: r },
      });
    }
    return r;
  }
}
