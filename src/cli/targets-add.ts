/** `targets add`: files, folders or a list of them registered in the role a client looks in first (or `--role`). */
import { Flags, type Interfaces } from '@oclif/core';
import { readStdinText } from '../io/fs';
import type { OperationResult } from '../repository/outcome';
import { expandTargetSources, type TargetSources } from '../repository/target-inputs';
import { parseCustomJson } from '../repository/targets';
import { addTargetsRouted, type RoutingOptions } from '../repository/targets-routing';
import { Workspace } from '../repository/workspace';
import type { CommandIo } from './base-command';
import { waitFlag, workspaceFlag } from './flags';
import { renderOperation } from './render';

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
};

export async function runTargetsAdd(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof targetsAddFlags>,
  files: string[],
): Promise<OperationResult> {
  // file names are relative to where the command runs; `-` reads the list from stdin
  const sources: TargetSources = { files, cwd: process.cwd(), stdin: () => readStdinText(MAX_LIST_BYTES) };
  if (flags.path !== undefined) sources.path = flags.path;
  if (flags.custom !== undefined) sources.custom = parseCustomJson(flags.custom);
  if (flags['from-file'] !== undefined) sources.fromFile = flags['from-file'];
  const options: RoutingOptions = {};
  if (flags.expires !== undefined) options.expires = flags.expires;
  if (flags.role !== undefined) options.role = flags.role;
  await io.lockWorkspace(flags.workspace);
  const inputs = expandTargetSources(sources);
  const ws = Workspace.open(flags.workspace);
  const result = await addTargetsRouted(ws, inputs, io.ctx.signingContext(ws.dir, ws), options);
  io.log(renderOperation(result, flags.workspace));
  return result;
}
