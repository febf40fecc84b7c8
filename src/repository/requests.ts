/**
 * Signing-request storage and the requests made from a workspace: read and write request files (atomically,
 * never over another request), describe them, check that one belongs to this workspace, and make a new one
 * against the published state. The decisions are the pure state machine's in src/ceremony.
 */
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { viewAttestation } from '../keystore/yubikey/claims';
import { backendLabel, type ConfiguredKeyRef } from '../keystore/key-ref';
import { fileExists, readFileBounded, writeFileAtomic } from '../io/fs';
import {
  ceremonyId,
  createRequest,
  parseRequest,
  requestFingerprint,
  requestStatus,
  serializeRequest,
  signedSha256,
  REQUEST_SUFFIX,
  type Delegator,
  type Keyholder,
  type RequestStatus,
  type SigningRequest,
} from '../ceremony';
import { diffRequest, type RoleDiff } from '../ceremony/diff';
import { isTopLevelRole, type Metadata, type Root, type Targets, type TopLevelRole } from '../tuf/metadata';
import { rootFileName } from '../tuf/naming';
import type { KeyEntry, WorkspaceConfig } from './config';
import type { CeremonyContext } from './context';
import { minValiditySeconds } from './expiry';
import type { PendingDelegated } from './outcome';
import { assertPublishableKeyids } from './keyid-gate';
import { TargetsTree } from './targets-tree';
import type { LoadedRepository, Workspace } from './workspace';

export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

export function readRequestFile(path: string): SigningRequest {
  return parseRequest(readFileBounded(path, MAX_REQUEST_BYTES), path);
}

/** Atomic: a crash or Ctrl-C leaves the old file or the complete new one. */
export function writeRequestFile(path: string, req: SigningRequest): void {
  writeFileAtomic(path, serializeRequest(req));
}

function assertRequestPathFree(path: string): void {
  if (fileExists(path)) {
    throw new TufsignError('IO_ERROR', `${path} already exists; it may hold signatures already collected`, {
      file: path,
      rule: 'a new request never overwrites another',
      suggestion: 'Finish or remove that request, or choose another --request-out.',
    });
  }
}

function writeNewRequestFile(path: string, req: SigningRequest): void {
  assertRequestPathFree(path);
  writeRequestFile(path, req);
}

/**
 * Before a deferred change writes anything: the file its request will take (`out`, or the default name for the
 * roles that wait) must be free, so a taken name stops the change with nothing written.
 */
export function assertRequestWritable(
  ws: Workspace,
  out: string | undefined,
  pending: readonly Metadata[],
  pendingDelegated: readonly PendingDelegated[],
): void {
  const roles = [
    ...pending.map((metadata) => ({ role: metadata.signed.type, metadata })),
    ...pendingDelegated.map((d) => ({ role: d.name, metadata: d.metadata })),
  ];
  assertRequestPathFree(out ?? defaultRequestPath(ws.dir, { roles }));
}

// ------------------------------------------------------------------ workspace facts

/** The YubiKey serial a key reference names (undefined for other backends and for a YubiKey named by slot only). */
export function serialOfRef(ref: ConfiguredKeyRef | undefined): string | undefined {
  return ref?.backend === 'yubikey' && ref.serial !== undefined ? String(ref.serial) : undefined;
}

export function keyholderOf(entry: KeyEntry | undefined): Keyholder {
  const kh: Keyholder = {};
  if (entry === undefined) return kh;
  if (entry.owner !== undefined) kh.owner = entry.owner;
  // file: URIs are relative to the organizer's workspace; they mean nothing on a keyholder's laptop
  if (entry.ref !== undefined && backendLabel(entry.ref) !== 'file') kh.uri = entry.ref.uri;
  // Only an attested serial (or the URI's) names the device; claims are shown as unattested claims (ADR 0004).
  const view = viewAttestation(entry.attestation);
  const serial = view?.serial !== undefined ? String(view.serial) : serialOfRef(entry.ref);
  if (serial !== undefined) kh.serial = serial;
  if (view !== undefined) kh.attestation = view.summary;
  return kh;
}

