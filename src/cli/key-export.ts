/** `key export KEY --out FILE`: the public key file a keyholder hands the organizer. */
import { Flags, type Interfaces } from '@oclif/core';
import { exportKey, type KeyGenerationResult } from '../repository/keys';
import type { CommandIo } from './base-command';

export const keyExportFlags = {
  out: Flags.string({ char: 'o', description: 'Public key file to write.', required: true }),
  owner: Flags.string({ description: "Owner label (e.g. the keyholder's name)." }),
};

export async function runKeyExport(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof keyExportFlags>,
  args: { key: string },
): Promise<KeyGenerationResult> {
  const r = await exportKey(args.key, flags.out, flags.owner, io.ctx.openOptions(process.cwd()));
  io.log(`keyid ${r.keyid} → ${flags.out}`);
  return r;
}
