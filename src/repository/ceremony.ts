/**
 * Ceremonies against a workspace and files: start a request, sign one with a
 * key, merge copies, finalize into the workspace and emit the upload bundle.
 * The decisions are made by the pure state machine in src/ceremony; this
 * module reads and writes files (atomically) and drives the signers.
 */
import { isAbsolute, join, relative } from 'node:path';
import { TufsignError } from '../errors';
import { fileExists, readFileBounded, writeFileAtomic } from '../io/fs';
import type { Signer } from '../keystore/signer';
import { filePathOfUri } from '../keystore/file';
import { buildBundle, writeBundle, type ManifestFile, type WrittenBundle } from '../bundle';
import {
  ceremonyId,
  createRequest,
  finalizeRequest,
  mergeRequests,
  parseRequest,
  requestFingerprint,
  requestStatus,
  serializeRequest,
  signedSha256,
  REQUEST_SUFFIX,
  type Keyholder,
  type RequestStatus,
  type SigningRequest,
} from '../ceremony';
import { diffRequest, type RoleDiff } from '../ceremony/diff';
import type { JsonObject } from '../tuf/json';
import {
  HISTORY_PARSE,
  MetaFile,
  Metadata,
  Snapshot,
  Timestamp,
  TOP_LEVEL_ROLES,
  type Root,
  type Targets,
  type TopLevelRole,
} from '../tuf/metadata';
import { parseDuration } from '../tuf/time';
import { verificationResult } from '../tuf/verify';
import type { KeyEntry, WorkspaceConfig } from './config';
import { serializeConfig } from './config';
import {
  commitFiles,
  expiryFor,
  metaFileFor,
  signRole,
  signWithAvailableKeys,
  type OperationResult,
  type PendingFile,
  type SignOptions,
  type SigningContext,
} from './operations';
import {
  KEYS_DIR,
  metadataFileName,
  serializeMetadata,
  targetFileNames,
  Workspace,
  type LoadedRepository,
} from './workspace';
import { listWaitingDelegatedRoles } from './pending-roles';
import { assertPublishableKeyids } from './keyid-gate';

export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

export interface CeremonyContext extends SigningContext {
  /** `tufsign <version>`, recorded in transcripts */
  tool: string;
  /** open a signer when the key it holds is not known in advance (`ceremony sign --key URI`) */
  openAnySigner(uri: string): Promise<Signer>;
}

// ------------------------------------------------------------------ files

export function readRequestFile(path: string): SigningRequest {
  return parseRequest(readFileBounded(path, MAX_REQUEST_BYTES), path);
}

/** Atomic: a crash or Ctrl-C leaves the old file or the complete new one. */
export function writeRequestFile(path: string, req: SigningRequest): void {
  writeFileAtomic(path, serializeRequest(req));
}

function writeNewRequestFile(path: string, req: SigningRequest): void {
  if (fileExists(path)) {
    throw new TufsignError('IO_ERROR', `${path} already exists; it may hold signatures already collected`, {
      file: path,
      rule: 'a new request never overwrites another',
      suggestion: 'Finish or remove that request, or choose another --request-out.',
    });
  }
  writeRequestFile(path, req);
}

// ------------------------------------------------------------------ workspace facts

function attestationSummary(att: JsonObject | undefined): string | undefined {
  if (att === undefined) return undefined;
  const parts: string[] = [];
  const add = (label: string, v: unknown): void => {
    if (typeof v === 'string' || typeof v === 'number') parts.push(`${label} ${v}`);
  };
  add('', att['type']);
  add('serial', att['serial']);
  add('firmware', att['firmware']);
  add('slot', att['slot']);
  add('pin', att['pinPolicy']);
  add('touch', att['touchPolicy']);
  return parts.length === 0 ? undefined : parts.join(', ').trim();
}

export function serialOfUri(uri: string | undefined): string | undefined {
  const m = uri === undefined ? null : /^yubikey:(?:.*;)?serial=(\d+)/.exec(uri);
  return m?.[1];
}

