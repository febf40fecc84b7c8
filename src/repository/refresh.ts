/** `refresh`: the routine job, new snapshot and timestamp versions and expiries. */
import { cascadeSnapshotTimestamp, finish, startCascade } from './cascade';
import type { SigningContext } from './context';
import type { OperationResult } from './outcome';
import { preflightRoles } from './signing';
import type { Workspace } from './workspace';

/** Re-sign snapshot and timestamp with fresh versions and expiries (the routine job). */
export async function refresh(ws: Workspace, ctx: SigningContext): Promise<OperationResult> {
  const { c, repo } = startCascade(ws);
  await preflightRoles(ctx, c.root.signed, ['snapshot', 'timestamp'], ws.config);
  await cascadeSnapshotTimestamp(c, repo.snapshot, repo.timestamp, ctx);
  return finish(c, true);
}
