/** Bundle collection: which workspace files an upload bundle carries since a base (packing is src/bundle's). */
import { join } from 'node:path';
import { fileExists, readFileBounded } from '../io/fs';
import { sha256Hex } from '../io/hash';
import { fileDigest } from '../io/tree';
import type { BundleItem } from '../bundle';
import type { Targets, TopLevelRole } from '../tuf/metadata';
import { rootFileName } from '../tuf/naming';
import { metadataFileName, targetFileNames, type Workspace } from './workspace';

/**
 * The files to upload since `base`: new root versions (and root.json), the
 * current targets/snapshot/timestamp (targets marked unchanged when it is, so
 * the bundle verifies on its own), and the target files that are new or
 * changed since the base targets.
 */
export function collectBundleFiles(
  ws: Workspace,
  base: Partial<Record<TopLevelRole, number>>,
  /** the targets before the change, when the caller holds it (needed without consistent snapshots) */
  knownBaseTargets?: Targets,
): (BundleItem & { new: boolean })[] {
  const repo = ws.load();
  const consistent = repo.root.signed.consistentSnapshot === true;
  const out: (BundleItem & { new: boolean })[] = [];
  const meta = (name: string, isNew: boolean): void => {
    const full = join(ws.metadataDir, name);
    if (fileExists(full)) out.push({ path: `metadata/${name}`, data: readFileBounded(full), new: isNew });
  };
  const rootV = repo.root.signed.version;
  for (let v = (base.root ?? 0) + 1; v <= rootV; v++) meta(rootFileName(v), true);
  if (rootV > (base.root ?? 0)) meta('root.json', true);
  meta(
    metadataFileName('targets', repo.targets.signed.version, consistent),
    repo.targets.signed.version > (base.targets ?? 0),
  );
  meta(
    metadataFileName('snapshot', repo.snapshot.signed.version, consistent),
    repo.snapshot.signed.version > (base.snapshot ?? 0),
  );
  meta('timestamp.json', true);
  for (const [name, m] of repo.snapshot.signed.meta) {
    if (name === 'targets.json') continue;
    meta(metadataFileName(name.slice(0, -'.json'.length), m.version, consistent), false);
  }
  let baseTargets: Targets | undefined = knownBaseTargets;
  const bt = base.targets;
  if (baseTargets !== undefined) {
    // given by the caller
  } else if (bt !== undefined && bt === repo.targets.signed.version) baseTargets = repo.targets.signed;
  else if (bt !== undefined && consistent && ws.hasMetadataFile(metadataFileName('targets', bt, true)))
    baseTargets = ws.readMetadataFile(metadataFileName('targets', bt, true), 'targets').signed;
  for (const [path, tf] of repo.targets.signed.targets) {
    const old = baseTargets?.targets.get(path);
    // Without the base targets (not consistent, overwritten) every target file goes in: a superset is safe.
    if (old !== undefined && JSON.stringify(old.toJSON()) === JSON.stringify(tf.toJSON())) continue;
    for (const name of targetFileNames(path, tf.hashes, consistent)) {
      const full = join(ws.targetsDir, name);
      // Hashed in pieces, never held: a bundle folder links the workspace's copy (ADR 0017) or copies it.
      const digest = fileDigest(full);
      if (digest !== undefined) out.push({ path: `targets/${name}`, source: full, ...digest, new: true });
    }
  }
  return out;
}

/** The root clients hold before a bundle (`base.root`), by version and sha256, when the workspace still has it. */
export function baseRootOf(
  ws: Workspace,
  base: Partial<Record<TopLevelRole, number>>,
): { baseRoot?: { version: number; sha256: string } } {
  const v = base.root;
  if (v === undefined) return {};
  const full = join(ws.metadataDir, rootFileName(v));
  return fileExists(full) ? { baseRoot: { version: v, sha256: sha256Hex(readFileBounded(full)) } } : {};
}
