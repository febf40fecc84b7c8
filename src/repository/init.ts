/**
 * `init`: a new workspace with root, targets, snapshot and timestamp v1, signed with the keys here. When root or
 * targets v1 needs keyholders elsewhere, the config and keys are written and the metadata becomes a request.
 */
import { join, resolve } from 'node:path';
import { TufsignError } from '../errors';
import { ensureDir, isNonEmptyDir } from '../io/fs';
import { newObject } from '../tuf/json';
import { MetaFile, Metadata, Role, Root, Snapshot, Targets, Timestamp, TOP_LEVEL_ROLES } from '../tuf/metadata';
import type { TopLevelRole } from '../tuf/metadata';
import type { Period } from '../tuf/time';
import { checkThresholdReachable, parseThreshold } from '../tuf/threshold';
import { verificationResult } from '../tuf/verify';
import type { PublicKeyFile } from '../keystore/public-key-file';
import { assertKeyPolicy, type KeyPolicy } from '../keystore/yubikey/claims';
import { metaFileFor } from './cascade';
import { DEFAULT_EXPIRY, DEFAULT_MIN_VALIDITY, serializeConfig, type KeyEntry, type WorkspaceConfig } from './config';
import type { CeremonyContext, SigningContext } from './context';
import { expiryFor } from './expiry';
import type { RoleKeySpec } from './key-specs';
import { assertPublishableKeyids } from './keyid-gate';
import { deferredResult, outcome, type OperationResult, type RoleOutcome } from './outcome';
import { newRequest, writeRequest, type RequestWritten } from './requests';
import { plannedKeys, preflight, signWithAvailableKeys } from './signing';
import { commitFiles, type PendingFile } from './transaction';
import { metadataFileName, serializeMetadata, Workspace, METADATA_DIR, TARGETS_DIR } from './workspace';

export interface InitOptions {
  dir: string;
  name: string;
  consistentSnapshot: boolean;
  /** expiry periods chosen for this workspace (parsed by the CLI), else DEFAULT_EXPIRY */
  expiry: Partial<Record<TopLevelRole, Period>>;
  /** `threshold` is parsed at this entry (`parseThreshold`): a library caller may hand any number */
  roles: Record<TopLevelRole, { keys: RoleKeySpec[]; threshold: number }>;
  pkcs11Module?: string;
  /** e.g. "root keys must be attested YubiKey keys with touch always"; checked before anything is signed */
  rootKeyPolicy?: KeyPolicy;
  /** persist the policy in tufsign.json so later root rotations enforce it too (extra trusted CAs, PEM) */
  persistRootKeyPolicy?: { attestationRoots: string[] };
  /** extra files to write with the workspace (e.g. freshly generated key files), committed together */
  extraFiles?: { path: string; data: string | Uint8Array; mode?: number }[];
  /**
   * When root or targets v1 cannot reach its threshold here: write only the
   * config and key files, and return the metadata as `pending` (for a
   * signing request) instead of writing unsigned metadata.
   */
  deferIncomplete?: boolean;
}

