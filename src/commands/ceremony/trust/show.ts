import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../../cli/base-command';
import { renderTrustFolder, showTrustFolder } from '../../../cli/keyholder-trust';
import type { TrustFolderView } from '../../../repository/keyholder-trust';

export default class CeremonyTrustShow extends BaseCommand<typeof CeremonyTrustShow> {
  static override summary = 'Show a keyholder trust folder: the pinned root and the longest expiry signed here.';
  static override description =
    'The root this laptop pins for a repository (version, expiry, root fingerprint, root keys and threshold), or that nothing is pinned yet, and the per-role maximum expiry that `tufsign ceremony` enforces here (policy.json, else the defaults).';
  static override examples = [
    '<%= config.bin %> ceremony trust show demo',
    '<%= config.bin %> ceremony trust show --trust-dir /media/usb/trust/demo --json',
  ];
  static override args = {
    repository: Args.string({ description: 'Repository name, as in the request (folder under ~/.tufsign/trust).' }),
  };
  static override flags = {
    'trust-dir': Flags.string({ description: 'The trust folder itself (instead of the repository name).' }),
  };

  async run(): Promise<TrustFolderView> {
    const view = showTrustFolder(this.ctx.env, this.args.repository, this.flags['trust-dir']);
    this.log(renderTrustFolder(view));
    return view;
  }
}
