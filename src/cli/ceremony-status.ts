/** `ceremony status REQUEST`: what a request holds and who still has to sign. */
import { Flags, type Interfaces } from '@oclif/core';
import { renderRequest } from './ceremony';
import { requestStatusFile } from '../repository/ceremony/status';
import type { RequestWritten } from '../repository/requests';
import { Workspace } from '../repository/workspace';
import type { CommandIo } from './base-command';

export const ceremonyStatusFlags = {
  workspace: Flags.string({
    char: 'w',
    description: 'Workspace to check the request against (adds its minimum-validity policy).',
  }),
};

export function runCeremonyStatus(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof ceremonyStatusFlags>,
  args: { request: string },
): RequestWritten {
  const dir = flags.workspace ?? '.';
  const ws = Workspace.exists(dir) ? Workspace.open(dir) : undefined;
  const result = requestStatusFile(args.request, ws, { now: io.ctx.clock.now() });
  io.log(renderRequest(result));
  return result;
}