export function keyholderOf(entry: KeyEntry | undefined): Keyholder {
  const kh: Keyholder = {};
  if (entry === undefined) return kh;
  if (entry.owner !== undefined) kh.owner = entry.owner;
  // file: URIs are relative to the organizer's workspace; they mean nothing on a keyholder's laptop
  if (entry.uri !== undefined && !entry.uri.startsWith('file:')) kh.uri = entry.uri;
  const s = entry.attestation?.['serial'];
  const serial = typeof s === 'number' || typeof s === 'string' ? String(s) : serialOfUri(entry.uri);
  if (serial !== undefined) kh.serial = serial;
  const att = attestationSummary(entry.attestation);
  if (att !== undefined) kh.attestation = att;
  return kh;
}

export function minValiditySeconds(config: WorkspaceConfig): Partial<Record<TopLevelRole, number>> {
  const out: Partial<Record<TopLevelRole, number>> = {};
  for (const [role, period] of Object.entries(config.minValidity))
    if (period !== undefined) out[role as TopLevelRole] = parseDuration(period, `min_validity.${role}`);
  return out;
}

/**
 * The config as this machine can use it for signing: a `file:` key whose file
 * is not here is treated like a key held elsewhere (left for the ceremony)
 * instead of failing the whole operation.
 */
export function presentKeysConfig(
  ws: Workspace,
  config: Pick<WorkspaceConfig, 'keys'> = ws.config,
): Pick<WorkspaceConfig, 'keys'> {
  const keys = new Map<string, KeyEntry>();
  for (const [keyid, e] of config.keys) {
    if (e.uri !== undefined && e.uri.startsWith('file:') && !fileExists(filePathOfUri(e.uri, ws.dir))) {
      const { uri: _absent, ...rest } = e;
      keys.set(keyid, rest);
    } else keys.set(keyid, e);
  }
  return { keys };
}

/** The published state, or undefined for a workspace whose root v1 is still being signed. */
export function currentState(ws: Workspace): LoadedRepository | undefined {
  return ws.latestRootVersion() === 0 ? undefined : ws.load();
}

function baseOf(repo: LoadedRepository | undefined): Partial<Record<TopLevelRole, number>> {
  if (repo === undefined) return {};
  return {
    root: repo.root.signed.version,
    targets: repo.targets.signed.version,
    snapshot: repo.snapshot.signed.version,
    timestamp: repo.timestamp.signed.version,
  };
}

/**
 * A request belongs to this workspace when the repository name and the
 * trusted root match (BAD-64); with `stale`, the workspace must also still be
 * at the versions the request replaces.
 */
export function checkBelongs(ws: Workspace, req: SigningRequest, file: string, stale: boolean): void {
  if (req.repository !== ws.config.name) {
    throw new TufsignError(
      'REQUEST_FOREIGN',
      `the request is for repository "${req.repository}", this workspace is "${ws.config.name}"`,
      { file, rule: 'BAD-64 a request from another repository is refused' },
    );
  }
  const latest = ws.latestRootVersion();
  if (req.trustedRoot !== undefined) {
    const v = req.trustedRoot.signed.version;
    if (!ws.hasMetadataFile(`${v}.root.json`) || signedSha256(ws.loadRoot(v)) !== signedSha256(req.trustedRoot)) {
      throw new TufsignError('REQUEST_FOREIGN', `the request's trusted root v${v} is not this workspace's root v${v}`, {
        file,
        rule: 'BAD-64 a request checked against another root is refused',
      });
    }
  }
  if (!stale) return;
  const expectedRoot = req.trustedRoot?.signed.version ?? 0;
  if (latest !== expectedRoot) {
    throw new TufsignError(
      'REQUEST_STALE',
      `the workspace is at root v${latest}, the request was made for root v${expectedRoot}`,
      {
        file,
        rule: 'a request applies to the state it was made from',
        suggestion: 'Make a new request from the current workspace.',
      },
    );
  }
  const repo = currentState(ws);
  for (const r of req.roles) {
    if (r.role === 'root' || r.trusted === undefined) continue;
    const now = repo?.[r.role].signed.version;
    if (now !== r.trusted.signed.version) {
      throw new TufsignError(
        'REQUEST_STALE',
        `the workspace's ${r.role} is v${now ?? 'none'}, the request replaces v${r.trusted.signed.version}`,
        { file, rule: 'a request applies to the state it was made from' },
      );
    }
  }
}

