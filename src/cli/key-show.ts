/** `key show KEY`: a key URI or public key file, described. */
import { readKey } from '../repository/keys';
import type { CommandIo } from './base-command';

export async function runKeyShow(
  io: CommandIo,
  args: { key: string },
): Promise<{ keyid: string; key: unknown; uri: string | null; owner: string | null }> {
  const f = await readKey(args.key, io.ctx.openOptions(process.cwd()));
  io.log(
    `keyid:  ${f.keyid}\nscheme: ${f.key.scheme}\nowner:  ${f.owner ?? '-'}\nuri:    ${f.uri ?? '-'}\npublic: ${f.key.publicValue.trim()}`,
  );
  return { keyid: f.keyid, key: f.key.toJSON(), uri: f.uri ?? null, owner: f.owner ?? null };
}
