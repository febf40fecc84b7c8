import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { workspaceFlag } from '../../cli/flags';
import { renderOperation } from '../../cli/render';
import { removeTargets, type OperationResult } from '../../repository/operations';
import { Workspace } from '../../repository/workspace';

export default class TargetsRemove extends BaseCommand<typeof TargetsRemove> {
  static override summary = 'Remove a target from targets metadata and re-sign targets → snapshot → timestamp.';
  static override examples = ['<%= config.bin %> targets remove app-1.0.tar.gz -w myrepo'];
  static override args = { path: Args.string({ description: 'Target path as listed in targets metadata.', required: true }) };
  static override flags = { workspace: workspaceFlag };

  async run(): Promise<OperationResult> {
    const ws = Workspace.open(this.flags.workspace);
    const result = await removeTargets(ws, [this.args.path], this.ctx.signingContext(ws.dir, ws));
    this.log(renderOperation(result, ws.dir));
    return result;
  }
}
