/**
 * "What am I signing": the difference between each role in a request and the
 * trusted version it replaces — keys added and removed, threshold changes,
 * expiry, version, targets added/changed/removed with sizes and hashes.
 * Computed from the metadata itself, never from a description the organizer
 * wrote (tuf-on-ci: signers should only trust their local tool).
 */
import { diffDelegations, type DelegationChange } from './delegation-diff';
import { formatExpires } from '../tuf/time';
import {
  TOP_LEVEL_ROLES,
  type MetaFile,
  type Metadata,
  type Root,
  type Snapshot,
  type Targets,
  type Timestamp,
  type TopLevelRole,
  type TargetFile,
} from '../tuf/metadata';
import type { Keyholder, SigningRequest } from './request';

export interface KeyChange {
  keyid: string;
  scheme: string;
  /** top-level roles the key serves (in the root it appears in) */
  roles: TopLevelRole[];
  owner?: string;
}

export interface RoleMembershipChange {
  role: TopLevelRole;
  thresholdFrom?: number;
  thresholdTo: number;
  keysAdded: string[];
  keysRemoved: string[];
}

export interface TargetSummary {
  path: string;
  length: number;
  sha256: string;
}

export interface RoleDiff {
  /** a top-level role, or a delegated targets role by name */
  role: string;
  /** a delegated role: the role whose delegation (verified from the trusted root) names its keys */
  delegatedBy?: string;
  versionFrom?: number;
  versionTo: number;
  expiresFrom?: string;
  expiresTo: string;
  /** root: keys added to / removed from the key list */
  keysAdded?: KeyChange[];
  keysRemoved?: KeyChange[];
  /** root: roles whose threshold or key set changed */
  roleChanges?: RoleMembershipChange[];
  consistentSnapshot?: { from?: boolean; to?: boolean };
  /** targets */
  targetsAdded?: TargetSummary[];
  targetsChanged?: { path: string; from: TargetSummary; to: TargetSummary }[];
  targetsRemoved?: TargetSummary[];
  delegationsChanged?: boolean;
  /** targets: each change to its delegations (role added/removed, keys, threshold, path patterns, order, bins) */
  delegationChanges?: DelegationChange[];
  /** snapshot/timestamp: versions of the files they describe */
  metaChanges?: { file: string; from?: number; to?: number }[];
  /** the trusted version is absent: everything is new */
  initial: boolean;
}

function rolesOfKey(root: Root, keyid: string): TopLevelRole[] {
  return TOP_LEVEL_ROLES.filter((r) => root.role(r).keyids.includes(keyid));
}

function keyChange(root: Root, keyid: string, keyholders: ReadonlyMap<string, Keyholder>): KeyChange {
  const c: KeyChange = { keyid, scheme: root.keys.get(keyid)?.scheme ?? 'unknown', roles: rolesOfKey(root, keyid) };
  const owner = keyholders.get(keyid)?.owner;
  if (owner !== undefined) c.owner = owner;
  return c;
}

function summary(path: string, tf: TargetFile): TargetSummary {
  return { path, length: tf.length, sha256: tf.hashes.get('sha256') ?? [...tf.hashes.values()][0] ?? '' };
}

function sameTarget(a: TargetFile, b: TargetFile): boolean {
  return JSON.stringify(a.toJSON()) === JSON.stringify(b.toJSON());
}

