/**
 * Repository operations: init, sign, refresh, targets add/remove. Each one
 * computes and signs everything in memory first, then writes the files
 * (targets first, timestamp last), so a wrong passphrase or a missing key
 * leaves the workspace exactly as it was.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TufsignError } from '../errors';
import { fileExists, readFileBounded, writeFileAtomic } from '../io/fs';
import { BATCH_MIN_FILES, commitInBatches } from './commit-batch';
import { isJsonObject, newObject, parseJson, type JsonObject } from '../tuf/json';
import type { Key } from '../tuf/key';
import {
  HISTORY_PARSE,
  MetaFile,
  Metadata,
  Role,
  Root,
  Signature,
  Snapshot,
  TargetFile,
  Targets,
  Timestamp,
  TOP_LEVEL_ROLES,
  type Signed,
  type TopLevelRole,
} from '../tuf/metadata';
import { checkNoCollisions, checkTargetPath } from '../tuf/paths';
import { addSeconds, parseDuration } from '../tuf/time';
import { rootVerificationResult, verificationResult, type VerificationResult } from '../tuf/verify';
import type { Signer } from '../keystore/signer';
import type { PublicKeyFile } from '../keystore/public-key-file';
import { assertKeyPolicy, type KeyPolicy } from '../keystore/yubikey/attestation';
import { assertPublishableKeyids } from './keyid-gate';
import { DEFAULT_EXPIRY, DEFAULT_MIN_VALIDITY, serializeConfig, type KeyEntry, type WorkspaceConfig } from './config';
import {
  metadataFileName,
  serializeMetadata,
  targetFileNames,
  Workspace,
  METADATA_DIR,
  TARGETS_DIR,
} from './workspace';

export interface SigningContext {
  now: Date;
  /** Open (or reuse) a signer for `uri`, refusing a key other than `expectedKey`; `role` names what it signs (for messages). */
  openSigner(uri: string, expectedKey: Key, role?: string): Promise<Signer>;
  /** Progress for stderr. */
  progress?(message: string): void;
}

export interface MissingKey {
  keyid: string;
  owner?: string;
  uri?: string;
}

export interface RoleOutcome {
  /** a top-level role or a delegated targets role */
  role: string;
  version: number;
  expires: string;
  files: string[];
  result: VerificationResult;
  /** for root: the previous root's threshold too (absent for version 1) */
  previousResult?: VerificationResult;
  missing: MissingKey[];
  complete: boolean;
}

export interface OperationResult {
  workspace: string;
  roles: RoleOutcome[];
  complete: boolean;
  /** files written, relative to the workspace */
  written: string[];
  /**
   * With `deferIncomplete`: the metadata that could not reach its threshold
   * here (nothing was written); the caller turns it into a signing request.
   */
  pending?: Metadata[];
}

export interface PendingFile {
  path: string;
  data: string | Uint8Array;
  mode?: number;
}

/** Write all files, targets and keys first, metadata next, timestamp last; undo on failure. */
export function commitFiles(files: PendingFile[], onProgress?: (done: number, total: number) => void): void {
  const rank = (p: string): number => (p.endsWith('timestamp.json') ? 3 : p.includes(`/${METADATA_DIR}/`) ? 2 : 1);
  const ordered = [...files].sort((a, b) => rank(a.path) - rank(b.path));
  if (ordered.length >= BATCH_MIN_FILES) return commitInBatches(ordered, rank, onProgress);
  const created: string[] = [];
  try {
    for (const f of ordered) {
      const existed = fileExists(f.path);
      writeFileAtomic(f.path, f.data, f.mode);
      if (!existed) created.push(f.path);
    }
  } catch (e) {
    for (const p of created) {
      try {
        unlinkSync(p);
      } catch {
        // best effort
      }
    }
    throw e;
  }
}

export function expiryFor(
  config: Pick<WorkspaceConfig, 'expiry'>,
  role: TopLevelRole,
  now: Date,
  override?: string,
): Date {
  const period = override ?? config.expiry[role] ?? DEFAULT_EXPIRY[role];
  return addSeconds(now, parseDuration(period, `${role} expiry`));
}

export function metaFileFor(bytes: Uint8Array, version: number, withHashes: boolean): MetaFile {
  if (!withHashes) return new MetaFile(version);
  return new MetaFile(version, bytes.length, new Map([['sha256', createHash('sha256').update(bytes).digest('hex')]]));
}

