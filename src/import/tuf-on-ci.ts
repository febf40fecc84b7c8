/**
 * A tuf-on-ci repository (the git repository, or its published site):
 * `metadata/root.json` is the newest root and `metadata/root_history/N.root.json`
 * every version (files re-serialized by later tuf-on-ci releases, which is
 * fine: signatures cover the canonical form). Keys are YubiKeys or cloud KMS
 * named in `x-tuf-on-ci-keyowner` / `x-tuf-on-ci-online-uri`: public-only.
 */
import { join } from 'node:path';
import { fileExists } from '../io/fs';
import { filesIn, isDir, versionedRoots, type SourceLayout } from './source';

export function detectTufOnCi(dir: string): boolean {
  return isDir(join(dir, 'metadata', 'root_history'));
}

export function tufOnCiLayout(dir: string): SourceLayout {
  const metadataDir = join(dir, 'metadata');
  // The git repository keeps current roles and target files under plain names; the published site versioned/hash-prefixed ones.
  const plain = filesIn(metadataDir);
  const layout: SourceLayout = {
    format: 'tuf-on-ci',
    metadataDir,
    rootFiles: versionedRoots(join(metadataDir, 'root_history')),
    metadataFile: (name) => plain(name) ?? plain(name.replace(/^[1-9][0-9]*\./, '')),
    targetFile: (stored, path) => {
      for (const p of [join(dir, 'targets', stored), join(dir, 'targets', path)]) if (fileExists(p)) return p;
      return undefined;
    },
    keyFiles: [],
    notes: [],
  };
  const latest = filesIn(metadataDir)('root.json');
  if (latest !== undefined) layout.latestRootFile = latest;
  if (isDir(join(dir, 'targets'))) layout.targetsDir = join(dir, 'targets');
  return layout;
}
