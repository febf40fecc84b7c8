/** `sign ROLE`: a role signed here by its keys, or (keys not here) a signing request for it — top-level or delegated. */
import { parseRoleRef } from '../tuf/paths';
import { Flags, type Interfaces } from '@oclif/core';
import type { OperationResult } from '../repository/outcome';
import type { RequestWritten } from '../repository/requests';
import { signRoleOrRequest } from '../repository/sign';
import { Workspace } from '../repository/workspace';
import { isTopLevelRole } from '../tuf/metadata';
import type { CommandIo } from './base-command';
import { ceremonyContext, renderRequest } from './ceremony';
import { runSignDelegated } from './delegated-sign';
import { renderDelegationOutcome } from './delegation-render';
import { expiresOption, requestOutFlag, waitFlag, workspaceFlag } from './flags';
import { renderOperation } from './render';

export const signFlags = {
  workspace: workspaceFlag,
  wait: waitFlag,
  expires: Flags.string({ description: 'New expiry period (e.g. 90d); implies a new version.' }),
  bump: Flags.boolean({ description: 'Give the role a new version (and a fresh expiry).', default: false }),
  'request-out': requestOutFlag(
    'Where to write the signing request when the threshold needs keys that are not here (default: WORKSPACE/ROLE-vN.tufsign-request.json; for a delegated role too).',
  ),
};

export async function runSign(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof signFlags>,
  args: { role: string },
): Promise<OperationResult & { request?: RequestWritten }> {
  const role = parseRoleRef(args.role, 'ROLE');
  await io.lockWorkspace(flags.workspace);
  if (!isTopLevelRole(role)) {
    const input: Parameters<typeof runSignDelegated>[2] = { workspace: flags.workspace, role };
    if (flags.expires !== undefined) input.expires = flags.expires;
    if (flags['request-out'] !== undefined) input.out = flags['request-out'];
    const outcome = await runSignDelegated(io.ctx, io.tool, input);
    io.log(renderDelegationOutcome(outcome, flags.workspace));
    return outcome.request === undefined ? outcome.result : { ...outcome.result, request: outcome.request };
  }
  const ws = Workspace.open(flags.workspace);
  const options = { bump: flags.bump, ...expiresOption(flags.expires) };
  const { result, request } = await signRoleOrRequest(
    ws,
    role,
    options,
    flags['request-out'],
    ceremonyContext(io.ctx, ws.dir, ws, io.tool),
  );
  if (request !== undefined) {
    // The threshold needs keys held elsewhere: nothing was written but the request.
    io.log(renderRequest(request));
    const { pending: _pending, ...rest } = result;
    return { ...rest, request };
  }
  io.log(renderOperation(result, flags.workspace));
  return result;
}