function missingKeys(result: VerificationResult, keys: ReadonlyMap<string, KeyEntry>): MissingKey[] {
  return result.unsigned.map((keyid) => {
    const e = keys.get(keyid);
    const m: MissingKey = { keyid };
    if (e?.owner !== undefined) m.owner = e.owner;
    if (e?.uri !== undefined) m.uri = e.uri;
    return m;
  });
}

/**
 * Sign `md` for one role with the keys whose private part is reachable here,
 * until `thresholdTarget` distinct keys have signed. Keys without a URI are
 * left for a ceremony.
 */
export async function signWithAvailableKeys(
  md: Metadata,
  role: Role,
  keys: ReadonlyMap<string, Key>,
  config: Pick<WorkspaceConfig, 'keys'>,
  ctx: SigningContext,
  alsoCount?: (signedKeyids: Set<string>) => boolean,
  /** the role's name when it is not the metadata type (a delegated role) */
  roleName?: string,
): Promise<void> {
  const data = md.signedBytes();
  const signedBy = new Set<string>();
  for (const keyid of role.keyids) {
    const existing = md.signatures.get(keyid);
    const key = keys.get(keyid);
    if (existing !== undefined && key !== undefined && key.verify(existing.bytes(), data)) signedBy.add(keyid);
  }
  for (const keyid of role.keyids) {
    if (signedBy.size >= role.threshold && (alsoCount === undefined || alsoCount(signedBy))) break;
    if (signedBy.has(keyid)) continue;
    const key = keys.get(keyid);
    const uri = config.keys.get(keyid)?.uri;
    if (key === undefined || uri === undefined) continue;
    ctx.progress?.(`signing ${roleName ?? md.signed.type} v${md.signed.version} with ${uri}`);
    const signer = await ctx.openSigner(uri, key, roleName ?? md.signed.type);
    const { signature } = await signer.sign(data);
    // Verify against the key the role expects before the signature is kept (never trust the backend alone).
    if (!key.verify(signature, data)) {
      throw new TufsignError(
        'SIGNATURE_INVALID',
        `the signature from ${uri} does not verify with key ${keyid.slice(0, 16)}…`,
        {
          rule: 'every new signature is verified before it is saved',
        },
      );
    }
    md.addSignature(new Signature(keyid, Buffer.from(signature).toString('hex')));
    signedBy.add(keyid);
  }
}

/**
 * Open, before any long work, every signer `signWithAvailableKeys` will use for these roles (the same keys in
 * the same order, up to each threshold), so a missing or wrong secret fails the command at once. The signing
 * context caches opened signers: the later signing asks nothing again.
 */
export async function openSignersFor(
  root: Root,
  roles: readonly TopLevelRole[],
  config: Pick<WorkspaceConfig, 'keys'>,
  ctx: SigningContext,
): Promise<void> {
  for (const name of roles) {
    const role = root.role(name);
    let opened = 0;
    for (const keyid of role.keyids) {
      if (opened >= role.threshold) break;
      const key = root.keys.get(keyid);
      const uri = config.keys.get(keyid)?.uri;
      if (key === undefined || uri === undefined) continue;
      await ctx.openSigner(uri, key);
      opened++;
    }
  }
}

function outcome(
  md: Metadata,
  role: TopLevelRole,
  result: VerificationResult,
  files: string[],
  config: Pick<WorkspaceConfig, 'keys'>,
  previousResult?: VerificationResult,
): RoleOutcome {
  const missing = missingKeys(result, config.keys);
  if (previousResult !== undefined) {
    for (const m of missingKeys(previousResult, config.keys))
      if (!missing.some((x) => x.keyid === m.keyid)) missing.push(m);
  }
  const complete = result.verified && (previousResult?.verified ?? true);
  const out: RoleOutcome = {
    role,
    version: md.signed.version,
    expires: md.signed.toJSON()['expires'] as string,
    files,
    result,
    missing,
    complete,
  };
  if (previousResult !== undefined) out.previousResult = previousResult;
  return out;
}

// ------------------------------------------------------------------ init

export interface RoleKeySpec {
  key: Key;
  /** where the private part lives; absent for a public-only key */
  uri?: string;
  owner?: string;
  attestation?: JsonObject;
  /** an offline key: its file lives under offline-keys/ with a passphrase of its own (ADR 0011) */
  offline?: boolean;
}

