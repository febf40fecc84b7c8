/** `key rotate ROLE`: replace one key of a role; applied at once or written as a request. */
import { Flags, type Interfaces } from '@oclif/core';
import { ceremonyContext } from './ceremony';
import { waitFlag, workspaceFlag } from './flags';
import { renderRotation } from './rotation-render';
import { resolveKeySpec } from '../repository/key-specs';
import { rotateKey, type KeyRotateOptions, type RotationResult } from '../repository/rotation';
import { Workspace } from '../repository/workspace';
import type { TopLevelRole } from '../tuf/metadata';

import type { CommandIo } from './base-command';

export const keyRotateFlags = {
  workspace: workspaceFlag,
  wait: waitFlag,
  replace: Flags.string({
    description: 'Keyid (or unique prefix of 8+ hex characters) of the key to replace.',
    required: true,
  }),
  with: Flags.string({ description: 'The new key: a public key file (`key export`) or a key URI.', required: true }),
  expires: Flags.string({ description: 'Expiry period for a re-signed targets (default: the config).' }),
  'request-out': Flags.string({
    description: 'Request file to write when signatures are missing.',
    aliases: ['out'],
    deprecateAliases: true,
  }),
  'bundle-out': Flags.string({
    description: 'When applied at once: write the upload bundle to this folder.',
    aliases: ['bundle'],
    deprecateAliases: true,
  }),
  'allow-short-expiry': Flags.boolean({
    description: 'Accept metadata expiring sooner than the minimum validity.',
    default: false,
  }),
};

export async function runKeyRotate(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof keyRotateFlags>,
  args: { role: string },
): Promise<RotationResult> {
  await io.lockWorkspace(flags.workspace);
  const ws = Workspace.open(flags.workspace);
  const spec = await resolveKeySpec(flags.with, io.ctx.openOptions(ws.dir, ws));
  const options: KeyRotateOptions = {
    role: args.role as TopLevelRole,
    replace: flags.replace,
    with: spec,
    allowShortExpiry: flags['allow-short-expiry'],
  };
  if (flags.expires !== undefined) options.expires = flags.expires;
  if (flags['request-out'] !== undefined) options.out = flags['request-out'];
  if (flags['bundle-out'] !== undefined) options.bundleOut = flags['bundle-out'];
  const result = await rotateKey(ws, options, ceremonyContext(io.ctx, ws.dir, ws, io.tool));
  io.log(renderRotation(result));
  return result;
}
