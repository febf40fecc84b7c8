/** `delegate add ROLE`: a new delegated role under targets (or --from), signed, or a request for the parent's keys. */
import { parseRoleRef } from '../tuf/paths';
import { Flags, type Interfaces } from '@oclif/core';
import { runDelegateAdd, type DelegateAddInput } from './delegation';
import { renderDelegationOutcome } from './delegation-render';
import { requestOutFlag, thresholdFlag, waitFlag, workspaceFlag } from './flags';
import type { DelegationOutcome } from '../repository/delegations';
import type { CommandIo } from './base-command';

export const delegateAddFlags = {
  workspace: workspaceFlag,
  wait: waitFlag,
  key: Flags.string({
    description: 'A key of the new role: key URI or public key file (repeat for several).',
    multiple: true,
    required: true,
  }),
  threshold: thresholdFlag('Signatures the new role needs.', '1'),
  paths: Flags.string({
    description: 'Path pattern delegated to the role (repeat for several).',
    multiple: true,
    required: true,
  }),
  terminating: Flags.boolean({
    description: 'Clients that reach this role for a path look no further.',
    default: false,
  }),
  from: Flags.string({ description: 'Parent role (default: targets).' }),
  expires: Flags.string({ description: 'Expiry period of the new role (e.g. 90d; default: the targets period).' }),
  'request-out': requestOutFlag("Request file to write when the parent's keys are not here."),
};

export async function runDelegateAddCommand(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof delegateAddFlags>,
  args: { role: string },
): Promise<DelegationOutcome> {
  const input: DelegateAddInput = {
    workspace: flags.workspace,
    name: args.role,
    keys: flags.key,
    threshold: flags.threshold,
    paths: flags.paths,
    terminating: flags.terminating,
  };
  if (flags.from !== undefined) input.from = parseRoleRef(flags.from, '--from');
  if (flags.expires !== undefined) input.expires = flags.expires;
  if (flags['request-out'] !== undefined) input.out = flags['request-out'];
  await io.lockWorkspace(flags.workspace);
  const outcome = await runDelegateAdd(io.ctx, io.tool, input);
  io.log(renderDelegationOutcome(outcome, flags.workspace));
  return outcome;
}