export function defaultRequestPath(dir: string, req: Pick<SigningRequest, 'roles'>): string {
  return join(dir, req.roles.map((r) => `${r.role}-v${r.metadata.signed.version}`).join('-') + REQUEST_SUFFIX);
}

export interface NewRequestOptions {
  purpose: string;
  /** keyholder facts for keys not yet in the workspace config (rotation) */
  extraKeyholders?: ReadonlyMap<string, Keyholder>;
  parent?: { ceremonyId: string; head: string };
  base?: Partial<Record<TopLevelRole, number>>;
}

/** A request for `mds` against the workspace's current published state. */
export function newRequest(
  ws: Workspace,
  mds: Metadata[],
  options: NewRequestOptions,
  ctx: Pick<CeremonyContext, 'now' | 'tool'>,
): SigningRequest {
  assertPublishableKeyids(mds);
  const repo = currentState(ws);
  const keyids = new Set<string>();
  for (const md of mds) if (md.signed.type === 'root') for (const k of md.signed.keys.keys()) keyids.add(k);
  for (const k of repo?.root.signed.keys.keys() ?? []) keyids.add(k);
  const keyholders = new Map<string, Keyholder>();
  for (const k of keyids) {
    const kh = { ...keyholderOf(ws.config.keys.get(k)), ...(options.extraKeyholders?.get(k) ?? {}) };
    if (Object.keys(kh).length > 0) keyholders.set(k, kh);
  }
  const input: Parameters<typeof createRequest>[0] = {
    repository: ws.config.name,
    purpose: options.purpose,
    base: options.base ?? baseOf(repo),
    roles: mds.map((md) => {
      const trusted = repo === undefined || md.signed.type === 'root' ? undefined : repo[md.signed.type];
      return trusted === undefined ? { metadata: md } : { metadata: md, trusted };
    }),
    keyholders,
    now: ctx.now,
    tool: ctx.tool,
  };
  if (repo !== undefined) {
    input.trustedRoot = repo.root;
    // The chain a keyholder pinned at an older root walks to the trusted root (as far back as the workspace keeps it).
    const history: Metadata<Root>[] = [];
    for (let v = repo.root.signed.version - 1; v >= 1 && ws.hasMetadataFile(`${v}.root.json`); v--)
      history.unshift(ws.loadRoot(v));
    input.rootHistory = history;
  }
  if (options.parent !== undefined) input.parent = options.parent;
  return createRequest(input);
}

export interface RequestWritten {
  request: string;
  fingerprint: string;
  ceremonyId: string;
  status: RequestStatus;
  diff: RoleDiff[];
}

export function describeRequest(
  path: string,
  req: SigningRequest,
  ctx: Pick<CeremonyContext, 'now'>,
  config?: WorkspaceConfig,
): RequestWritten {
  const status = requestStatus(req, ctx.now, config === undefined ? {} : { minValidity: minValiditySeconds(config) });
  return {
    request: path,
    fingerprint: requestFingerprint(req),
    ceremonyId: ceremonyId(req),
    status,
    diff: diffRequest(req),
  };
}

/** Write a new request (never over an existing file) and describe it. */
export function writeRequest(
  ws: Workspace,
  req: SigningRequest,
  out: string | undefined,
  ctx: Pick<CeremonyContext, 'now'>,
): RequestWritten {
  const path = out ?? defaultRequestPath(ws.dir, req);
  writeNewRequestFile(path, req);
  return describeRequest(path, req, ctx, ws.config);
}

// ------------------------------------------------------------------ start

export interface StartOptions {
  roles: TopLevelRole[];
  /** expiry period for the new versions (default: the config's per role) */
  expires?: string;
  purpose?: string;
  out?: string;
}

