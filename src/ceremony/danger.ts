/**
 * Changes a keyholder must not sign without noticing, computed from the
 * anchored diff (never from the organizer's description), and the refusals
 * checked at sign time before any secret is asked: an expiry in the past or
 * beyond the role's maximum, and a role the key is not authorised to sign by
 * the trusted root. Pure: the time and the policy are parameters.
 */
import { TufsignError } from '../errors';
import { isTopLevelRole, type Metadata, type Root, type TopLevelRole } from '../tuf/metadata';
import { formatExpires } from '../tuf/time';
import type { AnchoredRequest } from './anchor';
import type { RoleDiff } from './diff';
import { roleKind, type SigningRequest } from './request';

export type DangerKind =
  | 'threshold-lowered'
  | 'key-added'
  | 'key-removed'
  | 'role-gained'
  | 'role-lost'
  | 'consistent-snapshot-changed'
  | 'delegations-changed'
  | 'targets-removed'
  | 'targets-replaced'
  | 'expiry-beyond-policy'
  | 'basis-from-earlier-root';

export interface DangerousChange {
  kind: DangerKind;
  /** a top-level role, or a delegated targets role by name */
  role: string;
  message: string;
}

/** Longest allowed validity per role, in seconds. */
export type MaxExpiry = Record<TopLevelRole, number>;

const short = (keyid: string): string => `${keyid.slice(0, 12)}…`;

export function dangerousChanges(
  diffs: readonly RoleDiff[],
  trustedRoot: Root | undefined,
  now: Date,
  maxExpiry: MaxExpiry,
): DangerousChange[] {
  const out: DangerousChange[] = [];
  for (const d of diffs) {
    const add = (kind: DangerKind, message: string): void => void out.push({ kind, role: d.role, message });
    if (!d.initial) {
      for (const c of d.roleChanges ?? []) {
        if (c.thresholdFrom !== undefined && c.thresholdTo < c.thresholdFrom)
          add('threshold-lowered', `${c.role} threshold LOWERED ${c.thresholdFrom} → ${c.thresholdTo}`);
        for (const k of c.keysAdded)
          if (trustedRoot?.keys.has(k) === true)
            add('role-gained', `existing key ${short(k)} GAINS the ${c.role} role`);
        for (const k of c.keysRemoved)
          if (d.keysRemoved?.some((r) => r.keyid === k) !== true)
            add('role-lost', `key ${short(k)} LOSES the ${c.role} role`);
      }
      for (const k of d.keysAdded ?? [])
        add('key-added', `key ${short(k.keyid)} ADDED for ${k.roles.join(', ') || 'no role'}`);
      for (const k of d.keysRemoved ?? [])
        add('key-removed', `key ${short(k.keyid)} REMOVED (was ${k.roles.join(', ') || 'no role'})`);
      if (d.consistentSnapshot !== undefined)
        add(
          'consistent-snapshot-changed',
          `consistent_snapshot CHANGED ${consistentSnapshotText(d.consistentSnapshot.from)} → ${consistentSnapshotText(d.consistentSnapshot.to)}`,
        );
      for (const c of d.delegationChanges ?? []) add('delegations-changed', c.message);
      if (d.delegationsChanged === true && (d.delegationChanges ?? []).length === 0)
        add('delegations-changed', 'delegations CHANGED (fields tufsign does not interpret)');
      for (const t of d.targetsRemoved ?? []) add('targets-removed', `target REMOVED: ${t.path}`);
      for (const t of d.targetsChanged ?? []) add('targets-replaced', `target REPLACED: ${t.path}`);
    }
    // a delegated role is a targets role: the targets maximum holds for it
    const limit = maxExpiry[isTopLevelRole(d.role) ? d.role : 'targets'];
    const expires = Date.parse(d.expiresTo);
    if (Number.isFinite(expires) && expires - now.getTime() > limit * 1000) {
      add(
        'expiry-beyond-policy',
        `${d.role} expires ${d.expiresTo}, beyond the ${Math.round(limit / 86400)}-day maximum`,
      );
    }
  }
  return out;
}

/**
 * Refusals before a keyholder's secret is asked: each role to be signed must
 * not be expired and must not expire beyond its maximum.
 */
export function checkExpiryPolicy(req: SigningRequest, now: Date, maxExpiry: MaxExpiry, file?: string): void {
  req.roles.forEach((r, i) => {
    const md: Metadata = r.metadata;
    const path = `$.roles[${i}].metadata.signed.expires`;
    if (md.signed.isExpired(now)) {
      throw new TufsignError(
        'EXPIRY_TOO_SHORT',
        `${r.role} v${md.signed.version} expired at ${formatExpires(md.signed.expires)}`,
        { file, path, rule: 'SPEC-16/BAD-16 never sign expired metadata' },
      );
    }
    const limit = maxExpiry[roleKind(r)];
    if (md.signed.expires.getTime() - now.getTime() > limit * 1000) {
      throw new TufsignError(
        'EXPIRY_TOO_LONG',
        `${r.role} v${md.signed.version} expires ${formatExpires(md.signed.expires)}, more than ${Math.round(limit / 86400)} days from now`,
        {
          file,
          path,
          rule: `${r.role} expiry at most ${Math.round(limit / 86400)} days (max_expiry)`,
          suggestion:
            'Ask the organizer for a request with a shorter --expires, or raise max_expiry for this role in tufsign.json / the trust folder policy if that is really intended.',
        },
      );
    }
  });
}

/**
 * A key present in the trusted root may sign a non-root role only if the
 * trusted root already authorises it for that role: a new root cannot grant
 * itself the authority to have the same ceremony sign targets with a root key.
 * Keys new in this request (rotations) are governed by the new root.
 */
export function unauthorisedRoles(req: SigningRequest, keyid: string, roles: readonly string[]): string[] {
  const trusted = req.trustedRoot?.signed;
  if (trusted === undefined || !trusted.keys.has(keyid)) return [];
  // A delegated role's signers are named by its parent in the verified delegating chain, not by root.
  return roles.filter((role) => role !== 'root' && isTopLevelRole(role) && !trusted.role(role).keyids.includes(keyid));
}

/**
 * A basis vouched for by an earlier root (the trusted root rotated that role's keys since): the replaced keys
 * still decide what the diff is computed against, so the keyholder is told which root vouched for it.
 */
export function olderVoucherDangers(anchored: AnchoredRequest): DangerousChange[] {
  return (anchored.olderVouchers ?? []).map((o) => ({
    kind: 'basis-from-earlier-root',
    role: o.role,
    message: `${o.role} v${o.basisVersion} (what this change is compared against) is vouched for by the ${o.role} keys of root v${o.rootVersion}, which the trusted root REPLACED: the organizer should confirm it is the ${o.role} they published`,
  }));
}

/** A root's `consistent_snapshot` for people: a root without the field means false (TUF spec). */
export function consistentSnapshotText(value: boolean | undefined): string {
  return value === undefined ? '(unset, i.e. false)' : String(value);
}
