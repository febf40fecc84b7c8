/** `key list`: the keys the workspace knows, with their roles, owners and where the private part lives. */
import { listKeys, type KeyListing } from '../repository/keys';
import { Workspace } from '../repository/workspace';
import type { CommandIo } from './base-command';
import { workspaceFlag } from './flags';
import { table } from './render';

export const keyListFlags = { workspace: workspaceFlag };

export function runKeyList(io: CommandIo, flags: { workspace: string }): { keys: KeyListing[] } {
  const keys = listKeys(Workspace.open(flags.workspace));
  io.log(
    table([
      ['KEYID', 'SCHEME', 'ROLES', 'OWNER', 'BACKEND', 'URI', 'ATTESTATION'],
      ...keys.map((k) => [
        k.keyid,
        k.scheme,
        k.roles.join(','),
        k.owner ?? '-',
        k.backend,
        k.uri ?? '-',
        k.attestation?.status ?? '-',
      ]),
    ]),
  );
  return { keys };
}
