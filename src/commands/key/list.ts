import { BaseCommand } from '../../cli/base-command';
import { keyListFlags, runKeyList } from '../../cli/key-list';
import type { KeyListing } from '../../repository/keys';

export default class KeyList extends BaseCommand<typeof KeyList> {
  static override summary = 'List the keys the workspace knows: roles, owners, and where the private part lives.';
  static override examples = ['<%= config.bin %> key list -w myrepo', '<%= config.bin %> key list -w myrepo --json'];
  static override flags = keyListFlags;

  async run(): Promise<{ keys: KeyListing[] }> {
    return runKeyList(this.io, this.flags);
  }
}