export function diffRole(
  trusted: Metadata | undefined,
  next: Metadata,
  keyholders: ReadonlyMap<string, Keyholder> = new Map(),
  /** a delegated role's name (its metadata's type is `targets`) */
  name?: string,
): RoleDiff {
  const role = next.signed.type;
  const d: RoleDiff = {
    role: name ?? role,
    versionTo: next.signed.version,
    expiresTo: formatExpires(next.signed.expires),
    initial: trusted === undefined,
  };
  if (trusted !== undefined) {
    d.versionFrom = trusted.signed.version;
    d.expiresFrom = formatExpires(trusted.signed.expires);
  }
  if (role === 'root') {
    const to = next.signed;
    const from = trusted?.signed as Root | undefined;
    const fromKeys = new Set(from?.keys.keys() ?? []);
    d.keysAdded = [...to.keys.keys()].filter((k) => !fromKeys.has(k)).map((k) => keyChange(to, k, keyholders));
    d.keysRemoved =
      from === undefined
        ? []
        : [...from.keys.keys()].filter((k) => !to.keys.has(k)).map((k) => keyChange(from, k, keyholders));
    d.roleChanges = [];
    for (const r of TOP_LEVEL_ROLES) {
      const t = to.role(r);
      const f = from?.roles.get(r);
      const added = t.keyids.filter((k) => !(f?.keyids.includes(k) ?? false));
      const removed = (f?.keyids ?? []).filter((k) => !t.keyids.includes(k));
      if (f === undefined || f.threshold !== t.threshold || added.length > 0 || removed.length > 0) {
        const c: RoleMembershipChange = { role: r, thresholdTo: t.threshold, keysAdded: added, keysRemoved: removed };
        if (f !== undefined) c.thresholdFrom = f.threshold;
        d.roleChanges.push(c);
      }
    }
    if (from?.consistentSnapshot !== to.consistentSnapshot) {
      const cs: { from?: boolean; to?: boolean } = {};
      if (from?.consistentSnapshot !== undefined) cs.from = from.consistentSnapshot;
      if (to.consistentSnapshot !== undefined) cs.to = to.consistentSnapshot;
      d.consistentSnapshot = cs;
    }
  } else if (role === 'targets') {
    const to = next.signed;
    const from = trusted?.signed as Targets | undefined;
    const before = from?.targets ?? new Map<string, TargetFile>();
    d.targetsAdded = [...to.targets].filter(([p]) => !before.has(p)).map(([p, tf]) => summary(p, tf));
    d.targetsChanged = [];
    for (const [p, tf] of to.targets) {
      const old = before.get(p);
      if (old !== undefined && !sameTarget(old, tf))
        d.targetsChanged.push({ path: p, from: summary(p, old), to: summary(p, tf) });
    }
    d.targetsRemoved = [...before].filter(([p]) => !to.targets.has(p)).map(([p, tf]) => summary(p, tf));
    d.delegationChanges = diffDelegations(from?.delegations, to.delegations);
    d.delegationsChanged =
      d.delegationChanges.length > 0 ||
      JSON.stringify(from?.delegations?.toJSON() ?? null) !== JSON.stringify(to.delegations?.toJSON() ?? null);
  } else if (role === 'snapshot') {
    const to = next.signed.meta;
    const from: ReadonlyMap<string, MetaFile> =
      (trusted?.signed as Snapshot | undefined)?.meta ?? new Map<string, MetaFile>();
    d.metaChanges = [];
    for (const name of new Set([...from.keys(), ...to.keys()])) {
      const f = from.get(name)?.version;
      const t = to.get(name)?.version;
      if (f !== t)
        d.metaChanges.push({
          file: name,
          ...(f !== undefined ? { from: f } : {}),
          ...(t !== undefined ? { to: t } : {}),
        });
    }
  } else {
    const t = next.signed.snapshotMeta.version;
    const f = (trusted?.signed as Timestamp | undefined)?.snapshotMeta.version;
    d.metaChanges = f === t ? [] : [{ file: 'snapshot.json', ...(f !== undefined ? { from: f } : {}), to: t }];
  }
  return d;
}

/** The diff of every role in a request against what it replaces (root against the trusted root). */
export function diffRequest(req: SigningRequest): RoleDiff[] {
  return req.roles.map((r) => {
    const d = diffRole(r.role === 'root' ? req.trustedRoot : r.trusted, r.metadata, req.keyholders, r.role);
    if (r.delegatedBy !== undefined) d.delegatedBy = r.delegatedBy;
    return d;
  });
}