/**
 * `ceremony start`: the next version of each role (same content, new version
 * and expiry), signed with whatever keys are here, written as a request.
 */
export async function startCeremony(
  ws: Workspace,
  options: StartOptions,
  ctx: CeremonyContext,
): Promise<RequestWritten> {
  const repo = currentState(ws);
  if (repo === undefined)
    throw new TufsignError('WORKSPACE_NOT_FOUND', 'the workspace has no published root yet', {
      suggestion: 'Finalize the init request first.',
    });
  const roles = TOP_LEVEL_ROLES.filter((r) => options.roles.includes(r));
  if (roles.length === 0 || roles.some((r) => r === 'snapshot' || r === 'timestamp')) {
    throw new TufsignError('USAGE', 'a ceremony signs root and/or targets', {
      rule: '--role root|targets',
      suggestion: 'snapshot and timestamp are re-signed by finalize (or `tufsign refresh`).',
    });
  }
  const mds: Metadata[] = [];
  for (const role of roles) {
    const md = Metadata.fromJSON(repo[role].toJSON(), { expectedType: role, ...HISTORY_PARSE });
    md.clearSignatures();
    md.signed.version += 1;
    md.signed.expires = expiryFor(ws.config, role, ctx.now, options.expires);
    mds.push(md);
  }
  await signAvailable(repo.root, mds, presentKeysConfig(ws), ctx);
  const req = newRequest(
    ws,
    mds,
    { purpose: options.purpose ?? `re-sign ${roles.join(' and ')} (new version and expiry)` },
    ctx,
  );
  return writeRequest(ws, req, options.out, ctx);
}

/** Sign each metadata with the keys reachable here: root with the previous and the new root keys, others with the governing root's. */
export async function signAvailable(
  trustedRoot: Metadata<Root> | undefined,
  mds: Metadata[],
  config: Pick<WorkspaceConfig, 'keys'>,
  ctx: SigningContext,
): Promise<void> {
  const rootMd = mds.find((m) => m.signed.type === 'root') as Metadata<Root> | undefined;
  const governing = rootMd?.signed ?? trustedRoot?.signed;
  if (governing === undefined) throw new TufsignError('INTERNAL', 'no root to sign against');
  for (const md of mds) {
    const role = md.signed.type;
    if (role === 'root' && trustedRoot !== undefined)
      await signWithAvailableKeys(md, trustedRoot.signed.role('root'), trustedRoot.signed.keys, config, ctx);
    await signWithAvailableKeys(md, governing.role(role), governing.keys, config, ctx);
  }
}

// ------------------------------------------------------------------ sign

export interface SignReport {
  request: string;
  fingerprint: string;
  added: { role: TopLevelRole; keyid: string; uri: string }[];
  /** roles this key had already signed: nothing added */
  unchanged: { role: TopLevelRole; keyid: string; uri: string }[];
  status: RequestStatus;
}

// ------------------------------------------------------------------ status / merge

export function requestStatusFile(
  path: string,
  ws: Workspace | undefined,
  ctx: Pick<CeremonyContext, 'now'>,
): RequestWritten & { repository: string; purpose: string } {
  const req = readRequestFile(path);
  if (ws !== undefined) checkBelongs(ws, req, path, false);
  return { ...describeRequest(path, req, ctx, ws?.config), repository: req.repository, purpose: req.purpose };
}

export interface MergeReport {
  out: string;
  added: { from: string; role: TopLevelRole; keyid: string }[];
  fingerprint: string;
  status: RequestStatus;
}

export function mergeRequestFiles(
  paths: readonly string[],
  out: string,
  ctx: Pick<CeremonyContext, 'now' | 'tool'>,
): MergeReport {
  if (paths.length < 2)
    throw new TufsignError('USAGE', 'merge needs at least two request files', {
      rule: 'ceremony merge A B ... --request-out FILE',
    });
  const copies = paths.map((p) => ({ request: readRequestFile(p), label: p }));
  const merged = mergeRequests(copies, ctx);
  writeRequestFile(out, merged.request);
  return {
    out,
    added: merged.added,
    fingerprint: requestFingerprint(merged.request),
    status: requestStatus(merged.request, ctx.now),
  };
}

