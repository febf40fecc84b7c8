/** `release verify APP VERSION DIR`: rebuild a published release from its inputs and compare byte for byte. */
import type { Interfaces } from '@oclif/core';
import { workspaceFlag } from './flags';
import { progressReporter } from './progress';
import { TufsignError } from '../errors';
import { verifyPublishedRelease } from '../repository/release';
import { Workspace } from '../repository/workspace';
import { parseVersion, type VerifyReleaseResult } from '../release';
import type { CommandIo } from './base-command';

export const releaseVerifyFlags = { workspace: workspaceFlag };

export async function runReleaseVerify(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof releaseVerifyFlags>,
  args: { app: string; version: string; dir: string },
): Promise<VerifyReleaseResult & { archive: string }> {
  const ws = Workspace.open(flags.workspace);
  const progress = progressReporter(io.json);
  let r: Awaited<ReturnType<typeof verifyPublishedRelease>>;
  try {
    r = await verifyPublishedRelease(ws, args.app, parseVersion(args.version), args.dir, progress);
  } finally {
    progress.done();
  }
  io.log(
    `${r.archive}: ${r.identical ? 'byte-identical to the published archive' : r.tarIdentical ? 'same tar, different gzip bytes (another zlib build?)' : 'DIFFERENT from the published archive'}`,
  );
  for (const d of r.differences) io.log(`  ${d.what}: ${d.path}`);
  if (!r.identical) {
    throw new TufsignError('VERIFY_FAILED', `${r.archive} is not byte-identical to the published archive`, {
      file: args.dir,
      details: { result: r },
    });
  }
  return r;
}
