/**
 * The legacy go-tuf v0 CLI (`tuf init|gen-key|add|commit`): `repository/`
 * holds what is published (root.json, N.root.json with consistent snapshots,
 * targets.json, snapshot.json, timestamp.json, targets/), `staged/` what is
 * not committed yet, and `keys/ROLE.json` the private keys
 * (`{"encrypted": bool, "data": ...}`). Only `repository/` is imported;
 * staged changes are reported, never published by the import.
 */
import { join } from 'node:path';
import { filesIn, isDir, listDir, versionedRoots, type SourceKeyFile, type SourceLayout } from './source';

export function detectGoTufV0(dir: string): boolean {
  return isDir(join(dir, 'repository')) && (isDir(join(dir, 'keys')) || isDir(join(dir, 'staged')));
}

export function goTufV0Layout(dir: string): SourceLayout {
  const metadataDir = join(dir, 'repository');
  const notes: string[] = [];
  const staged = listDir(join(dir, 'staged')).filter((n) => n !== 'targets');
  const stagedTargets = listDir(join(dir, 'staged', 'targets'));
  if (staged.length > 0 || stagedTargets.length > 0) {
    notes.push(
      `staged/ holds uncommitted changes (${[...staged, ...stagedTargets.map((t) => `targets/${t}`)].join(', ')}): not imported; add them again with tufsign after the import`,
    );
  }
  const keyFiles: SourceKeyFile[] = listDir(join(dir, 'keys'))
    .filter((n) => n.endsWith('.json'))
    .map((n) => ({ name: n.slice(0, -'.json'.length), file: join(dir, 'keys', n), kind: 'go-tuf' as const }));
  const layout: SourceLayout = {
    format: 'go-tuf-v0',
    metadataDir,
    rootFiles: versionedRoots(metadataDir),
    metadataFile: filesIn(metadataDir),
    targetsDir: join(metadataDir, 'targets'),
    keyFiles,
    notes,
  };
  const latest = filesIn(metadataDir)('root.json');
  if (latest !== undefined) layout.latestRootFile = latest;
  return layout;
}
