import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { waitFlag, workspaceFlag, roleRefOption } from '../../cli/flags';
import { runTargetsRemove } from '../../cli/delegation';
import { renderDelegationOutcome } from '../../cli/delegation-render';
import type { TargetsChangeResult } from '../../cli/targets-add';

export default class TargetsRemove extends BaseCommand<typeof TargetsRemove> {
  static override summary = 'Remove a target from the role that lists it and re-sign that role → snapshot → timestamp.';
  static override examples = ['<%= config.bin %> targets remove app-1.0.tar.gz -w myrepo'];
  static override args = {
    path: Args.string({ description: 'Target path as listed in targets metadata.', required: true }),
  };
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    role: Flags.string({ description: 'The role that lists it (default: where a client finds it).' }),
    'request-out': Flags.string({
      description:
        "Request file to write when the role's keys are not here (default: WORKSPACE/ROLE-vN.tufsign-request.json).",
    }),
  };

  async run(): Promise<TargetsChangeResult> {
    const input: Parameters<typeof runTargetsRemove>[2] = {
      workspace: this.flags.workspace,
      path: this.args.path,
    };
    if (this.flags.role !== undefined) input.role = roleRefOption(this.flags.role, '--role');
    if (this.flags['request-out'] !== undefined) input.out = this.flags['request-out'];
    await this.lockWorkspace(this.flags.workspace);
    const outcome = await runTargetsRemove(this.ctx, this.tool, input);
    this.log(renderDelegationOutcome(outcome, this.flags.workspace));
    return outcome.request === undefined ? outcome.result : { ...outcome.result, request: outcome.request };
  }
}
