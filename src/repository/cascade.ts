/**
 * The update cascade shared by targets, sign and refresh: a changed role gets a new version and expiry, then
 * snapshot and timestamp follow; everything is staged in memory and committed by `finish` in one transaction.
 */
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { fileExists, readFileBounded } from '../io/fs';
import { hashHex, sha256Hex } from '../io/hash';
import { MetaFile, type Metadata, type Root, type Signed, type Snapshot, type Timestamp } from '../tuf/metadata';
import type { TopLevelRole } from '../tuf/metadata';
import type { Period } from '../tuf/time';
import { verificationResult } from '../tuf/verify';
import type { WorkspaceConfig } from './config';
import type { SigningContext } from './context';
import { expiryFor } from './expiry';
import { assertPublishableKeyids } from './keyid-gate';
import { deferredResult, outcome, type OperationResult, type RoleOutcome } from './outcome';
import { signWithAvailableKeys } from './signing';
import { commitFiles, type PendingFile } from './transaction';
import { metadataFileName, serializeMetadata, type Workspace } from './workspace';

export function metaFileFor(bytes: Uint8Array, version: number, withHashes: boolean): MetaFile {
  if (!withHashes) return new MetaFile(version);
  return new MetaFile(version, bytes.length, new Map([['sha256', sha256Hex(bytes)]]));
}

/**
 * Whether a metadata entry (timestamp's for snapshot, snapshot's for targets) still names `bytes`: its length and
 * every hash it lists match (a version-only entry names any bytes of that version). A hash algorithm this machine
 * cannot compute counts as a mismatch, so the entry is written afresh rather than left unchecked.
 */
export function namesBytes(meta: MetaFile, bytes: Uint8Array): boolean {
  if (meta.length !== undefined && meta.length !== bytes.length) return false;
  for (const [alg, digest] of meta.hashes ?? []) {
    try {
      if (hashHex(alg, bytes) !== digest) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Whether a metadata entry records the bytes of the file (length or hashes), not only its version. */
export function recordsBytes(meta: MetaFile | undefined): boolean {
  return meta !== undefined && (meta.length !== undefined || (meta.hashes?.size ?? 0) > 0);
}

export interface Cascade {
  ws: Workspace;
  root: Metadata<Root>;
  consistent: boolean;
  files: PendingFile[];
  outcomes: RoleOutcome[];
  staged: Metadata[];
}

export function stage(c: Cascade, md: Metadata, text: string | Uint8Array): string[] {
  const name = metadataFileName(md.signed.type, md.signed.version, c.consistent);
  const paths = [join(c.ws.metadataDir, name)];
  if (md.signed.type === 'root') paths.push(join(c.ws.metadataDir, 'root.json'));
  for (const p of paths) c.files.push({ path: p, data: text });
  c.staged.push(md);
  return paths.map((p) => c.ws.relative(p));
}

export async function resignRole(
  c: Cascade,
  md: Metadata,
  role: Exclude<TopLevelRole, 'root'>,
  ctx: SigningContext,
  text?: Uint8Array,
): Promise<Uint8Array> {
  const root = c.root.signed;
  await signWithAvailableKeys(md, root.role(role), root.keys, c.ws.config, ctx);
  const bytes = text ?? Buffer.from(serializeMetadata(md));
  const result = verificationResult(role, root.role(role), root.keys, md);
  c.outcomes.push(outcome(md, role, result, stage(c, md, bytes), c.ws.config));
  return bytes;
}

export function bump(signed: Signed, config: WorkspaceConfig, now: Date, expires?: Period): void {
  signed.version += 1;
  signed.expires = expiryFor(config, signed.type, now, expires);
}

/** New snapshot (listing `targetsVersion`) and timestamp, signed; returns nothing, stages files. */
export async function cascadeSnapshotTimestamp(
  c: Cascade,
  snapshotMd: Metadata<Snapshot>,
  timestampMd: Metadata<Timestamp>,
  ctx: SigningContext,
  targetsVersion?: number,
): Promise<void> {
  const snapshot = snapshotMd.signed;
  if (targetsVersion !== undefined) snapshot.meta.set('targets.json', new MetaFile(targetsVersion));
  bump(snapshot, c.ws.config, ctx.now);
  snapshotMd.clearSignatures();
  const snapshotBytes = await resignRole(c, snapshotMd, 'snapshot', ctx);
  const timestamp = timestampMd.signed;
  timestamp.snapshotMeta = metaFileFor(snapshotBytes, snapshot.version, true);
  bump(timestamp, c.ws.config, ctx.now);
  timestampMd.clearSignatures();
  await resignRole(c, timestampMd, 'timestamp', ctx);
}

export function finish(c: Cascade, requireComplete: boolean | 'defer'): OperationResult {
  assertPublishableKeyids(c.staged);
  const complete = c.outcomes.every((o) => o.complete);
  if (requireComplete === 'defer' && !complete) {
    const short = new Set(c.outcomes.filter((o) => !o.complete).map((o) => o.role));
    // nothing is written: the short roles go into the request, the others are signed again when it is finalized
    return {
      ...deferredResult(c.ws.dir, c.outcomes, [], short),
      pending: c.staged.filter((md) => short.has(md.signed.type)),
    };
  }
  if (requireComplete !== false && !complete) {
    const short = c.outcomes.filter((o) => !o.complete);
    throw new TufsignError(
      'THRESHOLD_NOT_MET',
      `not enough keys available here to sign ${short.map((o) => `${o.role} (${o.result.signed.length}/${o.result.threshold})`).join(', ')}; nothing was written`,
      {
        rule: 'SPEC-38 each role is signed by its threshold',
        suggestion: 'Configure the missing keys in tufsign.json, or collect the signatures with `tufsign ceremony`.',
        details: { roles: short.map((o) => ({ role: o.role, missing: o.missing })) },
      },
    );
  }
  commitFiles(c.files);
  return { workspace: c.ws.dir, roles: c.outcomes, complete, written: c.files.map((f) => c.ws.relative(f.path)) };
}

/**
 * `finish`, except when the run changed nothing: every staged file is byte-identical to the one already there (a
 * re-sign whose signatures were all present). Then nothing is rewritten, `written` is empty and each role is
 * marked `unchanged`, so the caller says there is nothing to sign or publish (ADR 0013).
 */
export function finishUnlessUnchanged(c: Cascade, requireComplete: boolean | 'defer'): OperationResult {
  const same = ({ path, data }: PendingFile): boolean =>
    (typeof data === 'string' || data instanceof Uint8Array) &&
    fileExists(path) &&
    Buffer.compare(readFileBounded(path), Buffer.from(data)) === 0;
  if (c.files.length === 0 || !c.outcomes.every((o) => o.complete) || !c.files.every(same))
    return finish(c, requireComplete);
  assertPublishableKeyids(c.staged);
  return {
    workspace: c.ws.dir,
    roles: c.outcomes.map((o) => ({ ...o, files: [], unchanged: true })),
    complete: true,
    written: [],
  };
}

export function startCascade(ws: Workspace): { c: Cascade; repo: ReturnType<Workspace['load']> } {
  const repo = ws.load();
  return {
    c: {
      ws,
      root: repo.root,
      consistent: repo.root.signed.consistentSnapshot === true,
      files: [],
      outcomes: [],
      staged: [],
    },
    repo,
  };
}
