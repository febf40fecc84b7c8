/** `ceremony start`: the next version of root and/or targets, signed with the keys here, written as a request. */
import type { Period } from '../../tuf/time';
import { TufsignError } from '../../errors';
import { HISTORY_PARSE, Metadata, TOP_LEVEL_ROLES, type TopLevelRole } from '../../tuf/metadata';
import type { CeremonyContext } from '../context';
import { expiryFor } from '../expiry';
import { presentKeysConfig } from '../key-availability';
import { currentState, newRequest, writeRequest, type RequestWritten } from '../requests';
import { signAvailable } from '../signing';
import type { Workspace } from '../workspace';

export interface StartOptions {
  roles: TopLevelRole[];
  /** expiry period for the new versions (default: the config's per role) */
  expires?: Period;
  purpose?: string;
  out?: string;
}

/**
 * `ceremony start`: the next version of each role (same content, new version
 * and expiry), signed with whatever keys are here, written as a request.
 */
export async function startCeremony(
  ws: Workspace,
  options: StartOptions,
  ctx: CeremonyContext,
): Promise<RequestWritten> {
  const repo = currentState(ws);
  if (repo === undefined)
    throw new TufsignError('WORKSPACE_NOT_FOUND', 'the workspace has no published root yet', {
      suggestion: 'Finalize the init request first.',
    });
  const roles = TOP_LEVEL_ROLES.filter((r) => options.roles.includes(r));
  if (roles.length === 0 || roles.some((r) => r === 'snapshot' || r === 'timestamp')) {
    throw new TufsignError('USAGE', 'a ceremony signs root and/or targets', {
      rule: '--role root|targets',
      suggestion: 'snapshot and timestamp are re-signed by finalize (or `tufsign refresh`).',
    });
  }
  const mds: Metadata[] = [];
  for (const role of roles) {
    const md = Metadata.fromJSON(repo[role].toJSON(), { expectedType: role, ...HISTORY_PARSE });
    md.clearSignatures();
    md.signed.version += 1;
    md.signed.expires = expiryFor(ws.config, role, ctx.now, options.expires);
    mds.push(md);
  }
  await signAvailable(repo.root, mds, presentKeysConfig(ws), ctx);
  const req = newRequest(
    ws,
    mds,
    { purpose: options.purpose ?? `re-sign ${roles.join(' and ')} (new version and expiry)` },
    ctx,
  );
  return writeRequest(ws, req, options.out, ctx);
}
