/**
 * What a targets change does to its delegations, one line per fact, so a
 * keyholder sees exactly which role gains paths, keys or a lower threshold
 * (a delegation is authority over target paths: it is shouted, never summed
 * up as "delegations changed"). Pure; names and patterns are escaped where
 * they are rendered.
 */
import type { DelegatedRole, Delegations, SuccinctRoles } from '../tuf/metadata';

export type DelegationChangeKind =
  | 'delegation-added'
  | 'delegation-removed'
  | 'delegation-keys-changed'
  | 'delegation-threshold-lowered'
  | 'delegation-threshold-raised'
  | 'delegation-paths-changed'
  | 'delegation-terminating-changed'
  | 'delegation-order-changed'
  | 'bins-changed';

export interface DelegationChange {
  kind: DelegationChangeKind;
  /** the delegated role (or bin prefix) concerned */
  name: string;
  message: string;
}

const short = (keyid: string): string => `${keyid.slice(0, 12)}…`;
const list = (xs: readonly string[] | undefined): string => (xs === undefined ? '(none)' : xs.join(', ') || '(none)');

function patternsOf(r: DelegatedRole): string {
  return r.paths !== undefined ? `paths ${list(r.paths)}` : `hash prefixes ${list(r.pathHashPrefixes)}`;
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function roleChanges(from: DelegatedRole, to: DelegatedRole, out: DelegationChange[]): void {
  const name = to.name;
  const added = to.keyids.filter((k) => !from.keyids.includes(k));
  const removed = from.keyids.filter((k) => !to.keyids.includes(k));
  if (added.length > 0 || removed.length > 0)
    out.push({
      kind: 'delegation-keys-changed',
      name,
      message: `delegated role "${name}" keys CHANGED: ${[...added.map((k) => `+ ${short(k)}`), ...removed.map((k) => `- ${short(k)}`)].join(', ')}`,
    });
  if (to.threshold < from.threshold)
    out.push({
      kind: 'delegation-threshold-lowered',
      name,
      message: `delegated role "${name}" threshold LOWERED ${from.threshold} → ${to.threshold}`,
    });
  else if (to.threshold > from.threshold)
    out.push({
      kind: 'delegation-threshold-raised',
      name,
      message: `delegated role "${name}" threshold raised ${from.threshold} → ${to.threshold}`,
    });
  if (!sameList(from.paths, to.paths) || !sameList(from.pathHashPrefixes, to.pathHashPrefixes))
    out.push({
      kind: 'delegation-paths-changed',
      name,
      message: `delegated role "${name}" path patterns CHANGED: ${patternsOf(from)} → ${patternsOf(to)}`,
    });
  if (from.terminating !== to.terminating)
    out.push({
      kind: 'delegation-terminating-changed',
      name,
      message: `delegated role "${name}" terminating ${String(from.terminating)} → ${String(to.terminating)}`,
    });
}

function binsChanges(from: SuccinctRoles | undefined, to: SuccinctRoles | undefined, out: DelegationChange[]): void {
  if (from === undefined && to === undefined) return;
  const describe = (s: SuccinctRoles | undefined): string =>
    s === undefined
      ? '(none)'
      : `${s.numberOfBins} bins "${s.namePrefix}-…", threshold ${s.threshold}, keys ${list(s.keyids.map(short))}`;
  if (JSON.stringify(from?.toJSON() ?? null) !== JSON.stringify(to?.toJSON() ?? null))
    out.push({
      kind: 'bins-changed',
      name: to?.namePrefix ?? from?.namePrefix ?? '',
      message: `hash bins CHANGED: ${describe(from)} → ${describe(to)}`,
    });
}

/** Every change between two `delegations` blocks of the same targets role. */
export function diffDelegations(from: Delegations | undefined, to: Delegations | undefined): DelegationChange[] {
  const out: DelegationChange[] = [];
  const before = from?.roles ?? [];
  const after = to?.roles ?? [];
  for (const r of after) {
    const old = before.find((b) => b.name === r.name);
    if (old === undefined)
      out.push({
        kind: 'delegation-added',
        name: r.name,
        message: `delegation ADDED: "${r.name}" for ${patternsOf(r)}, threshold ${r.threshold} of ${list(r.keyids.map(short))}${r.terminating ? ', terminating' : ''}`,
      });
    else roleChanges(old, r, out);
  }
  for (const r of before)
    if (!after.some((a) => a.name === r.name))
      out.push({
        kind: 'delegation-removed',
        name: r.name,
        message: `delegation REMOVED: "${r.name}" (${patternsOf(r)})`,
      });
  const kept = after.map((r) => r.name).filter((n) => before.some((b) => b.name === n));
  const keptBefore = before.map((r) => r.name).filter((n) => kept.includes(n));
  if (JSON.stringify(kept) !== JSON.stringify(keptBefore))
    out.push({
      kind: 'delegation-order-changed',
      name: '',
      message: `delegation ORDER changed (clients search roles in order): ${keptBefore.join(', ')} → ${kept.join(', ')}`,
    });
  binsChanges(from?.succinctRoles, to?.succinctRoles, out);
  return out;
}