// ------------------------------------------------------------------ finalize

export interface FinalizeReport {
  workspace: string;
  ceremonyId: string;
  fingerprint: string;
  roles: { role: TopLevelRole; version: number; expires: string; signatures: number }[];
  written: string[];
  bundle?: WrittenBundle & { files: ManifestFile[] };
  /** snapshot/timestamp that could not be signed here: a further request */
  followUp?: RequestWritten;
}

export interface FinalizeOptions {
  /** the request file, for messages */
  file?: string;
  /** bundle folder, or one `.tar.gz` when the path ends so (ADR 0017) */
  bundleOut?: string;
  allowShortExpiry?: boolean;
  followUpOut?: string;
  /** keys the organizer named in this run (rotation applied at once): their entries are written as given */
  knownKeys?: ReadonlyMap<string, KeyEntry>;
}

/** A `file:` URI naming a file under this workspace's keys/ folder (no other URI is learned from a request). */
function isWorkspaceKeyFile(ws: Workspace, uri: string): boolean {
  if (!uri.startsWith('file:')) return false;
  let path: string;
  try {
    path = filePathOfUri(uri, ws.dir);
  } catch {
    return false;
  }
  const rel = relative(join(ws.dir, KEYS_DIR), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * Finalize a request into the workspace: check it (thresholds, versions,
 * expiry, that it belongs here), write the new metadata, re-sign snapshot
 * and timestamp with the keys here (or leave them as a follow-up request),
 * and emit the bundle. Everything is computed before anything is written.
 */
export async function finalizeIntoWorkspace(
  ws: Workspace,
  req: SigningRequest,
  options: FinalizeOptions,
  ctx: CeremonyContext,
): Promise<FinalizeReport> {
  const file = options.file ?? 'request';
  checkBelongs(ws, req, file, true);
  const outcome = finalizeRequest(
    req,
    {
      now: ctx.now,
      tool: ctx.tool,
      minValidity: minValiditySeconds(ws.config),
      ...(options.allowShortExpiry === true ? { allowShortExpiry: true } : {}),
    },
    file,
  );
  assertPublishableKeyids(outcome.metadata);
  const repo = currentState(ws);
  const byRole = new Map(outcome.metadata.map((m) => [m.signed.type, m]));
  const rootMd = (byRole.get('root') as Metadata<Root> | undefined) ?? repo?.root;
  if (rootMd === undefined)
    throw new TufsignError('REQUEST_INVALID', 'a request for a new repository must carry root v1', { file });
  const root = rootMd.signed;
  const consistent = root.consistentSnapshot === true;
  const files: PendingFile[] = [];
  const written = (md: Metadata, text: string): void => {
    files.push({
      path: join(ws.metadataDir, metadataFileName(md.signed.type, md.signed.version, consistent)),
      data: text,
    });
    if (md.signed.type === 'root') files.push({ path: join(ws.metadataDir, 'root.json'), data: text });
  };
  for (const md of outcome.metadata)
    if (md.signed.type !== 'snapshot' && md.signed.type !== 'timestamp') written(md, serializeMetadata(md));

  // New keys learn their owner label from the request, and a URI only when it names a key file in this
  // workspace's keys/ folder: the request may have come back on a stick, and a pkcs11:/yubikey: URI or a
  // path elsewhere written into tufsign.json would later be opened here (a module-path would load code).
  // Keys the organizer named in this same run (options.knownKeys) are taken as given.
  const config: WorkspaceConfig = { ...ws.config, keys: new Map(ws.config.keys) };
  let configChanged = false;
  for (const keyid of root.keys.keys()) {
    const kh = req.keyholders.get(keyid);
    const known = options.knownKeys?.get(keyid);
    if (config.keys.has(keyid) || (kh === undefined && known === undefined)) continue;
    const e: KeyEntry = { ...(kh?.owner !== undefined ? { owner: kh.owner } : {}), ...(known ?? {}) };
    if (known?.uri === undefined && kh?.uri !== undefined && isWorkspaceKeyFile(ws, kh.uri)) e.uri = kh.uri;
    if (Object.keys(e).length === 0) continue;
    config.keys.set(keyid, e);
    configChanged = true;
  }
  if (configChanged) files.push({ path: Workspace.configPath(ws.dir), data: serializeConfig(config) });

  // snapshot, then timestamp: from the request when it carries them, else the next version signed here
  const targetsVersion = (byRole.get('targets') ?? repo?.targets)?.signed.version ?? 1;
  let snapshotMd = byRole.get('snapshot') as Metadata<Snapshot> | undefined;
  let pending: Metadata | undefined;
  if (snapshotMd === undefined) {
    const s =
      repo === undefined ? new Snapshot(0, ctx.now) : Snapshot.fromJSON(repo.snapshot.signed.toJSON(), '$.signed');
    s.version += 1;
    s.expires = expiryFor(config, 'snapshot', ctx.now);
    s.meta.set('targets.json', new MetaFile(targetsVersion));
    // New delegated roles signed while targets waited for its keyholders (delegate add under an offline targets key).
    const targetsMd = byRole.get('targets') as Metadata<Targets> | undefined;
    if (targetsMd !== undefined) listWaitingDelegatedRoles(ws, targetsMd.signed, s, consistent);
    snapshotMd = new Metadata(s);
    await signWithAvailableKeys(snapshotMd, root.role('snapshot'), root.keys, presentKeysConfig(ws, config), ctx);
    if (!verificationResult('snapshot', root.role('snapshot'), root.keys, snapshotMd).verified) pending = snapshotMd;
  }
  let timestampMd = byRole.get('timestamp') as Metadata<Timestamp> | undefined;
  if (pending === undefined) {
    const snapshotText = serializeMetadata(snapshotMd);
    written(snapshotMd, snapshotText);
    if (timestampMd === undefined) {
      const t =
        repo === undefined ? new Timestamp(0, ctx.now) : Timestamp.fromJSON(repo.timestamp.signed.toJSON(), '$.signed');
      t.version += 1;
      t.expires = expiryFor(config, 'timestamp', ctx.now);
      t.snapshotMeta = metaFileFor(Buffer.from(snapshotText), snapshotMd.signed.version, true);
      timestampMd = new Metadata(t);
      await signWithAvailableKeys(timestampMd, root.role('timestamp'), root.keys, presentKeysConfig(ws, config), ctx);
      if (!verificationResult('timestamp', root.role('timestamp'), root.keys, timestampMd).verified)
        pending = timestampMd;
    }
    if (pending === undefined) written(timestampMd, serializeMetadata(timestampMd));
  }

  commitFiles(files);
  if (configChanged) ws.config = config;
  const report: FinalizeReport = {
    workspace: ws.dir,
    ceremonyId: ceremonyId(req),
    fingerprint: requestFingerprint(req),
    roles: outcome.metadata.map((m) => ({
      role: m.signed.type,
      version: m.signed.version,
      expires: m.signed.toJSON()['expires'] as string,
      signatures: m.signatures.size,
    })),
    written: files.map((f) => ws.relative(f.path)),
  };
  if (pending !== undefined) {
    // Published so far: root/targets. The rest is a further request that carries the original base forward.
    const head = outcome.request.transcript[outcome.request.transcript.length - 1]?.hash ?? '';
    const follow = newRequest(
      ws,
      [pending],
      {
        purpose: `${req.purpose} (follow-up: ${pending.signed.type})`,
        parent: { ceremonyId: ceremonyId(req), head },
        base: { ...req.base },
      },
      ctx,
    );
    report.followUp = writeRequest(ws, follow, options.followUpOut, ctx);
    return report;
  }
  if (options.bundleOut !== undefined) {
    const bundleFiles = collectBundleFiles(ws, req.base);
    const { manifest, entries } = buildBundle({
      repository: ws.config.name,
      ceremonyId: ceremonyId(req),
      fingerprint: requestFingerprint(req),
      base: req.base,
      files: bundleFiles,
      transcript: outcome.request.transcript,
    });
    report.bundle = { ...writeBundle(options.bundleOut, entries), files: manifest.files };
  }
  return report;
}

export async function finalizeRequestFile(
  ws: Workspace,
  path: string,
  options: Omit<FinalizeOptions, 'file'>,
  ctx: CeremonyContext,
): Promise<FinalizeReport> {
  return finalizeIntoWorkspace(ws, readRequestFile(path), { ...options, file: path }, ctx);
}

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
): { path: string; data: Uint8Array; new: boolean; source?: string }[] {
  const repo = ws.load();
  const consistent = repo.root.signed.consistentSnapshot === true;
  const out: { path: string; data: Uint8Array; new: boolean; source?: string }[] = [];
  const meta = (name: string, isNew: boolean): void => {
    const full = join(ws.metadataDir, name);
    if (fileExists(full)) out.push({ path: `metadata/${name}`, data: readFileBounded(full), new: isNew });
  };
  const rootV = repo.root.signed.version;
  for (let v = (base.root ?? 0) + 1; v <= rootV; v++) meta(`${v}.root.json`, true);
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
      if (fileExists(full))
        out.push({
          path: `targets/${name}`,
          data: readFileBounded(full, 4 * 1024 * 1024 * 1024),
          new: true,
          source: full, // a bundle folder links the workspace's copy (ADR 0017)
        });
    }
  }
  return out;
}

