/**
 * A delegation made while the targets key is offline travels as a signing
 * request; the new delegated roles are already signed by their own (online)
 * keys and wait in metadata/, unreferenced. When the ceremony finalizes the
 * new targets, snapshot must list them: this finds their newest files.
 */
import { join } from 'node:path';
import { fileExists, readFileBounded } from '../io/fs';
import { Metadata, MetaFile, type Snapshot, type Targets } from '../tuf/metadata';
import { metadataFileName, type Workspace } from './workspace';

function delegatedNames(targets: Targets): string[] {
  const d = targets.delegations;
  if (d === undefined) return [];
  if (d.roles !== undefined) return d.roles.map((r) => r.name);
  const s = d.succinctRoles;
  return s === undefined ? [] : Array.from({ length: s.numberOfBins }, (_, i) => s.roleName(i));
}

/** Point `snapshot` at delegated roles of `targets` whose newer files wait in the workspace. */
export function listWaitingDelegatedRoles(
  ws: Workspace,
  targets: Targets,
  snapshot: Snapshot,
  consistent: boolean,
): string[] {
  const listed: string[] = [];
  for (const name of delegatedNames(targets)) {
    const known = snapshot.meta.get(`${name}.json`)?.version ?? 0;
    let version = known;
    if (consistent) {
      while (fileExists(join(ws.metadataDir, metadataFileName(name, version + 1, true)))) version += 1;
    } else {
      const path = join(ws.metadataDir, metadataFileName(name, 0, false));
      if (fileExists(path))
        version = Math.max(known, Metadata.fromBytes(readFileBounded(path), path, 'targets').signed.version);
    }
    if (version > known) {
      snapshot.meta.set(`${name}.json`, new MetaFile(version));
      listed.push(name);
    }
  }
  return listed;
}
