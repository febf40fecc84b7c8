/**
 * CLI side of `key rotate ROLE`: resolve the key arguments at the boundary,
 * then one call into the core — root N+1 for a top-level role, a new version
 * of the parent for a delegated role or hash bins.
 */
import { parseRoleRef, type RoleRef } from '../tuf/paths';
import { Flags, type Interfaces } from '@oclif/core';
import { TufsignError } from '../errors';
import type { FinalizeReport } from '../repository/ceremony/finalize';
import type { RequestWritten } from '../repository/requests';
import { changeDelegatedKeys, type DelegatedKeyChange } from '../repository/delegated-keys';
import { delegationChangeOrRequest } from '../repository/delegations';
import { resolveKeySpec } from '../repository/key-specs';
import type { RoleKeySpec } from '../repository/key-specs';
import type { OperationResult } from '../repository/outcome';
import { rotateKey, type KeyRotateOptions } from '../repository/rotation';
import { Workspace } from '../repository/workspace';
import { isTopLevelRole } from '../tuf/metadata';
import { ceremonyContext } from './ceremony';
import type { CommandIo } from './base-command';
import type { RunContext } from './context';
import { expiresOption, keyChangeFlags, thresholdOption, waitFlag, workspaceFlag } from './flags';
import type { Threshold } from '../tuf/threshold';
import { renderKeyRotation } from './rotation-render';

export const keyRotateFlags = {
  workspace: workspaceFlag,
  wait: waitFlag,
  replace: Flags.string({
    description: 'Keyid (or unique prefix of 8+ hex characters) of the key to replace (with --with).',
    dependsOn: ['with'],
  }),
  with: Flags.string({
    description: 'The replacing key: a public key file (`key export`) or a key URI.',
    dependsOn: ['replace'],
  }),
  ...keyChangeFlags({
    addKey: 'Key to add to the role: a public key file or a key URI. Repeatable.',
    removeKey: 'Keyid (or unique prefix of 8+ hex characters) to remove from the role. Repeatable.',
    threshold: "The role's new threshold.",
    expires: 'Expiry period for re-signed targets roles (default: the config).',
    requestOut: 'Request file to write when signatures are missing.',
    bundleOut:
      'Top-level roles, applied at once: write the upload bundle to this folder (or one .tar.gz file when PATH ends in .tar.gz).',
    allowShortExpiry: 'Accept metadata expiring sooner than the minimum validity.',
  }),
};

/** The command's flags and argument, taken at the boundary; the change itself is `runKeyRotate`. */
export async function runKeyRotateCommand(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof keyRotateFlags>,
  args: { role: string },
): Promise<KeyRotateOutcome> {
  const role = parseRoleRef(args.role, 'ROLE');
  await io.lockWorkspace(flags.workspace);
  const input: KeyRotateInput = {
    workspace: flags.workspace,
    role,
    add: flags['add-key'] ?? [],
    remove: flags['remove-key'] ?? [],
    allowShortExpiry: flags['allow-short-expiry'],
  };
  if (flags.replace !== undefined) input.replace = flags.replace;
  if (flags.with !== undefined) input.with = flags.with;
  if (flags.threshold !== undefined) input.threshold = thresholdOption(flags.threshold);
  if (flags.expires !== undefined) input.expires = flags.expires;
  if (flags['request-out'] !== undefined) input.out = flags['request-out'];
  if (flags['bundle-out'] !== undefined) input.bundleOut = flags['bundle-out'];
  const outcome = await runKeyRotate(io.ctx, io.tool, input);
  io.log(renderKeyRotation(outcome, flags.workspace));
  return outcome;
}

export interface KeyRotateInput {
  workspace: string;
  role: RoleRef;
  replace?: string;
  with?: string;
  add: string[];
  remove: string[];
  threshold?: Threshold;
  expires?: string;
  out?: string;
  bundleOut?: string;
  allowShortExpiry: boolean;
}

export interface KeyRotateOutcome {
  role: string;
  /** what changes, one line each */
  changes: string[];
  /** top-level roles: the root version that carries the change */
  rootVersion?: number;
  /** top-level roles: applied at once (every key here) */
  applied?: FinalizeReport;
  /** delegated roles: the roles re-signed and written */
  result?: OperationResult;
  /** set when keys that are not here must sign: the request to carry to the keyholders */
  request?: RequestWritten;
}

export async function runKeyRotate(run: RunContext, tool: string, input: KeyRotateInput): Promise<KeyRotateOutcome> {
  const ws = Workspace.open(input.workspace);
  const { expires } = expiresOption(input.expires);
  const open = run.openOptions(ws.dir, ws);
  const add: RoleKeySpec[] = [];
  for (const v of input.add) add.push(await resolveKeySpec(v, open));
  const withKey = input.with === undefined ? undefined : await resolveKeySpec(input.with, open);
  const ctx = ceremonyContext(run, ws.dir, ws, tool);
  if (isTopLevelRole(input.role)) {
    const options: KeyRotateOptions = { role: input.role, add, remove: input.remove };
    if (input.replace !== undefined) options.replace = input.replace;
    if (withKey !== undefined) options.with = withKey;
    if (input.threshold !== undefined) options.threshold = input.threshold;
    if (expires !== undefined) options.expires = expires;
    if (input.out !== undefined) options.out = input.out;
    if (input.bundleOut !== undefined) options.bundleOut = input.bundleOut;
    if (input.allowShortExpiry) options.allowShortExpiry = true;
    return { role: input.role, ...(await rotateKey(ws, options, ctx)) };
  }
  if (input.bundleOut !== undefined)
    throw new TufsignError(
      'USAGE',
      '--bundle-out applies to top-level roles; a delegated role change is published with `tufsign publish`',
      {
        suggestion: 'Publish the workspace with `tufsign publish` after the change.',
      },
    );
  const change: DelegatedKeyChange = { role: input.role, add, remove: input.remove };
  if (input.replace !== undefined) change.replace = input.replace;
  if (withKey !== undefined) change.with = withKey;
  if (input.threshold !== undefined) change.threshold = input.threshold;
  if (expires !== undefined) change.expires = expires;
  let changes: string[] = [];
  const outcome = await delegationChangeOrRequest(
    ws,
    async (defer) => {
      const r = await changeDelegatedKeys(ws, change, ctx, defer);
      changes = r.changes;
      return r.result;
    },
    () => `key rotation: ${changes.map((c) => c.replace(/\b([0-9a-f]{12})[0-9a-f]{52}\b/g, '$1…')).join('; ')}`,
    input.out,
    ctx,
  );
  const out: KeyRotateOutcome = { role: input.role, changes, result: outcome.result };
  if (outcome.request !== undefined) out.request = outcome.request;
  return out;
}
