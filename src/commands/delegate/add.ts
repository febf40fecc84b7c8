import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { delegateAddFlags, runDelegateAddCommand } from '../../cli/delegate-add';
import type { DelegationOutcome } from '../../repository/delegations';

export default class DelegateAdd extends BaseCommand<typeof DelegateAdd> {
  static override summary =
    'Delegate target paths to a new role: a new version of the parent role, and the new role signed empty.';
  static override description =
    'PATTERN is matched like python-tuf does (fnmatch per "/"-separated part: "*" never crosses "/", case-sensitive). The new role comes last in the parent\'s ordered list. ' +
    'When the keys of the parent (top-level targets or a delegated role) are not here, the change becomes a signing request that `tufsign ceremony` finalizes. ' +
    "When the new role's own keys are not here (e.g. --key names a public key file), one request carries the parent's new version and the role's first version for their keyholders; finalize publishes both.";
  static override examples = [
    '<%= config.bin %> delegate add projects --key file:keys/projects-1.pem --paths "projects/*" -w repo',
    '<%= config.bin %> delegate add alpha --from projects --key file:keys/alpha-1.pem --paths "projects/alpha/*" --terminating --expires 30d',
  ];
  static override args = {
    role: Args.string({ description: 'Name of the new role (a-z, 0-9, "-").', required: true }),
  };
  static override flags = delegateAddFlags;

  async run(): Promise<DelegationOutcome> {
    return runDelegateAddCommand(this.io, this.flags, this.args);
  }
}
