/** `tufsign status`: every role's version, expiry, threshold, keys and signature state, derived from the metadata. */
import { backendLabel } from '../keystore/key-ref';
import { TOP_LEVEL_ROLES, type TopLevelRole } from '../tuf/metadata';
import { formatExpires, type Period } from '../tuf/time';
import { verificationResult } from '../tuf/verify';
import type { Key } from '../tuf/key';
import type { Metadata, Role } from '../tuf/metadata';
import type { WorkspaceConfig } from './config';
import { isNearLimit, sizeFinding, type SizeFinding } from '../verify/limits';
import { viewAttestation } from '../keystore/yubikey/claims';
import { offlineKeyFilesHere } from './key-availability';
import { delegatedExpiryPeriod } from './targets-publish';
import type { RoleRef } from '../tuf/paths';
import { TargetsTree, type RoleNode } from './targets-tree';
import { metadataFileName, serializeMetadata, type Workspace } from './workspace';

export interface StatusKey {
  keyid: string;
  owner: string | null;
  backend: string;
  uri: string | null;
  signed: boolean;
  /** a YubiKey attestation whose certificates agree with every claim, or claims only (never shown as attested) */
  attestation: 'attested' | 'unattested-claims' | null;
}

export interface RoleStatus {
  /** a top-level role, a delegated role, or `PREFIX-*` for hash bins (summarized: the earliest expiry, the fewest signatures) */
  role: string;
  /** delegated roles: the parent; hash bins: how many */
  parent?: string;
  bins?: number;
  version: number;
  expires: string;
  /** whole seconds until expiry; negative once expired */
  secondsLeft: number;
  daysLeft: number;
  expired: boolean;
  /** how long before expiry the role must be re-signed (tufsign.json `signing_window`, or the default) */
  signingWindow: string;
  /** expiry minus the signing window: re-sign before this moment */
  resignBy: string;
  state: RoleState;
  threshold: number;
  validSignatures: number;
  keys: StatusKey[];
}

/** ok: outside its signing window · due: inside it (re-sign now) · expired: clients refuse it already */
export type RoleState = 'ok' | 'due' | 'expired';

export interface RepositoryStatus {
  name: string;
  workspace: string;
  consistentSnapshot: boolean;
  at: string;
  roles: RoleStatus[];
  /** metadata files at or above 80% of a reference client's size limit */
  nearLimit: SizeFinding[];
  /** offline key files still on this machine (to be moved to their keyholders, ADR 0011) */
  offlineKeyFilesHere: { keyid: string; uri: string }[];
}

export function repositoryStatus(ws: Workspace, now: Date): RepositoryStatus {
  const repo = ws.load();
  const root = repo.root.signed;
  const mds = { root: repo.root, targets: repo.targets, snapshot: repo.snapshot, timestamp: repo.timestamp };
  const roles = TOP_LEVEL_ROLES.map((role) =>
    roleStatus(role, mds[role], root.role(role), root.keys, signingWindowSeconds(ws.config, role), ws.config, now),
  );
  const tree = new TargetsTree(ws, repo);
  const nearLimit: SizeFinding[] = [];
  const consistent = root.consistentSnapshot === true;
  for (const [role, md] of Object.entries(mds)) {
    const f = sizeFinding(
      `metadata/${metadataFileName(role, md.signed.version, consistent)}`,
      role,
      md.signed.type,
      Buffer.byteLength(serializeMetadata(md)),
    );
    if (isNearLimit(f)) nearLimit.push(f);
  }
  const binGroups = new Map<string, RoleStatus>();
  for (const node of tree.all().slice(1)) {
    const st = roleStatus(
      node.name,
      node.md,
      node.role,
      node.keys,
      delegatedSigningWindow(ws.config, node.name),
      ws.config,
      now,
    );
    st.parent = node.parent?.name ?? 'targets';
    const f = sizeFinding(
      `metadata/${metadataFileName(node.name, node.md.signed.version, consistent)}`,
      node.name,
      'targets',
      node.size ?? 0,
    );
    if (isNearLimit(f)) nearLimit.push(f);
    const prefix = binPrefix(node);
    if (prefix === undefined) {
      roles.push(st);
      continue;
    }
    const group = binGroups.get(prefix);
    if (group === undefined) {
      binGroups.set(prefix, { ...st, role: `${prefix}-*`, bins: 1 });
      continue;
    }
    group.bins = (group.bins ?? 0) + 1;
    group.version = Math.max(group.version, st.version);
    if (st.expires < group.expires)
      Object.assign(group, {
        expires: st.expires,
        secondsLeft: st.secondsLeft,
        daysLeft: st.daysLeft,
        expired: st.expired,
        resignBy: st.resignBy,
        state: st.state,
      });
    if (st.validSignatures < group.validSignatures)
      Object.assign(group, { validSignatures: st.validSignatures, keys: st.keys });
  }
  roles.push(...binGroups.values());
  return {
    name: ws.config.name,
    workspace: ws.dir,
    consistentSnapshot: root.consistentSnapshot === true,
    at: formatExpires(now),
    roles,
    nearLimit,
    offlineKeyFilesHere: offlineKeyFilesHere(ws),
  };
}

