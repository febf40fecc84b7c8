import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { runDelegateRemove } from '../../cli/delegation';
import { renderDelegationOutcome } from '../../cli/delegation-render';
import { waitFlag, workspaceFlag, roleRefOption } from '../../cli/flags';
import type { DelegationOutcome } from '../../repository/delegations';

export default class DelegateRemove extends BaseCommand<typeof DelegateRemove> {
  static override summary =
    'Remove a delegation (a role, or hash bins by their prefix): a new version of the parent role.';
  static override examples = ['<%= config.bin %> delegate remove nightly -w myrepo'];
  static override description =
    'Clients stop trusting the role for its paths. Its metadata stays in snapshot (clients refuse a snapshot that drops a role) and on disk; its targets are no longer found.';
  static override args = {
    role: Args.string({ description: 'Delegated role name, or the prefix of hash bins.', required: true }),
  };
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    'request-out': Flags.string({
      description: "Request file to write when the parent's keys are not here.",
      aliases: ['out'],
      deprecateAliases: true,
    }),
  };

  async run(): Promise<DelegationOutcome> {
    const input: Parameters<typeof runDelegateRemove>[2] = {
      workspace: this.flags.workspace,
      role: roleRefOption(this.args.role, 'ROLE'),
    };
    if (this.flags['request-out'] !== undefined) input.out = this.flags['request-out'];
    await this.lockWorkspace(this.flags.workspace);
    const outcome = await runDelegateRemove(this.ctx, `tufsign ${this.config.version}`, input);
    this.log(renderDelegationOutcome(outcome, this.flags.workspace));
    return outcome;
  }
}
