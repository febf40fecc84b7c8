/** Expiry periods and minimum validity from the workspace config. */
import { addSeconds, type Period } from '../tuf/time';
import type { TopLevelRole } from '../tuf/metadata';
import { DEFAULT_EXPIRY, type WorkspaceConfig } from './config';

export function expiryFor(
  config: Pick<WorkspaceConfig, 'expiry'>,
  role: TopLevelRole,
  now: Date,
  override?: Period,
): Date {
  if (override !== undefined) return addSeconds(now, override.seconds);
  const period = config.expiry[role] ?? DEFAULT_EXPIRY[role];
  return addSeconds(now, period.seconds);
}

export function minValiditySeconds(config: WorkspaceConfig): Partial<Record<TopLevelRole, number>> {
  const out: Partial<Record<TopLevelRole, number>> = {};
  for (const [role, period] of Object.entries(config.minValidity))
    if (period !== undefined) out[role as TopLevelRole] = period.seconds;
  return out;
}
