/** CLI side of `sign ROLE` for a delegated role and of `refresh` (delegated roles included). */
import { refreshAll, signDelegated, type RefreshResult } from '../repository/delegated-sign';
import type { OperationResult } from '../repository/outcome';
import { Workspace } from '../repository/workspace';
import type { RunContext } from './context';

export async function runSignDelegated(
  run: RunContext,
  input: { workspace: string; role: string; expires?: string },
): Promise<OperationResult> {
  const ws = Workspace.open(input.workspace);
  return signDelegated(
    ws,
    input.role,
    input.expires === undefined ? {} : { expires: input.expires },
    run.signingContext(ws.dir, ws),
  );
}

export async function runRefresh(run: RunContext, workspace: string): Promise<RefreshResult> {
  const ws = Workspace.open(workspace);
  return refreshAll(ws, run.signingContext(ws.dir, ws));
}

/** The line `refresh` adds when delegated roles are due but their keys are elsewhere. */
export function renderDueElsewhere(r: RefreshResult): string {
  const due = r.dueElsewhere ?? [];
  if (due.length === 0) return '';
  const shown = due.length > 8 ? `${due.slice(0, 8).join(', ')} and ${due.length - 8} more` : due.join(', ');
  return `\ndue for re-signing, keys not here (sign them where their keys are: tufsign sign ROLE): ${shown}`;
}
