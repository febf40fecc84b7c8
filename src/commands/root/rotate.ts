import { BaseCommand } from '../../cli/base-command';
import { rootRotateFlags, runRootRotate } from '../../cli/root-rotate';
import type { RotationResult } from '../../repository/rotation';

export default class RootRotate extends BaseCommand<typeof RootRotate> {
  static override summary = 'Prepare root N+1: add or remove root keys, change the root threshold, renew root.';
  static override description =
    'Root N+1 must be signed by the threshold of root N AND its own. Keys reachable here sign at once; if that completes every threshold the change is applied to the workspace ' +
    '(and a bundle written with --bundle-out), otherwise a signing request names exactly who must still sign.';
  static override examples = [
    '<%= config.bin %> root rotate --add-key carol.pub.json --add-key dave.pub.json --remove-key "$(jq -r .keyid keys/root-1.pem.pub.json)" --threshold 2',
    '<%= config.bin %> root rotate --expires 365d   # renew root before it expires',
    '<%= config.bin %> root rotate --fix-keyids   # keyid migration for an imported tufup repository',
  ];
  static override flags = rootRotateFlags;

  async run(): Promise<RotationResult> {
    return runRootRotate(this.io, this.flags);
  }
}
