/** `targets add`: files, folders or a list of them registered in the role a client looks in first (or `--role`). */
import { parseRoleRef } from '../tuf/paths';
import { Flags, type Interfaces } from '@oclif/core';
import { readStdinText } from '../io/fs';
import { delegationChangeOrRequest } from '../repository/delegations';
import type { OperationResult } from '../repository/outcome';
import type { RequestWritten } from '../repository/requests';
import { expandTargetSources, type TargetSources } from '../repository/target-inputs';
import { parseCustomJson } from '../repository/targets';
import { addTargetsRouted, type RoutingOptions } from '../repository/targets-routing';
import { Workspace } from '../repository/workspace';
import { parseNewTargetPath } from '../tuf/paths';
import type { CommandIo } from './base-command';
import { ceremonyContext } from './ceremony';
import { renderDelegationOutcome } from './delegation-render';
import { expiresOption, waitFlag, workspaceFlag } from './flags';

/** the longest list `--from-file` reads (a file or stdin) */
const MAX_LIST_BYTES = 256 * 1024 * 1024;

export const targetsAddFlags = {
  workspace: workspaceFlag,
  wait: waitFlag,
  path: Flags.string({
    description:
      'Target path in metadata (only with a single file, or the path prefix of a single folder; default: the file name).',
  }),
  custom: Flags.string({ description: 'Custom metadata for the target(s), a JSON object.' }),
  expires: Flags.string({ description: 'Expiry period of the re-signed role(s) (default from tufsign.json).' }),
  role: Flags.string({ description: 'Sign into this role (it must be delegated the paths).' }),
  'from-file': Flags.string({
    description: 'Read files to add from this list ("-": stdin), one FILE or FILE<TAB>TARGETPATH per line.',
  }),
  'request-out': Flags.string({
    description:
      "Request file to write when the role's keys are not here (default: WORKSPACE/ROLE-vN.tufsign-request.json).",
  }),
};

/** The change itself, or (keys of the role not here) the signing request that carries it to the keyholders. */
export type TargetsChangeResult = OperationResult & { request?: RequestWritten };

export async function runTargetsAdd(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof targetsAddFlags>,
  files: string[],
): Promise<TargetsChangeResult> {
  // file names are relative to where the command runs; `-` reads the list from stdin
  const sources: TargetSources = { files, cwd: process.cwd(), stdin: () => readStdinText(MAX_LIST_BYTES) };
  if (flags.path !== undefined) sources.path = flags.path;
  if (flags.custom !== undefined) sources.custom = parseCustomJson(flags.custom);
  if (flags['from-file'] !== undefined) sources.fromFile = flags['from-file'];
  const options: RoutingOptions = {};
  if (flags.role !== undefined) options.role = parseRoleRef(flags.role, '--role');
  await io.lockWorkspace(flags.workspace);
  const inputs = expandTargetSources(sources);
  const ws = Workspace.open(flags.workspace);
  const ctx = ceremonyContext(io.ctx, ws.dir, ws, io.tool);
  // each target path and --expires are parsed here, once (where the use case parsed them before: the order of
  // refusals is unchanged); the use case takes TargetPaths and a Period
  const parsed = inputs.map((input) => ({ ...input, path: parseNewTargetPath(input.path) }));
  Object.assign(options, expiresOption(flags.expires));
  const outcome = await delegationChangeOrRequest(
    ws,
    (defer) => addTargetsRouted(ws, parsed, ctx, { ...options, deferTargets: defer }),
    () =>
      `add ${inputs.length === 1 ? (inputs[0]?.path ?? '') : `${inputs.length} targets`}${options.role !== undefined ? ` to ${options.role}` : ''}`,
    flags['request-out'],
    ctx,
  );
  io.log(renderDelegationOutcome(outcome, flags.workspace));
  return outcome.request === undefined ? outcome.result : { ...outcome.result, request: outcome.request };
}
