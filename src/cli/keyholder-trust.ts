/**
 * `ceremony trust show | policy`: the keyholder's trust folder for one
 * repository (the pinned root and the expiry maxima this laptop enforces).
 * The folder is named by `--trust-dir`, else by the repository name under
 * TUFSIGN_TRUST_HOME or ~/.tufsign/trust.
 */
import { TufsignError } from '../errors';
import { parsePeriod, type Period } from '../tuf/time';
import {
  describeTrustFolder,
  trustDirFor,
  writeTrustPolicy,
  type TrustFolderView,
} from '../repository/keyholder-trust';
import type { TopLevelRole } from '../tuf/metadata';
import { isTopLevelRole, TOP_LEVEL_ROLES } from '../tuf/metadata';
import { trustOptions } from './ceremony';
import { table } from './render';
import { safeText } from './safe-text';

/** The trust folder a `ceremony trust` command works on. */
export function trustFolder(
  env: NodeJS.ProcessEnv,
  repository: string | undefined,
  trustDir: string | undefined,
): string {
  if (repository === undefined && trustDir === undefined)
    throw new TufsignError('USAGE', 'name the repository (as in the request) or the folder with --trust-dir', {
      rule: 'ceremony trust show|policy REPOSITORY, or --trust-dir DIR',
      suggestion: 'e.g. tufsign ceremony trust show demo',
    });
  return trustDirFor(repository ?? '', trustOptions(env, trustDir));
}

/** `--max-expiry root=365d` → { root: '365d' }; a role named twice or an unknown role is a usage error. */
export function parseMaxExpiryFlags(values: readonly string[]): Partial<Record<TopLevelRole, Period>> {
  const out: Partial<Record<TopLevelRole, Period>> = {};
  for (const v of values) {
    const m = /^([a-z]+)=(.+)$/.exec(v);
    const role = m?.[1];
    if (m === null || role === undefined || m[2] === undefined || !isTopLevelRole(role))
      throw new TufsignError(
        'USAGE',
        `--max-expiry ${v}: expected ROLE=PERIOD, ROLE one of root, targets, snapshot, timestamp`,
        {
          rule: '--max-expiry ROLE=PERIOD (e.g. root=365d)',
        },
      );
    if (out[role] !== undefined)
      throw new TufsignError('USAGE', `--max-expiry names ${role} twice`, { rule: 'one maximum per role' });
    out[role] = parsePeriod(m[2], `--max-expiry ${role}`);
  }
  return out;
}

export function renderTrustFolder(v: TrustFolderView): string {
  const lines = [`trust folder ${safeText(v.dir)}`];
  if (v.pinned === false)
    lines.push(
      'pinned root: none yet (the first request signed here is a FIRST CONTACT: compare its fingerprint with the organizer)',
    );
  else
    lines.push(
      `pinned root: v${v.pinned.version}, expires ${v.pinned.expires}`,
      `root fingerprint: ${v.pinned.rootFingerprint}`,
      `root keys (threshold ${v.pinned.threshold}): ${v.pinned.keyids.map((k) => `${k.slice(0, 12)}…`).join(', ')}`,
    );
  lines.push('longest expiry signed here (max_expiry):');
  lines.push(
    table(
      Object.entries(v.maxExpiry).map(([role, m]) => [
        `  ${role}`,
        m.period,
        m.source === 'default' ? '(default)' : '(policy.json)',
      ]),
    ),
  );
  return lines.join('\n');
}

/** `ceremony trust show`. */
export function showTrustFolder(
  env: NodeJS.ProcessEnv,
  repository: string | undefined,
  trustDir: string | undefined,
): TrustFolderView {
  return describeTrustFolder(trustFolder(env, repository, trustDir));
}

/** The roles `--reset` accepts. */
export const POLICY_ROLES: readonly TopLevelRole[] = TOP_LEVEL_ROLES;

/** `ceremony trust policy`: parse the flags once, then write policy.json. */
export function setTrustPolicy(
  env: NodeJS.ProcessEnv,
  repository: string | undefined,
  trustDir: string | undefined,
  maxExpiry: readonly string[],
  reset: readonly string[],
): TrustFolderView {
  const set = parseMaxExpiryFlags(maxExpiry);
  const roles = reset.filter(isTopLevelRole);
  if (Object.keys(set).length === 0 && roles.length === 0)
    throw new TufsignError('USAGE', 'nothing to change: give --max-expiry ROLE=PERIOD or --reset ROLE', {
      suggestion: 'See the policy in force with: tufsign ceremony trust show REPOSITORY',
    });
  return writeTrustPolicy(trustFolder(env, repository, trustDir), set, roles);
}
