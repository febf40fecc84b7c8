import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonyContext } from '../../cli/ceremony';
import { renderDelegationOutcome } from '../../cli/delegation-render';
import { workspaceFlag } from '../../cli/flags';
import { delegationChangeOrRequest, removeDelegation, type DelegationOutcome } from '../../repository/delegations';
import { Workspace } from '../../repository/workspace';

export default class DelegateRemove extends BaseCommand<typeof DelegateRemove> {
  static override summary = 'Remove a delegation (a role, or hash bins by their prefix): a new version of the parent role.';
  static override description =
    'Clients stop trusting the role for its paths. Its metadata stays in snapshot (clients refuse a snapshot that drops a role) and on disk; its targets are no longer found.';
  static override args = { role: Args.string({ description: 'Delegated role name, or the prefix of hash bins.', required: true }) };
  static override flags = {
    workspace: workspaceFlag,
    out: Flags.string({ description: 'Request file to write when the parent\'s keys are not here.' }),
  };

  async run(): Promise<DelegationOutcome> {
    const ws = Workspace.open(this.flags.workspace);
    const ctx = ceremonyContext(this.ctx, ws.dir, ws, `tufsign ${this.config.version}`);
    const outcome = await delegationChangeOrRequest(ws, (defer) => removeDelegation(ws, this.args.role, ctx, defer), `remove the delegation to ${this.args.role}`, this.flags.out, ctx);
    this.log(renderDelegationOutcome(outcome));
    return outcome;
  }
}