export interface InitOptions {
  dir: string;
  name: string;
  consistentSnapshot: boolean;
  expiry: Partial<Record<TopLevelRole, string>>;
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
  if (fileExists(join(dir, METADATA_DIR)) && readdirSync(join(dir, METADATA_DIR)).length > 0) {
    throw new TufsignError('WORKSPACE_EXISTS', `${join(dir, METADATA_DIR)} is not empty`, {
      suggestion: 'Choose an empty directory.',
    });
  }
  const config: WorkspaceConfig = {
    name: options.name,
    expiry: { ...DEFAULT_EXPIRY, ...options.expiry },
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
  for (const p of Object.values(config.expiry)) parseDuration(p, 'expiry');
  if (options.rootKeyPolicy !== undefined) {
    for (const k of options.roles.root.keys) {
      const file: PublicKeyFile = { key: k.key, keyid: k.key.keyid() };
      if (k.attestation !== undefined) file.attestation = k.attestation;
      await assertKeyPolicy(file, options.rootKeyPolicy);
    }
  }

  const now = ctx.now;
  const root = new Root(1, expiryFor(config, 'root', now), new Map(), new Map(), options.consistentSnapshot);
  for (const role of TOP_LEVEL_ROLES) {
    const spec = options.roles[role];
    const distinct = new Map<string, RoleKeySpec>();
    for (const k of spec.keys) distinct.set(k.key.keyid(), k);
    if (!Number.isSafeInteger(spec.threshold) || spec.threshold < 1) {
      throw new TufsignError('THRESHOLD_INVALID', `${role} threshold must be a positive integer`, {
        rule: 'SPEC-10/BAD-24 threshold >= 1',
      });
    }
    if (spec.threshold > distinct.size) {
      throw new TufsignError(
        'THRESHOLD_INVALID',
        `${role} threshold ${spec.threshold} is more than its ${distinct.size} distinct key(s)`,
        {
          rule: 'BAD-25 threshold <= number of keys',
          suggestion: `Give ${role} at least ${spec.threshold} keys or lower --${role}-threshold.`,
        },
      );
    }
    root.roles.set(role, new Role([], spec.threshold));
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
      if (k.uri !== undefined) entry.uri = k.uri;
      if (k.owner !== undefined) entry.owner = k.owner;
      if (k.attestation !== undefined) entry.attestation = k.attestation;
      if (k.offline === true) entry.offline = true;
      config.keys.set(keyid, entry);
    }
  }

  const targets = new Targets(1, expiryFor(config, 'targets', now));
  const rootMd = new Metadata(root);
  const targetsMd = new Metadata(targets);
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
    mkdirSync(join(dir, TARGETS_DIR), { recursive: true });
    return {
      workspace: dir,
      roles,
      complete,
      written: kept.map((f) => ws.relative(f.path)),
      pending: [rootMd, targetsMd, snapshotMd, timestampMd],
    };
  }
  commitFiles(files);
  mkdirSync(join(dir, TARGETS_DIR), { recursive: true });
  return { workspace: dir, roles, complete, written: files.map((f) => ws.relative(f.path)) };
}

// ------------------------------------------------------------------ update cascade

interface Cascade {
  ws: Workspace;
  root: Metadata<Root>;
  consistent: boolean;
  files: PendingFile[];
  outcomes: RoleOutcome[];
  staged: Metadata[];
}

function stage(c: Cascade, md: Metadata, text: string | Uint8Array): string[] {
  const name = metadataFileName(md.signed.type, md.signed.version, c.consistent);
  const paths = [join(c.ws.metadataDir, name)];
  if (md.signed.type === 'root') paths.push(join(c.ws.metadataDir, 'root.json'));
  for (const p of paths) c.files.push({ path: p, data: text });
  c.staged.push(md);
  return paths.map((p) => c.ws.relative(p));
}

