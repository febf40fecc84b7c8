/**
 * A repository written with python-tuf's Metadata API (as in its
 * examples/manual_repo and examples/repository): `metadata/` with
 * `N.root.json` and the other roles as `ROLE.json` or, with consistent
 * snapshots, `N.ROLE.json`; target files in `targets/`, hash-prefixed when
 * consistent. Keys live wherever the user's signers are: public-only.
 */
import { join } from 'node:path';
import { filesIn, isDir, versionedRoots, type SourceLayout } from './source';

export function pythonTufMetadataDir(dir: string): string {
  return isDir(join(dir, 'metadata')) ? join(dir, 'metadata') : dir;
}

export function detectPythonTuf(dir: string): boolean {
  return versionedRoots(pythonTufMetadataDir(dir)).size > 0;
}

export function pythonTufLayout(dir: string): SourceLayout {
  const metadataDir = pythonTufMetadataDir(dir);
  const layout: SourceLayout = {
    format: 'python-tuf',
    metadataDir,
    rootFiles: versionedRoots(metadataDir),
    metadataFile: filesIn(metadataDir),
    keyFiles: [],
    notes: [],
  };
  const targets = join(metadataDir === dir ? join(dir, '..') : dir, 'targets');
  if (isDir(targets)) layout.targetsDir = targets;
  const latest = filesIn(metadataDir)('root.json');
  if (latest !== undefined) layout.latestRootFile = latest;
  return layout;
}