/** When a request is complete already (every key was here), apply it at once; otherwise write it. */
export async function applyOrRequest(
  ws: Workspace,
  req: SigningRequest,
  options: { out?: string; bundleOut?: string; allowShortExpiry?: boolean; knownKeys?: ReadonlyMap<string, KeyEntry> },
  ctx: CeremonyContext,
): Promise<{ applied?: FinalizeReport; request?: RequestWritten }> {
  const status = requestStatus(req, ctx.now, {
    minValidity: minValiditySeconds(ws.config),
    ...(options.allowShortExpiry === true ? { allowShortExpiry: true } : {}),
  });
  if (status.canFinalize) {
    const fo: FinalizeOptions = { file: 'request' };
    if (options.bundleOut !== undefined) fo.bundleOut = options.bundleOut;
    if (options.allowShortExpiry === true) fo.allowShortExpiry = true;
    if (options.knownKeys !== undefined) fo.knownKeys = options.knownKeys;
    return { applied: await finalizeIntoWorkspace(ws, req, fo, ctx) };
  }
  return { request: writeRequest(ws, req, options.out, ctx) };
}

// ------------------------------------------------------------------ init / sign that need absent keys

export interface PendingReport {
  result: OperationResult;
  request?: RequestWritten;
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

/** `sign ROLE` when its threshold needs keys that are not here: nothing is written but a request. */
export async function signRoleOrRequest(
  ws: Workspace,
  role: TopLevelRole,
  options: SignOptions,
  out: string | undefined,
  ctx: CeremonyContext,
): Promise<PendingReport> {
  const here = new Workspace(ws.dir, { ...ws.config, keys: presentKeysConfig(ws).keys });
  const result = await signRole(here, role, { ...options, deferIncomplete: true }, ctx);
  if (result.pending === undefined || result.pending.length === 0) return { result };
  const changes = options.bump === true || options.expires !== undefined;
  if (!changes) {
    throw new TufsignError(
      'THRESHOLD_NOT_MET',
      `${role} v${result.pending[0]?.signed.version ?? '?'} needs signatures from keys that are not here`,
      {
        rule: 'SPEC-11 threshold of distinct keys',
        suggestion: `Start a ceremony for a new version: tufsign ceremony start --role ${role} (or sign ${role} --bump).`,
      },
    );
  }
  const req = newRequest(
    ws,
    result.pending,
    { purpose: `sign ${role}: new version v${result.pending[0]?.signed.version ?? '?'}` },
    ctx,
  );
  return { result, request: writeRequest(ws, req, out, ctx) };
}