async function resignRole(
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

function bump(signed: Signed, config: WorkspaceConfig, now: Date, expires?: string): void {
  signed.version += 1;
  signed.expires = expiryFor(config, signed.type, now, expires);
}

/** New snapshot (listing `targetsVersion`) and timestamp, signed; returns nothing, stages files. */
async function cascadeSnapshotTimestamp(
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

function finish(c: Cascade, requireComplete: boolean | 'defer'): OperationResult {
  assertPublishableKeyids(c.staged);
  const complete = c.outcomes.every((o) => o.complete);
  if (requireComplete === 'defer' && !complete) {
    const short = new Set(c.outcomes.filter((o) => !o.complete).map((o) => o.role));
    return {
      workspace: c.ws.dir,
      roles: c.outcomes,
      complete,
      written: [],
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

function startCascade(ws: Workspace): { c: Cascade; repo: ReturnType<Workspace['load']> } {
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

// ------------------------------------------------------------------ targets

export interface TargetInput {
  /** the file on disk */
  file: string;
  /** TARGETPATH in metadata (default: the file's base name) */
  path: string;
  custom?: JsonObject;
}

export function parseCustomJson(text: string): JsonObject {
  const value = parseJson(text, '--custom');
  if (!isJsonObject(value))
    throw new TufsignError('METADATA_SCHEMA', '--custom must be a JSON object', {
      path: '$',
      rule: 'SPEC-21 custom is an object',
    });
  return value;
}

export async function addTargets(
  ws: Workspace,
  inputs: TargetInput[],
  ctx: SigningContext,
  options: { expires?: string; maxTargetBytes?: number } = {},
): Promise<OperationResult> {
  if (inputs.length === 0) throw new TufsignError('USAGE', 'no target files given', { rule: 'targets add FILE...' });
  for (const input of inputs) checkTargetPath(input.path);
  const prepared = inputs.map((input): PreparedTarget => {
    // One read per file: the hashes and the stored copy come from the same bytes (BAD-46).
    const data = readFileBounded(input.file, options.maxTargetBytes ?? 4 * 1024 * 1024 * 1024);
    return { path: input.path, data, targetFile: TargetFile.fromData(data, input.custom) };
  });
  return addPreparedTargets(ws, prepared, ctx, options);
}

/** A target whose bytes and TUF info are already computed (from a file, or built in memory by a release). */
export interface PreparedTarget {
  path: string;
  data: Uint8Array;
  targetFile: TargetFile;
}

/**
 * Register prepared targets, store their bytes, and re-sign targets → snapshot
 * → timestamp. With `deferIncomplete`, a targets threshold that needs absent
 * keys returns the unsigned metadata as `pending` and writes nothing.
 */
export async function addPreparedTargets(
  ws: Workspace,
  prepared: PreparedTarget[],
  ctx: SigningContext,
  options: { expires?: string; deferIncomplete?: boolean } = {},
): Promise<OperationResult> {
  const { c, repo } = startCascade(ws);
  const targets = repo.targets.signed;
  for (const p of prepared) checkTargetPath(p.path);
  const newPaths = prepared.map((p) => p.path);
  if (new Set(newPaths).size !== newPaths.length)
    throw new TufsignError('PATH_COLLISION', 'the same target path is given twice', {
      rule: 'BAD-04 unique target paths',
    });
  checkNoCollisions([...[...targets.targets.keys()].filter((p) => !newPaths.includes(p)), ...newPaths]);
  for (const p of prepared) {
    targets.targets.set(p.path, p.targetFile);
    for (const name of targetFileNames(p.path, p.targetFile.hashes, c.consistent))
      c.files.push({ path: join(ws.targetsDir, name), data: p.data });
    ctx.progress?.(`target ${p.path}: ${p.data.length} bytes, sha256 ${p.targetFile.hashes.get('sha256') ?? ''}`);
  }
  bump(targets, ws.config, ctx.now, options.expires);
  repo.targets.clearSignatures();
  await resignRole(c, repo.targets, 'targets', ctx);
  await cascadeSnapshotTimestamp(c, repo.snapshot, repo.timestamp, ctx, targets.version);
  return finish(c, options.deferIncomplete === true ? 'defer' : true);
}

/** The target files an operation would store (for a deferred release: they travel with the request). */
export function targetFilesOf(
  ws: Workspace,
  prepared: PreparedTarget[],
  consistent: boolean,
): { path: string; data: Uint8Array }[] {
  return prepared.flatMap((p) =>
    targetFileNames(p.path, p.targetFile.hashes, consistent).map((name) => ({
      path: join(ws.targetsDir, name),
      data: p.data,
    })),
  );
}

export async function removeTargets(ws: Workspace, paths: string[], ctx: SigningContext): Promise<OperationResult> {
  const { c, repo } = startCascade(ws);
  const targets = repo.targets.signed;
  for (const p of paths) {
    if (!targets.targets.has(p))
      throw new TufsignError('TARGET_NOT_FOUND', `no target ${JSON.stringify(p)} in targets metadata`, {
        path: p,
        rule: 'remove only listed targets',
      });
    targets.targets.delete(p);
  }
  bump(targets, ws.config, ctx.now);
  repo.targets.clearSignatures();
  await resignRole(c, repo.targets, 'targets', ctx);
  await cascadeSnapshotTimestamp(c, repo.snapshot, repo.timestamp, ctx, targets.version);
  // Target files stay on disk: clients holding the previous snapshot may still fetch them.
  return finish(c, true);
}

// ------------------------------------------------------------------ sign / refresh

export interface SignOptions {
  expires?: string;
  bump?: boolean;
  /** when the threshold needs keys that are not here: return `pending` instead of throwing (nothing is written) */
  deferIncomplete?: boolean;
}

/**
 * Re-sign a role. With `--bump` or `--expires`, the content changes: new
 * version and expiry, and everything that references the role is updated
 * (targets → snapshot → timestamp). Without them, only missing signatures
 * are added (same bytes, same version).
 */
export async function signRole(
  ws: Workspace,
  role: TopLevelRole,
  options: SignOptions,
  ctx: SigningContext,
): Promise<OperationResult> {
  const { c, repo } = startCascade(ws);
  const changes = options.bump === true || options.expires !== undefined;
  if (role === 'root') {
    const previous = repo.root;
    const next = changes ? new Metadata(Root.fromJSON(previous.signed.toJSON(), '$.signed', HISTORY_PARSE)) : previous;
    if (changes) bump(next.signed, ws.config, ctx.now, options.expires);
    // Refuse before any key is asked to sign: the new root could not be published anyway.
    assertPublishableKeyids([next]);
    const prevRoot = previous.signed;
    // A new root version must satisfy the previous root's threshold and its own (SPEC-14).
    await signWithAvailableKeys(next, prevRoot.role('root'), prevRoot.keys, ws.config, ctx);
    await signWithAvailableKeys(next, next.signed.role('root'), next.signed.keys, ws.config, ctx);
    const result = verificationResult('root', next.signed.role('root'), next.signed.keys, next);
    const prevResult =
      next.signed.version > 1
        ? rootVerificationResult(changes ? prevRoot : previousRootOf(ws, next), next).previous
        : undefined;
    c.outcomes.push(outcome(next, 'root', result, stage(c, next, serializeMetadata(next)), ws.config, prevResult));
    return finish(c, options.deferIncomplete === true ? 'defer' : true);
  }
  const mdFor = { targets: repo.targets, snapshot: repo.snapshot, timestamp: repo.timestamp }[role];
  if (changes) {
    bump(mdFor.signed, ws.config, ctx.now, options.expires);
    mdFor.clearSignatures();
  }
  await resignRole(c, mdFor, role, ctx);
  if (changes && role === 'targets')
    await cascadeSnapshotTimestamp(c, repo.snapshot, repo.timestamp, ctx, repo.targets.signed.version);
  if (changes && role === 'snapshot') {
    const snapshotBytes = Buffer.from(serializeMetadata(repo.snapshot));
    const ts = repo.timestamp.signed;
    ts.snapshotMeta = metaFileFor(snapshotBytes, repo.snapshot.signed.version, true);
    bump(ts, ws.config, ctx.now);
    repo.timestamp.clearSignatures();
    await resignRole(c, repo.timestamp, 'timestamp', ctx);
  }
  return finish(c, options.deferIncomplete === true ? 'defer' : true);
}

function previousRootOf(ws: Workspace, md: Metadata<Root>): Root {
  return md.signed.version > 1 ? ws.loadRoot(md.signed.version - 1).signed : md.signed;
}

/** Re-sign snapshot and timestamp with fresh versions and expiries (the routine job). */
export async function refresh(ws: Workspace, ctx: SigningContext): Promise<OperationResult> {
  const { c, repo } = startCascade(ws);
  await cascadeSnapshotTimestamp(c, repo.snapshot, repo.timestamp, ctx);
  return finish(c, true);
}
