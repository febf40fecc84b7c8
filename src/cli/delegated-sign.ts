/** CLI side of `sign ROLE` for a delegated role (`refresh` is `cli/refresh.ts`). */
import type { RoleRef } from '../tuf/paths';
import { delegationChangeOrRequest, type DelegationOutcome } from '../repository/delegations';
import { signDelegated } from '../repository/delegated-sign';
import { Workspace } from '../repository/workspace';
import { ceremonyContext } from './ceremony';
import type { RunContext } from './context';
import { expiresOption } from './flags';

/** The role re-signed here, or (its keys not here) one signing request for its keyholders, like `targets add`. */
export async function runSignDelegated(
  run: RunContext,
  tool: string,
  input: { workspace: string; role: RoleRef; expires?: string; out?: string },
): Promise<DelegationOutcome> {
  const ws = Workspace.open(input.workspace);
  const ctx = ceremonyContext(run, ws.dir, ws, tool);
  const options = expiresOption(input.expires);
  return delegationChangeOrRequest(
    ws,
    (defer) => signDelegated(ws, input.role, options, ctx, defer),
    `re-sign ${input.role}${input.expires !== undefined ? ` (expires in ${input.expires})` : ''}`,
    input.out,
    ctx,
  );
}
