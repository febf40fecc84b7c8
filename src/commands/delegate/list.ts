import { BaseCommand } from '../../cli/base-command';
import { runDelegateList } from '../../cli/delegation';
import { renderDelegations } from '../../cli/delegation-render';
import { workspaceFlag } from '../../cli/flags';
import type { DelegationEntry } from '../../repository/delegations';

export default class DelegateList extends BaseCommand<typeof DelegateList> {
  static override summary =
    'The delegation tree: roles in the order clients search them, with patterns or bin ranges, keys, thresholds, versions and expiry.';
  static override examples = [
    '<%= config.bin %> delegate list -w myrepo',
    '<%= config.bin %> delegate list -w myrepo --json',
  ];
  static override flags = { workspace: workspaceFlag };

  async run(): Promise<{ roles: DelegationEntry[] }> {
    const roles = runDelegateList(this.flags.workspace);
    this.log(renderDelegations(roles));
    return { roles };
  }
}
