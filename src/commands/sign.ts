import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { waitFlag, workspaceFlag } from '../cli/flags';
import { renderOperation } from '../cli/render';
import type { OperationResult } from '../repository/outcome';
import type { RequestWritten } from '../repository/requests';
import { signRoleOrRequest } from '../repository/sign';
import { ceremonyContext, renderRequest } from '../cli/ceremony';
import { Workspace } from '../repository/workspace';
import { TOP_LEVEL_ROLES, type TopLevelRole } from '../tuf/metadata';

export default class Sign extends BaseCommand<typeof Sign> {
  static override summary = 'Re-sign a role with the configured keys.';
  static override description =
    'Without --bump or --expires, only adds signatures that are missing (same bytes, same version). With them, the role gets a new version and expiry, and snapshot and timestamp are updated after it in the order the spec gives.';
  static override examples = ['<%= config.bin %> sign targets --expires 90d', '<%= config.bin %> sign root --bump'];
  static override args = {
    role: Args.string({ description: 'Role to sign.', required: true, options: [...TOP_LEVEL_ROLES] }),
  };
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    expires: Flags.string({ description: 'New expiry period (e.g. 90d); implies a new version.' }),
    bump: Flags.boolean({ description: 'Give the role a new version (and a fresh expiry).', default: false }),
    'request-out': Flags.string({
      description:
        'Where to write the signing request when the threshold needs keys that are not here (default: WORKSPACE/ROLE-vN.tufsign-request.json).',
      aliases: ['out'],
      deprecateAliases: true,
    }),
  };

  async run(): Promise<OperationResult & { request?: RequestWritten }> {
    await this.lockWorkspace(this.flags.workspace);
    const ws = Workspace.open(this.flags.workspace);
    const options: { expires?: string; bump?: boolean } = { bump: this.flags.bump };
    if (this.flags.expires !== undefined) options.expires = this.flags.expires;
    const { result, request } = await signRoleOrRequest(
      ws,
      this.args.role as TopLevelRole,
      options,
      this.flags['request-out'],
      ceremonyContext(this.ctx, ws.dir, ws, `tufsign ${this.config.version}`),
    );
    if (request !== undefined) {
      // The threshold needs keys held elsewhere: nothing was written but the request.
      this.log(renderRequest(request));
      const { pending: _pending, ...rest } = result;
      return { ...rest, request };
    }
    this.log(renderOperation(result, ws.dir));
    return result;
  }
}
