/** `root rotate`: add or remove root keys and change the threshold; applied at once or written as a request. */
import { Flags, type Interfaces } from '@oclif/core';
import { ceremonyContext } from './ceremony';
import { expiresOption, keyChangeFlags, thresholdOption, waitFlag, workspaceFlag } from './flags';
import { renderRotation } from './rotation-render';
import { resolveKeySpec } from '../repository/key-specs';
import { rotateRoot, type RootRotateOptions, type RotationResult } from '../repository/rotation';
import type { CommandIo } from './base-command';

export const rootRotateFlags = {
  workspace: workspaceFlag,
  wait: waitFlag,
  ...keyChangeFlags({
    addKey: 'Root key to add: a public key file (`key export`) or a key URI. Repeatable.',
    removeKey: 'Keyid (or a unique prefix of 8+ hex characters) to remove from root. Repeatable.',
    threshold: 'New root threshold.',
    expires: 'Expiry period for root N+1 (default: the config, 365d).',
    requestOut: 'Request file to write when signatures are missing (default: WORKSPACE/root-vN.tufsign-request.json).',
    bundleOut:
      'When applied at once: write the upload bundle to this folder (or one .tar.gz file when PATH ends in .tar.gz).',
    allowShortExpiry: 'Accept a root expiring sooner than the minimum validity.',
  }),
  'fix-keyids': Flags.boolean({
    description:
      'Keyid migration: re-list every key whose keyid is not sha256 of the key as stored (tufup-era keyids) under its correct keyid; signed under the old and the new keyids.',
    default: false,
  }),
};

export async function runRootRotate(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof rootRotateFlags>,
): Promise<RotationResult> {
  const ws = await io.openWorkspace(flags.workspace);
  const open = io.ctx.openOptions(ws.dir, ws);
  const add = [];
  for (const v of flags['add-key'] ?? []) add.push(await resolveKeySpec(v, open));
  const options: RootRotateOptions = {
    add,
    remove: flags['remove-key'] ?? [],
    allowShortExpiry: flags['allow-short-expiry'],
    fixKeyids: flags['fix-keyids'],
  };
  if (flags.threshold !== undefined) options.threshold = thresholdOption(flags.threshold);
  Object.assign(options, expiresOption(flags.expires));
  if (flags['request-out'] !== undefined) options.out = flags['request-out'];
  if (flags['bundle-out'] !== undefined) options.bundleOut = flags['bundle-out'];
  const result = await rotateRoot(ws, options, ceremonyContext(io.ctx, ws.dir, ws, io.tool));
  io.log(renderRotation(result, flags.workspace));
  return result;
}