export async function initRepository(options: InitOptions, ctx: SigningContext): Promise<OperationResult> {
  const dir = resolve(options.dir);
  if (Workspace.exists(dir)) {
    throw new TufsignError('WORKSPACE_EXISTS', `${dir} already holds a tufsign workspace`, {
      file: Workspace.configPath(dir),
      suggestion: 'Choose an empty directory.',
    });
  }
  if (isNonEmptyDir(join(dir, METADATA_DIR))) {
    throw new TufsignError('WORKSPACE_EXISTS', `${join(dir, METADATA_DIR)} is not empty`, {
      suggestion: 'Choose an empty directory.',
    });
  }
  const config: WorkspaceConfig = {
    name: options.name,
    expiry: { ...DEFAULT_EXPIRY },
    minValidity: { ...DEFAULT_MIN_VALIDITY },
    keys: new Map(),
    delegatedExpiry: new Map(),
    extra: newObject(),
  };
  if (options.pkcs11Module !== undefined) config.pkcs11Module = options.pkcs11Module;
  if (options.persistRootKeyPolicy !== undefined)
    config.rootKeyPolicy = {
      requireAttestedTouchAlways: true,
      attestationRoots: options.persistRootKeyPolicy.attestationRoots,
    };
  for (const [role, period] of Object.entries(options.expiry) as [TopLevelRole, Period][]) config.expiry[role] = period;
  if (options.rootKeyPolicy !== undefined) {
    for (const k of options.roles.root.keys) {
      const file: PublicKeyFile = { key: k.key, keyid: k.key.keyid() };
      if (k.ref !== undefined) file.uri = k.ref.uri;
      if (k.attestation !== undefined) file.attestation = k.attestation;
      assertKeyPolicy(file, options.rootKeyPolicy, ctx.now);
    }
  }

  const now = ctx.now;
  const root = new Root(1, expiryFor(config, 'root', now), new Map(), new Map(), options.consistentSnapshot);
  for (const role of TOP_LEVEL_ROLES) {
    const spec = options.roles[role];
    const distinct = new Map<string, RoleKeySpec>();
    for (const k of spec.keys) distinct.set(k.key.keyid(), k);
    // The library's entry: a caller's number is parsed here (the CLI hands over one it parsed from the flag).
    const threshold = parseThreshold(spec.threshold, `${role} threshold`);
    checkThresholdReachable(
      role,
      threshold,
      distinct.size,
      `Give ${role} at least ${threshold} keys or lower --${role}-threshold.`,
    );
    root.roles.set(role, new Role([], threshold));
    for (const [keyid, k] of distinct) {
      for (const [otherId, other] of root.keys) {
        if (otherId !== keyid && other.samePublicKey(k.key)) {
          throw new TufsignError('DUPLICATE_KEY', `the same public key appears under keyids ${otherId} and ${keyid}`, {
            rule: 'BAD-22 one public key, one keyid',
          });
        }
      }
      root.addKey(k.key, role);
      const entry: KeyEntry = { ...(config.keys.get(keyid) ?? {}) };
      if (k.ref !== undefined) entry.ref = k.ref;
      if (k.owner !== undefined) entry.owner = k.owner;
      if (k.attestation !== undefined) entry.attestation = k.attestation;
      if (k.offline === true) entry.offline = true;
      config.keys.set(keyid, entry);
    }
  }

  const targets = new Targets(1, expiryFor(config, 'targets', now));
  const rootMd = new Metadata(root);
  const targetsMd = new Metadata(targets);
  // Every device of the four roles is checked before the first PIN or touch (ADR 0004).
  await preflight(
    ctx,
    TOP_LEVEL_ROLES.flatMap((r) => plannedKeys(new Set(), root.role(r), root.keys, config, r)),
  );
  await signWithAvailableKeys(rootMd, root.role('root'), root.keys, config, ctx);
  await signWithAvailableKeys(targetsMd, root.role('targets'), root.keys, config, ctx);

  const snapshot = new Snapshot(1, expiryFor(config, 'snapshot', now), new Map([['targets.json', new MetaFile(1)]]));
  const snapshotMd = new Metadata(snapshot);
  await signWithAvailableKeys(snapshotMd, root.role('snapshot'), root.keys, config, ctx);
  const snapshotBytes = Buffer.from(serializeMetadata(snapshotMd));
  const timestampMd = new Metadata(
    new Timestamp(1, expiryFor(config, 'timestamp', now), metaFileFor(snapshotBytes, 1, true)),
  );
  await signWithAvailableKeys(timestampMd, root.role('timestamp'), root.keys, config, ctx);

  assertPublishableKeyids([rootMd, targetsMd]);
  const ws = new Workspace(dir, config);
  const consistent = options.consistentSnapshot;
  const files: PendingFile[] = [...(options.extraFiles ?? [])];
  const roles: RoleOutcome[] = [];
  for (const md of [rootMd, targetsMd, snapshotMd, timestampMd] as Metadata[]) {
    const role = md.signed.type;
    const name = metadataFileName(role, md.signed.version, consistent);
    const text = role === 'snapshot' ? snapshotBytes : serializeMetadata(md);
    const paths = [join(ws.metadataDir, name)];
    files.push({ path: join(ws.metadataDir, name), data: text });
    if (role === 'root') {
      files.push({ path: join(ws.metadataDir, 'root.json'), data: text });
      paths.push(join(ws.metadataDir, 'root.json'));
    }
    roles.push(
      outcome(
        md,
        role,
        verificationResult(role, root.role(role), root.keys, md),
        paths.map((p) => ws.relative(p)),
        config,
      ),
    );
  }
  files.push({ path: Workspace.configPath(dir), data: serializeConfig(config) });
  const complete = roles.every((r) => r.complete);
  if (options.deferIncomplete === true && !complete) {
    // Unsigned metadata is never written: config and keys now, metadata after the ceremony.
    const kept = files.filter((f) => !f.path.startsWith(ws.metadataDir + '/'));
    commitFiles(kept);
    ensureDir(join(dir, TARGETS_DIR));
    return {
      // root and targets go into the request; snapshot and timestamp v1 are made again when it is finalized
      ...deferredResult(
        dir,
        roles,
        kept.map((f) => ws.relative(f.path)),
        new Set(['root', 'targets']),
      ),
      pending: [rootMd, targetsMd, snapshotMd, timestampMd],
    };
  }
  commitFiles(files);
  ensureDir(join(dir, TARGETS_DIR));
  return { workspace: dir, roles, complete, written: files.map((f) => ws.relative(f.path)) };
}

/** After `init` deferred: the request for root v1 and targets v1 that the keyholders sign. */
export function requestForInit(
  dir: string,
  pending: Metadata[],
  out: string | undefined,
  ctx: Pick<CeremonyContext, 'now' | 'tool'>,
): RequestWritten {
  const ws = Workspace.open(dir);
  const mds = pending.filter((m) => m.signed.type === 'root' || m.signed.type === 'targets');
  const req = newRequest(ws, mds, { purpose: `new repository ${ws.config.name}: root v1 and targets v1` }, ctx);
  return writeRequest(ws, req, out, ctx);
}
