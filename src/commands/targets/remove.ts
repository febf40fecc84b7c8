import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { waitFlag, workspaceFlag } from '../../cli/flags';
import { renderOperation } from '../../cli/render';
import { runTargetsRemove } from '../../cli/delegation';
import type { OperationResult } from '../../repository/outcome';

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
  };

  async run(): Promise<OperationResult> {
    const input: { workspace: string; path: string; role?: string } = {
      workspace: this.flags.workspace,
      path: this.args.path,
    };
    if (this.flags.role !== undefined) input.role = this.flags.role;
    await this.lockWorkspace(this.flags.workspace);
    const result = await runTargetsRemove(this.ctx, input);
    this.log(renderOperation(result, this.flags.workspace));
    return result;
  }
}
