import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { TufsignError } from '../errors';
import { waitFlag, workspaceFlag } from '../cli/flags';
import { renderOperation } from '../cli/render';
import type { OperationResult } from '../repository/outcome';
import type { RequestWritten } from '../repository/requests';
import { signRoleOrRequest } from '../repository/sign';
import { ceremonyContext, renderRequest } from '../cli/ceremony';
import { Workspace } from '../repository/workspace';
import { isTopLevelRole } from '../tuf/metadata';
import { runSignDelegated } from '../cli/delegated-sign';

export default class Sign extends BaseCommand<typeof Sign> {
  static override summary = 'Re-sign a role with the configured keys.';
  static override description =
    'Without --bump or --expires, only adds signatures that are missing (same bytes, same version). With them, the role gets a new version and expiry, and snapshot and timestamp are updated after it in the order the spec gives. ' +
    'A delegated role (snapshot lists it by version) is always re-signed as a new version with a fresh expiry, by the keys its parent names, which must be here.';
  static override examples = [
    '<%= config.bin %> sign targets --expires 90d',
    '<%= config.bin %> sign root --bump',
    '<%= config.bin %> sign projects --expires 30d   # a delegated role: always a new version',
    '<%= config.bin %> sign bins   # every hash bin bins-*',
  ];
  static override args = {
    role: Args.string({
      description:
        'Role to sign: root, targets, snapshot, timestamp, a delegated role, or a hash-bin prefix (every bin).',
      required: true,
    }),
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
    if (!isTopLevelRole(this.args.role)) {
      if (this.flags['request-out'] !== undefined)
        throw new TufsignError('USAGE', '--request-out: a delegated role is signed here, by its own keys', {
          suggestion: 'Run `tufsign sign ROLE` where the keys of the role are.',
        });
      const input: { workspace: string; role: string; expires?: string } = {
        workspace: this.flags.workspace,
        role: this.args.role,
      };
      if (this.flags.expires !== undefined) input.expires = this.flags.expires;
      const result = await runSignDelegated(this.ctx, input);
      this.log(renderOperation(result, result.workspace));
      return result;
    }
    const ws = Workspace.open(this.flags.workspace);
    const options: { expires?: string; bump?: boolean } = { bump: this.flags.bump };
    if (this.flags.expires !== undefined) options.expires = this.flags.expires;
    const { result, request } = await signRoleOrRequest(
      ws,
      this.args.role,
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
