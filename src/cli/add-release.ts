/** `add-release`: build the archive and patch, register them as targets, sign, and write the upload bundle. */
import { parseRoleRef } from '../tuf/paths';
import { Flags, type Interfaces } from '@oclif/core';
import { ceremonyContext, renderRequest } from './ceremony';
import { waitFlag, workspaceFlag } from './flags';
import { progressReporter } from './progress';
import { renderOperation } from './render';
import { parseJson } from '../tuf/json';
import { checkReleaseVersion } from '../release';
import { addRelease, type AddReleaseOptions, type AddReleaseResult } from '../repository/release';
import { publishOrder } from '../repository/publish';
import type { CommandIo } from './base-command';

export const addReleaseFlags = {
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

export async function runAddRelease(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof addReleaseFlags>,
  args: { app: string; version: string; dir: string },
): Promise<AddReleaseResult> {
  const role = flags.role === undefined ? undefined : parseRoleRef(flags.role, '--role');
  const ws = await io.openWorkspace(flags.workspace);
  const progress = progressReporter(io.json);
  const options: AddReleaseOptions = {
    app: args.app,
    version: checkReleaseVersion(args.version),
    dir: args.dir,
    required: flags.required,
    noPatch: flags['no-patch'],
    dryRun: flags['dry-run'],
    env: io.ctx.env,
    onProgress: progress,
  };
  if (flags.meta !== undefined) options.meta = parseJson(flags.meta, '--meta');
  if (flags['bundle-out'] !== undefined) options.bundleOut = flags['bundle-out'];
  if (flags['request-out'] !== undefined) options.requestOut = flags['request-out'];
  if (flags.threads !== undefined) options.threads = flags.threads;
  if (role !== undefined) options.role = role;
  let result: AddReleaseResult;
  try {
    result = await addRelease(ws, options, ceremonyContext(io.ctx, ws.dir, ws, io.tool));
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
  io.log(lines.join('\n'));
  return result;
}