function binPrefix(node: RoleNode): string | undefined {
  const s = node.parent?.md.signed.delegations?.succinctRoles;
  return s !== undefined && s.isDelegatedRole(node.name) ? s.namePrefix : undefined;
}

const DAY = 86400;

/** A delegated role's signing window: half its expiry period (its own, its bins', else targets'), at most 30 days. */
export function delegatedSigningWindow(config: WorkspaceConfig, name: string): { seconds: number; text: string } {
  return defaultWindow(delegatedExpiryPeriod(config, name));
}

/** Half an expiry period, at most 30 days. */
function defaultWindow(period: Period): { seconds: number; text: string } {
  const seconds = Math.min(Math.floor(period.seconds / 2), 30 * DAY);
  return { seconds, text: formatPeriod(seconds) };
}

/**
 * A role's signing window: configured, or half its expiry period capped at 30 days (root 365d → 30d,
 * targets 90d → 30d, snapshot 7d → 3.5d, timestamp 1d → 12h). Delegated roles: half their expiry period.
 */
export function signingWindowSeconds(config: WorkspaceConfig, role: TopLevelRole): { seconds: number; text: string } {
  const configured = config.signingWindow?.[role];
  if (configured !== undefined) return { seconds: configured.seconds, text: configured.text };
  return defaultWindow(config.expiry[role]);
}

export function formatPeriod(seconds: number): string {
  if (seconds % DAY === 0) return `${seconds / DAY}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function roleStatus(
  name: string,
  md: Metadata,
  role: Role,
  keys: ReadonlyMap<string, Key>,
  window: { seconds: number; text: string },
  config: WorkspaceConfig,
  now: Date,
): RoleStatus {
  const result = verificationResult(name, role, keys, md);
  const expires = md.signed.expires.getTime();
  const secondsLeft = Math.floor((expires - now.getTime()) / 1000);
  const resignBy = new Date(expires - window.seconds * 1000);
  const state: RoleState = secondsLeft <= 0 ? 'expired' : now.getTime() >= resignBy.getTime() ? 'due' : 'ok';
  return {
    role: name,
    version: md.signed.version,
    expires: formatExpires(md.signed.expires),
    secondsLeft,
    daysLeft: Math.floor(secondsLeft / DAY),
    expired: state === 'expired',
    signingWindow: window.text,
    resignBy: formatExpires(resignBy),
    state,
    threshold: role.threshold,
    validSignatures: result.signed.length,
    keys: role.keyids.map((keyid) => {
      const entry = config.keys.get(keyid);
      return {
        keyid,
        owner: entry?.owner ?? null,
        backend: entry?.ref === undefined ? 'offline' : backendLabel(entry.ref),
        uri: entry?.ref?.uri ?? null,
        signed: result.signed.includes(keyid),
        attestation: viewAttestation(entry?.attestation)?.status ?? null,
      };
    }),
  };
}

export interface ExpiryCheck {
  ok: boolean;
  /** extra lead time before each role's resign-by date, in seconds */
  withinSeconds: number;
  /** roles that are expired, inside their signing window, or whose resign-by date is within the lead time */
  due: { role: string; state: 'expired' | 'due' | 'soon'; resignBy: string; expires: string }[];
}

/** The alert verdict: which roles (of `only`, if given) need re-signing now, or within `within`. */
export function checkExpiry(
  status: RepositoryStatus,
  now: Date,
  within?: Period,
  only?: readonly RoleRef[],
): ExpiryCheck {
  const withinSeconds = within?.seconds ?? 0;
  const wanted = new Set<string>(only);
  const due = status.roles
    .filter((r) => wanted.size === 0 || wanted.has(r.role) || (r.parent !== undefined && wanted.has('delegated')))
    .filter((r) => r.state !== 'ok' || Date.parse(r.resignBy) - now.getTime() <= withinSeconds * 1000)
    .map((r): ExpiryCheck['due'][number] => ({
      role: r.role,
      state: r.state === 'ok' ? ('soon' as const) : r.state,
      resignBy: r.resignBy,
      expires: r.expires,
    }));
  return { ok: due.length === 0, withinSeconds, due };
}
