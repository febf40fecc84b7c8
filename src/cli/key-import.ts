/** `key import URI`: read the public key of an existing key (and write its public key file with --out). */
import { Flags, type Interfaces } from '@oclif/core';
import { exportKey, readKey, type KeyGenerationResult } from '../repository/keys';
import type { CommandIo } from './base-command';

export const keyImportFlags = {
  out: Flags.string({ char: 'o', description: 'Also write the public key file here.' }),
  owner: Flags.string({ description: 'Owner label for the public key file.' }),
};

export async function runKeyImport(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof keyImportFlags>,
  args: { uri: string },
): Promise<KeyGenerationResult | { keyid: string; uri: string }> {
  const open = io.ctx.openOptions(process.cwd());
  if (flags.out !== undefined) {
    const r = await exportKey(args.uri, flags.out, flags.owner, open);
    io.log(`keyid ${r.keyid} (${args.uri}) → ${flags.out}`);
    return r;
  }
  const f = await readKey(args.uri, open);
  io.log(`keyid:  ${f.keyid}\nscheme: ${f.key.scheme}\nuri:    ${args.uri}\npublic: ${f.key.publicValue.trim()}`);
  return { keyid: f.keyid, uri: args.uri };
}
