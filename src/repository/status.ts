/**
 * `tufsign status`: every role's version, expiry, resign-by date, threshold, keys and signature state, derived
 * from the metadata — top-level roles and the delegated targets roles the snapshot lists — and the
 * `--check` verdict an alert (cron, systemd timer, CI) acts on.
 */
import { backendOfUri } from '../keystore/signer';
import type { Key } from '../tuf/key';
import { Metadata, TOP_LEVEL_ROLES, type Role, type Targets, type TopLevelRole } from '../tuf/metadata';
import { formatExpires, parseDuration } from '../tuf/time';
import { verificationResult } from '../tuf/verify';
import type { WorkspaceConfig } from './config';
import type { Workspace } from './workspace';

export interface StatusKey {
  keyid: string;
  owner: string | null;
  backend: string;
  uri: string | null;
  signed: boolean;
}

/** ok: outside its signing window · due: inside it (re-sign now) · expired: clients refuse it already */
export type RoleState = 'ok' | 'due' | 'expired';

export interface RoleStatus {
  role: string;
  /** the role that delegates to this one (delegated targets roles only) */
  delegatedBy?: string;
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

export interface RepositoryStatus {
  name: string;
  workspace: string;
  consistentSnapshot: boolean;
  at: string;
  roles: RoleStatus[];
}

const DAY = 86400;

/**
 * A role's signing window: configured, or half its expiry period capped at 30 days (root 365d → 30d,
 * targets 90d → 30d, snapshot 7d → 3.5d, timestamp 1d → 12h). Delegated roles use the targets setting.
 */
export function signingWindowSeconds(config: WorkspaceConfig, role: TopLevelRole): { seconds: number; text: string } {
  const configured = config.signingWindow?.[role];
  if (configured !== undefined) return { seconds: parseDuration(configured, `signing_window.${role}`), text: configured };
  const seconds = Math.min(Math.floor(parseDuration(config.expiry[role]) / 2), 30 * DAY);
  return { seconds, text: formatPeriod(seconds) };
}

export function formatPeriod(seconds: number): string {
  if (seconds % DAY === 0) return `${seconds / DAY}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function roleStatus(
  ws: Workspace,
  now: Date,
  name: string,
  windowRole: TopLevelRole,
  role: Role,
  keys: ReadonlyMap<string, Key>,
  md: Metadata,
  delegatedBy?: string,
): RoleStatus {
  const result = verificationResult(name, role, keys, md);
  const window = signingWindowSeconds(ws.config, windowRole);
  const expires = md.signed.expires.getTime();
  const secondsLeft = Math.floor((expires - now.getTime()) / 1000);
  const resignBy = new Date(expires - window.seconds * 1000);
  const state: RoleState = secondsLeft <= 0 ? 'expired' : now.getTime() >= resignBy.getTime() ? 'due' : 'ok';
  const status: RoleStatus = {
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
      const entry = ws.config.keys.get(keyid);
      return {
        keyid,
        owner: entry?.owner ?? null,
        backend: entry?.uri === undefined ? 'offline' : (backendOfUri(entry.uri) ?? 'unknown'),
        uri: entry?.uri ?? null,
        signed: result.signed.includes(keyid),
      };
    }),
  };
  if (delegatedBy !== undefined) status.delegatedBy = delegatedBy;
  return status;
}

/** Delegated targets roles listed in the snapshot, walked from top-level targets (explicit and hash-bin delegations). */
function delegatedStatuses(ws: Workspace, now: Date, targets: Metadata<Targets>, snapshotMeta: ReadonlyMap<string, { version: number }>, consistent: boolean): RoleStatus[] {
  const out: RoleStatus[] = [];
  const seen = new Set<string>(['targets']);
  const walk = (parent: string, md: Metadata<Targets>): void => {
    const d = md.signed.delegations;
    if (d === undefined) return;
    const children: { name: string; role: Role }[] = [];
    for (const r of d.roles ?? []) children.push({ name: r.name, role: r });
    const bins = d.succinctRoles;
    if (bins !== undefined) for (let i = 0; i < bins.numberOfBins; i++) children.push({ name: bins.roleName(i), role: bins });
    for (const child of children) {
      const meta = snapshotMeta.get(`${child.name}.json`);
      if (meta === undefined || seen.has(child.name)) continue;
      seen.add(child.name);
      const file = consistent ? `${meta.version}.${child.name}.json` : `${child.name}.json`;
      if (!ws.hasMetadataFile(file)) continue;
      const childMd = ws.readMetadataFile(file, 'targets');
      out.push(roleStatus(ws, now, child.name, 'targets', child.role, d.keys, childMd, parent));
      walk(child.name, childMd);
    }
  };
  walk('targets', targets);
  return out;
}

export function repositoryStatus(ws: Workspace, now: Date): RepositoryStatus {
  const repo = ws.load();
  const root = repo.root.signed;
  const mds = { root: repo.root, targets: repo.targets, snapshot: repo.snapshot, timestamp: repo.timestamp };
  const roles = TOP_LEVEL_ROLES.map((role) => roleStatus(ws, now, role, role, root.role(role), root.keys, mds[role]));
  roles.push(...delegatedStatuses(ws, now, repo.targets, repo.snapshot.signed.meta, root.consistentSnapshot === true));
  return { name: ws.config.name, workspace: ws.dir, consistentSnapshot: root.consistentSnapshot === true, at: formatExpires(now), roles };
}

export interface ExpiryCheck {
  ok: boolean;
  /** extra lead time before each role's resign-by date, in seconds */
  withinSeconds: number;
  /** roles that are expired, inside their signing window, or whose resign-by date is within the lead time */
  due: { role: string; state: 'expired' | 'due' | 'soon'; resignBy: string; expires: string }[];
}

/** The alert verdict: which roles (of `only`, if given) need re-signing now, or within `withinSeconds`. */
export function checkExpiry(status: RepositoryStatus, now: Date, within?: string, only?: readonly string[]): ExpiryCheck {
  const withinSeconds = within === undefined ? 0 : parseDuration(within, '--within');
  const due = status.roles
    .filter((r) => only === undefined || only.length === 0 || only.includes(r.role) || (r.delegatedBy !== undefined && only.includes('delegated')))
    .filter((r) => r.state !== 'ok' || Date.parse(r.resignBy) - now.getTime() <= withinSeconds * 1000)
    .map((r) => ({ role: r.role, state: r.state === 'ok' ? ('soon' as const) : r.state, resignBy: r.resignBy, expires: r.expires }));
  return { ok: due.length === 0, withinSeconds, due };
}
