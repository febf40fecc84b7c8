import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { workspaceFlag } from '../../cli/flags';
import { renderOperation } from '../../cli/render';
import type { OperationResult } from '../../repository/operations';
import { removeTargetsRouted } from '../../repository/targets-routing';
import { Workspace } from '../../repository/workspace';

export default class TargetsRemove extends BaseCommand<typeof TargetsRemove> {
  static override summary = 'Remove a target from the role that lists it and re-sign that role → snapshot → timestamp.';
  static override args = { path: Args.string({ description: 'Target path as listed in targets metadata.', required: true }) };
  static override flags = {
    workspace: workspaceFlag,
    role: Flags.string({ description: 'The role that lists it (default: where a client finds it).' }),
  };

  async run(): Promise<OperationResult> {
    const ws = Workspace.open(this.flags.workspace);
    const result = await removeTargetsRouted(ws, [this.args.path], this.ctx.signingContext(ws.dir, ws), this.flags.role === undefined ? {} : { role: this.flags.role });
    this.log(renderOperation(result));
    return result;
  }
}
