import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { workspaceFlag } from '../cli/flags';
import { renderOperation } from '../cli/render';
import { signRole, type OperationResult } from '../repository/operations';
import { Workspace } from '../repository/workspace';
import { TOP_LEVEL_ROLES, type TopLevelRole } from '../tuf/metadata';

export default class Sign extends BaseCommand<typeof Sign> {
  static override summary = 'Re-sign a role with the configured keys.';
  static override description =
    'Without --bump or --expires, only adds signatures that are missing (same bytes, same version). With them, the role gets a new version and expiry, and snapshot and timestamp are updated after it in the order the spec gives.';
  static override examples = ['<%= config.bin %> sign targets --expires 90d', '<%= config.bin %> sign root --bump'];
  static override args = { role: Args.string({ description: 'Role to sign.', required: true, options: [...TOP_LEVEL_ROLES] }) };
  static override flags = {
    workspace: workspaceFlag,
    expires: Flags.string({ description: 'New expiry period (e.g. 90d); implies a new version.' }),
    bump: Flags.boolean({ description: 'Give the role a new version (and a fresh expiry).', default: false }),
  };

  async run(): Promise<OperationResult> {
    const ws = Workspace.open(this.flags.workspace);
    const options: { expires?: string; bump?: boolean } = { bump: this.flags.bump };
    if (this.flags.expires !== undefined) options.expires = this.flags.expires;
    const result = await signRole(ws, this.args.role as TopLevelRole, options, this.ctx.signingContext(ws.dir, ws));
    this.log(renderOperation(result));
    return result;
  }
}
