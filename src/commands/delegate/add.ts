import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { runDelegateAdd, type DelegateAddInput } from '../../cli/delegation';
import { renderDelegationOutcome } from '../../cli/delegation-render';
import { waitFlag, workspaceFlag } from '../../cli/flags';
import type { DelegationOutcome } from '../../repository/delegations';

export default class DelegateAdd extends BaseCommand<typeof DelegateAdd> {
  static override summary =
    'Delegate target paths to a new role: a new version of the parent role, and the new role signed empty.';
  static override description =
    'PATTERN is matched like python-tuf does (fnmatch per "/"-separated part: "*" never crosses "/", case-sensitive). The new role comes last in the parent\'s ordered list. ' +
    'When the parent is top-level targets and its keys are not here, the change becomes a signing request that `tufsign ceremony` finalizes.';
  static override examples = [
    '<%= config.bin %> delegate add projects --key file:keys/projects-1.pem --paths "projects/*" -w repo',
    '<%= config.bin %> delegate add alpha --from projects --key alpha.pub.json --paths "projects/alpha/*" --terminating --expires 30d',
  ];
  static override args = {
    role: Args.string({ description: 'Name of the new role (a-z, 0-9, "-").', required: true }),
  };
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    key: Flags.string({
      description: 'A key of the new role: key URI or public key file (repeat for several).',
      multiple: true,
      required: true,
    }),
    threshold: Flags.integer({ description: 'Signatures the new role needs.', default: 1 }),
    paths: Flags.string({
      description: 'Path pattern delegated to the role (repeat for several).',
      multiple: true,
      required: true,
    }),
    terminating: Flags.boolean({
      description: 'Clients that reach this role for a path look no further.',
      default: false,
    }),
    from: Flags.string({ description: 'Parent role (default: targets).' }),
    expires: Flags.string({ description: 'Expiry period of the new role (e.g. 90d; default: the targets period).' }),
    'request-out': Flags.string({
      description: "Request file to write when the parent's keys are not here.",
      aliases: ['out'],
      deprecateAliases: true,
    }),
  };

  async run(): Promise<DelegationOutcome> {
    const input: DelegateAddInput = {
      workspace: this.flags.workspace,
      name: this.args.role,
      keys: this.flags.key,
      threshold: this.flags.threshold,
      paths: this.flags.paths,
      terminating: this.flags.terminating,
    };
    if (this.flags.from !== undefined) input.from = this.flags.from;
    if (this.flags.expires !== undefined) input.expires = this.flags.expires;
    if (this.flags['request-out'] !== undefined) input.out = this.flags['request-out'];
    await this.lockWorkspace(this.flags.workspace);
    const outcome = await runDelegateAdd(this.ctx, `tufsign ${this.config.version}`, input);
    this.log(renderDelegationOutcome(outcome));
    return outcome;
  }
}
