/** `refresh`: snapshot and timestamp re-signed, and every due delegated role whose keys are here. */
import { refreshAll, type RefreshResult } from '../repository/delegated-sign';
import type { CommandIo } from './base-command';
import { waitFlag, workspaceFlag } from './flags';
import { renderOperation } from './render';

export const refreshFlags = { workspace: workspaceFlag, wait: waitFlag };

export async function runRefresh(io: CommandIo, flags: { workspace: string }): Promise<RefreshResult> {
  const ws = await io.openWorkspace(flags.workspace);
  const result = await refreshAll(ws, io.ctx.signingContext(ws.dir, ws));
  io.log(renderOperation(result, flags.workspace) + renderDueElsewhere(result));
  return result;
}

/** The line `refresh` adds when delegated roles are due but their keys are elsewhere. */
export function renderDueElsewhere(r: RefreshResult): string {
  const due = r.dueElsewhere ?? [];
  if (due.length === 0) return '';
  const shown = due.length > 8 ? `${due.slice(0, 8).join(', ')} and ${due.length - 8} more` : due.join(', ');
  return `\ndue for re-signing, keys not here (sign them where their keys are: tufsign sign ROLE): ${shown}`;
}
