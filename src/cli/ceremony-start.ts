/** `ceremony start --role ROLE`: the next version of root and/or targets as a signing request. */
import { Flags, type Interfaces } from '@oclif/core';
import { ceremonyContext, renderRequest } from './ceremony';
import { expiresOption, requestOutFlag, waitFlag, workspaceFlag } from './flags';
import { startCeremony } from '../repository/ceremony/start';
import type { RequestWritten } from '../repository/requests';
import type { TopLevelRole } from '../tuf/metadata';
import type { CommandIo } from './base-command';

export const ceremonyStartFlags = {
  workspace: workspaceFlag,
  wait: waitFlag,
  role: Flags.string({
    description: 'Role to re-sign (repeatable).',
    options: ['root', 'targets'],
    multiple: true,
    required: true,
  }),
  expires: Flags.string({ description: 'Expiry period for the new versions (e.g. 365d).' }),
  purpose: Flags.string({ description: 'Why this ceremony happens (recorded in the transcript).' }),
  'request-out': requestOutFlag('Request file to write (default: WORKSPACE/ROLE-vN.tufsign-request.json).'),
};

export async function runCeremonyStart(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof ceremonyStartFlags>,
): Promise<RequestWritten> {
  const ws = await io.openWorkspace(flags.workspace);
  const options: Parameters<typeof startCeremony>[1] = { roles: flags.role as TopLevelRole[] };
  Object.assign(options, expiresOption(flags.expires));
  if (flags.purpose !== undefined) options.purpose = flags.purpose;
  if (flags['request-out'] !== undefined) options.out = flags['request-out'];
  const result = await startCeremony(ws, options, ceremonyContext(io.ctx, ws.dir, ws, io.tool));
  io.log(renderRequest(result));
  return result;
}
