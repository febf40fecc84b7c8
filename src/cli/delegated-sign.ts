/** CLI side of `sign ROLE` for a delegated role (`refresh` is `cli/refresh.ts`). */
import { expiresOption } from './flags';
import { signDelegated } from '../repository/delegated-sign';
import type { OperationResult } from '../repository/outcome';
import { Workspace } from '../repository/workspace';
import type { RunContext } from './context';

export async function runSignDelegated(
  run: RunContext,
  input: { workspace: string; role: string; expires?: string },
): Promise<OperationResult> {
  const ws = Workspace.open(input.workspace);
  return signDelegated(ws, input.role, expiresOption(input.expires), run.signingContext(ws.dir, ws));
}
