import { BaseCommand } from '../../cli/base-command';
import { workspaceFlag } from '../../cli/flags';
import { table } from '../../cli/render';
import { listKeys, type KeyListing } from '../../repository/keys';
import { Workspace } from '../../repository/workspace';

export default class KeyList extends BaseCommand<typeof KeyList> {
  static override summary = 'List the keys the workspace knows: roles, owners, and where the private part lives.';
  static override examples = ['<%= config.bin %> key list -w myrepo', '<%= config.bin %> key list -w myrepo --json'];
  static override flags = { workspace: workspaceFlag };

  async run(): Promise<{ keys: KeyListing[] }> {
    const keys = listKeys(Workspace.open(this.flags.workspace));
    this.log(
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
}
