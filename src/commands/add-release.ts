import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { ceremonyContext, renderRequest } from '../cli/ceremony';
import { waitFlag, workspaceFlag } from '../cli/flags';
import { progressReporter } from '../cli/progress';
import { renderOperation } from '../cli/render';
import { parseJson } from '../tuf/json';
import { addRelease, type AddReleaseOptions, type AddReleaseResult } from '../repository/release';
import { Workspace } from '../repository/workspace';
import { publishOrder } from '../repository/publish';

export default class AddRelease extends BaseCommand<typeof AddRelease> {
  static override summary =
    'Add an application release the way tufup does: a reproducible archive and a binary patch, signed and bundled.';
  static override description =
    'Builds APP-VERSION.tar.gz deterministically from DIR (SOURCE_DATE_EPOCH or the release time as mtime), a BSDIFF40 patch from the previous ' +
    "release's tar, registers both as targets with tufup's custom metadata, re-signs targets → snapshot → timestamp, and writes the upload bundle. " +
    'When targets needs offline keys, it writes a signing request for the ceremony instead.';
  static override examples = [
    '<%= config.bin %> add-release myapp 1.1 dist/myapp -w repo',
    '<%= config.bin %> add-release myapp 2.0rc1 dist/myapp --meta \'{"notes":"beta"}\' --required -w repo',
    'SOURCE_DATE_EPOCH=1700000000 <%= config.bin %> add-release myapp 1.2 dist/myapp --dry-run --json',
  ];
  static override args = {
    app: Args.string({ description: 'Application name (letters, digits, _ and -).', required: true }),
    version: Args.string({
      description: 'PEP 440 version, newer than every release already published.',
      required: true,
    }),
    dir: Args.string({ description: 'The built application folder.', required: true }),
  };
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    meta: Flags.string({ description: "User metadata for the archive (JSON), as tufup's --meta." }),
    required: Flags.boolean({ description: 'Mark the release as required (clients stop at it).', default: false }),
    'no-patch': Flags.boolean({ description: 'Do not build a patch.', default: false }),
    'dry-run': Flags.boolean({ description: 'Build and report, write nothing.', default: false }),
    'bundle-out': Flags.string({
      description:
        'Bundle folder, or one .tar.gz file when PATH ends in .tar.gz (default WORKSPACE/bundles/APP-VERSION).',
    }),
    'request-out': Flags.string({ description: 'Where to write the signing request when targets needs offline keys.' }),
    role: Flags.string({
      description:
        'Only "targets": tufup clients read releases from the top-level targets role alone, so a delegated role is refused (ROLE_INVALID).',
    }),
    threads: Flags.integer({
      description: 'Threads for compression and the patch (default: every core). The output bytes do not depend on it.',
      min: 1,
      max: 256,
    }),
  };

  async run(): Promise<AddReleaseResult> {
    await this.lockWorkspace(this.flags.workspace);
    const ws = Workspace.open(this.flags.workspace);
    const progress = progressReporter(this.jsonEnabled());
    const options: AddReleaseOptions = {
      app: this.args.app,
      version: this.args.version,
      dir: this.args.dir,
      required: this.flags.required,
      noPatch: this.flags['no-patch'],
      dryRun: this.flags['dry-run'],
      env: this.ctx.env,
      onProgress: progress,
    };
    if (this.flags.meta !== undefined) options.meta = parseJson(this.flags.meta, '--meta');
    if (this.flags['bundle-out'] !== undefined) options.bundleOut = this.flags['bundle-out'];
    if (this.flags['request-out'] !== undefined) options.requestOut = this.flags['request-out'];
    if (this.flags.threads !== undefined) options.threads = this.flags.threads;
    if (this.flags.role !== undefined) options.role = this.flags.role;
    let result: AddReleaseResult;
    try {
      result = await addRelease(ws, options, ceremonyContext(this.ctx, ws.dir, ws, `tufsign ${this.config.version}`));
    } finally {
      progress.done();
    }
    const lines = [
      `archive ${result.archive.path}: ${result.archive.length} bytes (tar ${result.tar.size} bytes, ${result.files} files)`,
    ];
    lines.push(
      result.patch !== null
        ? `patch   ${result.patch.path}: ${result.patch.length} bytes from ${result.patch.from}`
        : `patch   none: ${result.patchSkipped ?? 'first release'}`,
    );
    if (result.dryRun) lines.push('dry run: nothing was written');
    const resumed = result.resumed;
    if (resumed?.bundle !== undefined)
      lines.push(
        `already signed by an earlier run; its bundle was ${{ complete: 'complete', rebuilt: 'missing or incomplete (rebuilt)' }[resumed.bundle]}`,
      );
    if (resumed?.request !== undefined) lines.push('the signing request an earlier run wrote is kept');
    if (result.operation !== undefined && result.request === undefined)
      lines.push(renderOperation({ ...result.operation }));
    if (result.request !== undefined) lines.push(renderRequest(result.request));
    if (result.bundle !== undefined) {
      lines.push(`upload bundle ${result.bundle.path}; new files, in upload order (timestamp.json last):`);
      const bundleFiles = result.bundle.files;
      for (const item of publishOrder(bundleFiles.filter((x) => x.new).map((x) => x.path)))
        lines.push(`  ${item.path}  ${bundleFiles.find((f) => f.path === item.path)?.length ?? 0} bytes`);
      lines.push(
        `verify it: tufsign verify ${result.bundle.path} --root ${ws.dir}/metadata/${ws.latestRootVersion()}.root.json`,
      );
      lines.push(`publish it: tufsign publish ${result.bundle.path} DEST`);
    }
    this.log(lines.join('\n'));
    return result;
  }
}
