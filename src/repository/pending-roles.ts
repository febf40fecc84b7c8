/**
 * A delegation made while the targets key is offline travels as a signing
 * request; the new delegated roles are already signed by their own (online)
 * keys and wait in metadata/, unreferenced. When the ceremony finalizes the
 * new targets, snapshot must list them: this finds their newest files and
 * re-checks each one before it is listed (its version, and the threshold of
 * the keys the NEW targets delegates it to): a file left or planted in
 * metadata/ since is refused, never published.
 */
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { fileExists, readFileBounded } from '../io/fs';
import { Metadata, MetaFile, type Snapshot, type Targets } from '../tuf/metadata';
import { verificationResult } from '../tuf/verify';
import { metadataFileName, type Workspace } from './workspace';

function checkWaiting(ws: Workspace, targets: Targets, name: string, version: number, consistent: boolean): void {
  const path = join(ws.metadataDir, metadataFileName(name, version, consistent));
  const file = ws.relative(path);
  const md = Metadata.fromBytes(readFileBounded(path), path, 'targets');
  if (md.signed.version !== version) {
    throw new TufsignError('ROLLBACK', `${file} has version ${md.signed.version}, not ${version}`, {
      file,
      rule: 'SPEC-31 a listed version is the version inside the file',
      suggestion: 'Remove the stray file, or redo the delegation change.',
    });
  }
  const d = targets.delegations;
  const role = d?.getRole(name);
  const result = role === undefined || d === undefined ? undefined : verificationResult(name, role, d.keys, md);
  if (result?.verified !== true) {
    throw new TufsignError(
      'SIGNATURE_INVALID',
      `${file} waits to be listed in snapshot, but it is not signed by ${result?.threshold ?? 'the'} of the keys targets v${targets.version} delegates ${name} to (${result?.signed.length ?? 0} valid)`,
      {
        file,
        rule: 'SPEC-24 a delegated role is trusted only under its delegation’s keys and threshold',
        suggestion: `Remove ${file} (and sign ${name} again with its delegated keys), then finalize again; nothing was written.`,
        details: { role: name, version },
      },
    );
  }
}

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
      checkWaiting(ws, targets, name, version, consistent);
      snapshot.meta.set(`${name}.json`, new MetaFile(version));
      listed.push(name);
    }
  }
  return listed;
}
