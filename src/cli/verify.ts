/** `verify`: a workspace or an upload bundle checked the way a TUF client does; a failure is VERIFY_FAILED. */
import { Flags, type Interfaces } from '@oclif/core';
import { join } from 'node:path';
import { verifyBundle } from '../bundle/verify';
import { TufsignError } from '../errors';
import { fileExists, readFileBounded } from '../io/fs';
import { directorySource } from '../verify/sources';
import { verifyRepository, type VerifyOptions, type VerifyReport } from '../verify/verify';
import { parseInstant } from '../tuf/time';
import type { CommandIo } from './base-command';
import { withBundleInput } from './bundle-input';
import { checkBundleRoot } from './bundle-root';
import { workspaceAliasFlag, workspaceFrom } from './flags';
import { renderVerify } from './render';

export const verifyFlags = {
  workspace: workspaceAliasFlag,
  root: Flags.string({ description: 'Trusted root metadata to start the chain from.' }),
  at: Flags.string({ description: 'Check expiry at this time instead of now (ISO 8601).' }),
  'allow-legacy-keyids': Flags.boolean({
    description:
      'Also accept keyids that are not sha256 of the key in the newest root and in delegations (tufup-era repositories before their keyid-migration root); reported as notes.',
    default: false,
    exclusive: ['strict-keyids'],
  }),
  'strict-keyids': Flags.boolean({
    description:
      'Check keyids as tough/sigstore-rs do: every key in every root of the chain and in every delegation must have keyid = sha256(key as stored).',
    default: false,
  }),
};

export async function runVerify(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof verifyFlags>,
  args: { dir?: string | undefined },
): Promise<VerifyReport> {
  // BUNDLE may also be the .tar.gz a bundle was written as; it is unpacked privately and checked the same way
  return await withBundleInput(workspaceFrom(flags.workspace, args.dir), (b) => verifyAt(io, flags, b.dir, b.given));
}

async function verifyAt(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof verifyFlags>,
  dir: string,
  given: string,
): Promise<VerifyReport> {
  const isBundle = fileExists(join(dir, 'BUNDLE.json'));
  const options: VerifyOptions = {
    at: flags.at !== undefined ? parseInstant(flags.at) : io.ctx.clock.now(),
    requireTargetFiles: !isBundle,
    allowLegacyKeyids: flags['allow-legacy-keyids'],
    strictKeyids: flags['strict-keyids'],
  };
  if (flags.root !== undefined) options.trustedRoot = { bytes: readFileBounded(flags.root), file: flags.root };
  // a bundle that publishes no root (add-release, targets changes) is checked from the root clients already have
  if (isBundle) checkBundleRoot(dir, given, options.trustedRoot);
  // A bundle is also checked against its manifest: every listed file, nothing unlisted, the transcript.
  // files are named relative to where the command runs
  const report = isBundle
    ? await verifyBundle(dir, options, process.cwd())
    : verifyRepository(directorySource(dir, process.cwd()), options);
  io.log(renderVerify(report));
  if (!report.ok) {
    const failed = report.roles
      .flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => `${r.role}: ${c.message}`))
      .concat(report.targets.filter((t) => !t.ok).map((t) => `${t.path}: ${t.message}`));
    throw new TufsignError(
      'VERIFY_FAILED',
      `verification failed: ${failed[0] ?? 'see the report'}${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}`,
      {
        file: given,
        details: { report },
        ...(flags.root === undefined && isBundle
          ? {
              suggestion:
                'A bundle that does not carry the root it was signed under needs --root PATH/TO/N.root.json (the last root clients already trust).',
            }
          : {}),
      },
    );
  }
  return report;
}