/** The published state, or undefined for a workspace whose root v1 is still being signed. */
export function currentState(ws: Workspace): LoadedRepository | undefined {
  // Root and targets v1 may be on disk while snapshot/timestamp v1 still wait for their keyholders:
  // nothing is published until timestamp.json exists.
  return ws.latestRootVersion() === 0 || !ws.hasMetadataFile('timestamp.json') ? undefined : ws.load();
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
 * The published version of a targets role (top-level or delegated) by name, as snapshot lists it; undefined when
 * the repository publishes no such role. Loads only the roles on the way to it.
 */
export function publishedTargetsRoles(ws: Workspace, repo: LoadedRepository): (name: string) => Metadata | undefined {
  const tree = new TargetsTree(ws, repo);
  return (name) => {
    try {
      return tree.find(name).md;
    } catch (e) {
      if (e instanceof TufsignError && (e.code === 'ROLE_INVALID' || e.code === 'VERIFY_FAILED')) return undefined;
      throw e;
    }
  };
}

/**
 * A request belongs to this workspace when the repository name and the
 * trusted root match (BAD-64); with `stale`, the workspace must also still be
 * at the versions the request replaces.
 */
export function checkBelongs(
  ws: Workspace,
  req: SigningRequest,
  file: string,
  stale: boolean,
  /** finalize's metadata: a role already at exactly these bytes was written by an earlier, killed run of it */
  applied: readonly Metadata[] = [],
): void {
  const appliedEarlier = (role: string, onDisk: Metadata | undefined): boolean =>
    onDisk !== undefined &&
    applied.some(
      (m) =>
        (m.signed.type === role || (!isTopLevelRole(role) && m.signed.type === 'targets')) &&
        m.signed.version === onDisk.signed.version &&
        signedSha256(m) === signedSha256(onDisk),
    );
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
    if (!ws.hasMetadataFile(rootFileName(v)) || signedSha256(ws.loadRoot(v)) !== signedSha256(req.trustedRoot)) {
      throw new TufsignError('REQUEST_FOREIGN', `the request's trusted root v${v} is not this workspace's root v${v}`, {
        file,
        rule: 'BAD-64 a request checked against another root is refused',
      });
    }
  }
  if (!stale) return;
  const expectedRoot = req.trustedRoot?.signed.version ?? 0;
  if (latest !== expectedRoot && !(latest === expectedRoot + 1 && appliedEarlier('root', ws.loadRoot(latest)))) {
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
  const publishedRole = repo === undefined ? undefined : publishedTargetsRoles(ws, repo);
  for (const r of req.roles) {
    if (r.delegatedBy !== undefined && r.trusted === undefined && publishedRole?.(r.role) !== undefined)
      throw new TufsignError('REQUEST_STALE', `the request creates ${r.role}, which this workspace already publishes`, {
        file,
        rule: 'a request applies to the state it was made from',
      });
    if (r.role === 'root' || r.trusted === undefined) continue;
    const onDisk =
      r.delegatedBy !== undefined ? publishedRole?.(r.role) : isTopLevelRole(r.role) ? repo?.[r.role] : undefined;
    if (r.delegatedBy !== undefined && onDisk === undefined)
      throw new TufsignError('ROLE_INVALID', `the request replaces ${r.role}, a role this workspace does not publish`, {
        file,
        rule: 'a request changes roles of this workspace',
        suggestion: '`tufsign delegate list` shows the roles; make the request again from this workspace.',
      });
    const now = onDisk?.signed.version;
    if (now !== r.trusted.signed.version && !appliedEarlier(r.role, onDisk)) {
      throw new TufsignError(
        'REQUEST_STALE',
        `the workspace's ${r.role} is v${now ?? 'none'}, the request replaces v${r.trusted.signed.version}`,
        { file, rule: 'a request applies to the state it was made from' },
      );
    }
  }
}

export function defaultRequestPath(
  dir: string,
  req: { roles: readonly { role: string; metadata: { signed: { version: number } } }[] },
): string {
  return join(dir, req.roles.map((r) => `${r.role}-v${r.metadata.signed.version}`).join('-') + REQUEST_SUFFIX);
}

export interface NewRequestOptions {
  purpose: string;
  /** delegated roles to carry besides `mds` (top-level roles) */
  delegated?: readonly PendingDelegated[];
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
  const delegators: Delegator[] = [];
  for (const d of options.delegated ?? []) {
    for (const c of d.chain) if (!delegators.some((x) => x.role === c.role)) delegators.push(c);
    // a new role's parent is not in the chain: its new version travels in the same request
    const parentMd =
      d.chain.find((c) => c.role === d.delegatedBy)?.metadata ??
      options.delegated?.find((o) => o.name === d.delegatedBy)?.metadata ??
      mds.find((m) => d.delegatedBy === 'targets' && m.signed.type === 'targets');
    const parent = (parentMd?.signed as Targets | undefined)?.delegations;
    for (const k of parent?.getRole(d.name)?.keyids ?? []) keyids.add(k);
  }
  const keyholders = new Map<string, Keyholder>();
  for (const k of keyids) {
    const kh = { ...keyholderOf(ws.config.keys.get(k)), ...(options.extraKeyholders?.get(k) ?? {}) };
    if (Object.keys(kh).length > 0) keyholders.set(k, kh);
  }
  const input: Parameters<typeof createRequest>[0] = {
    repository: ws.config.name,
    purpose: options.purpose,
    base: options.base ?? baseOf(repo),
    roles: [
      ...mds.map((md) => {
        const trusted = repo === undefined || md.signed.type === 'root' ? undefined : repo[md.signed.type];
        return trusted === undefined ? { metadata: md } : { metadata: md, trusted };
      }),
      ...(options.delegated ?? []).map((d): (typeof input.roles)[number] => ({
        metadata: d.metadata,
        ...(d.trusted !== undefined ? { trusted: d.trusted } : {}),
        name: d.name,
        delegatedBy: d.delegatedBy,
      })),
    ],
    ...(delegators.length > 0 ? { delegators } : {}),
    keyholders,
    now: ctx.now,
    tool: ctx.tool,
  };
  // The root on disk governs a request without a root of its own, even before anything is published: the
  // snapshot/timestamp follow-up of a new repository whose root v1 was finalized but not yet timestamped.
  const trustedRoot =
    repo?.root ??
    (ws.latestRootVersion() > 0 && !mds.some((m) => m.signed.type === 'root') ? ws.loadRoot() : undefined);
  if (trustedRoot !== undefined) {
    input.trustedRoot = trustedRoot;
    // The chain a keyholder pinned at an older root walks to the trusted root (as far back as the workspace keeps it).
    const history: Metadata<Root>[] = [];
    for (let v = trustedRoot.signed.version - 1; v >= 1 && ws.hasMetadataFile(rootFileName(v)); v--)
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
