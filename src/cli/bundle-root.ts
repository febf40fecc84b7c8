/**
 * Which root `verify BUNDLE` starts from. A bundle that carries no root v1 (add-release, targets changes) can
 * only be checked from the root clients hold already; its manifest names that root by version and sha256
 * (`base_root`, ADR 0017), so a missing `--root` says exactly which file to pass, and a wrong one is caught
 * before the client checks run, with the reason instead of a signature failure.
 */
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { readFileBounded } from '../io/fs';
import { sha256Hex } from '../io/hash';
import { BUNDLE_MANIFEST, parseManifest } from '../bundle/manifest';

export function checkBundleRoot(
  dir: string,
  given: string,
  root: { bytes: Uint8Array; file: string } | undefined,
): void {
  const manifest = parseManifest(readFileBounded(join(dir, BUNDLE_MANIFEST)));
  if (manifest.rootChain.some((r) => r.version === 1)) return;
  const n = manifest.base.root;
  const named = manifest.baseRoot;
  const file = `WORKSPACE/metadata/${n === undefined ? 'N' : String(n)}.root.json`;
  if (root === undefined)
    throw new TufsignError(
      'USAGE',
      `${given} does not carry root v1, so it can only be verified from the root clients trust now`,
      {
        file: given,
        suggestion: `Pass --root with that root: tufsign verify ${given} --root ${file}${named !== undefined ? ` (sha256 ${named.sha256})` : ''}`,
        details: { trustedRootVersion: n ?? null, trustedRootSha256: named?.sha256 ?? null },
      },
    );
  if (named !== undefined && manifest.rootChain.length === 0 && sha256Hex(root.bytes) !== named.sha256)
    throw new TufsignError(
      'USAGE',
      `${given} was made for clients holding root v${named.version} (sha256 ${named.sha256.slice(0, 16)}…), and ${root.file} is not that root`,
      {
        file: root.file,
        rule: 'a bundle without roots is verified from the root it was made against',
        suggestion: `Pass --root ${file}, the root clients hold now.`,
        details: { trustedRootVersion: named.version, trustedRootSha256: named.sha256 },
      },
    );
}
