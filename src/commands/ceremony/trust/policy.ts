import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../../cli/base-command';
import { POLICY_ROLES, renderTrustFolder, setTrustPolicy } from '../../../cli/keyholder-trust';
import type { TrustFolderView } from '../../../repository/keyholder-trust';

export default class CeremonyTrustPolicy extends BaseCommand<typeof CeremonyTrustPolicy> {
  static override summary = "Set the longest expiry this laptop signs, per role (the trust folder's policy.json).";
  static override description =
    'Writes policy.json in the keyholder trust folder (atomically; the folder is created if needed). `tufsign ceremony` and `ceremony sign` without a workspace refuse a role expiring later than its maximum (EXPIRY_TOO_LONG) before any secret is asked. ' +
    'Roles not set use the defaults (root and targets 730d, snapshot and timestamp 365d).';
  static override examples = [
    '<%= config.bin %> ceremony trust policy demo --max-expiry root=365d --max-expiry targets=90d',
    '<%= config.bin %> ceremony trust policy demo --reset targets',
  ];
  static override args = {
    repository: Args.string({ description: 'Repository name, as in the request (folder under ~/.tufsign/trust).' }),
  };
  static override flags = {
    'trust-dir': Flags.string({ description: 'The trust folder itself (instead of the repository name).' }),
    'max-expiry': Flags.string({ description: 'ROLE=PERIOD, e.g. root=365d (repeatable).', multiple: true }),
    reset: Flags.string({
      description: 'Back to the default maximum for ROLE (repeatable).',
      multiple: true,
      options: [...POLICY_ROLES],
    }),
  };

  async run(): Promise<TrustFolderView> {
    const view = setTrustPolicy(
      this.ctx.env,
      this.args.repository,
      this.flags['trust-dir'],
      this.flags['max-expiry'] ?? [],
      this.flags.reset ?? [],
    );
    this.log(renderTrustFolder(view));
    return view;
  }
}
