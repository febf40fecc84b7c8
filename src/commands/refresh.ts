import { BaseCommand } from '../cli/base-command';
import { refreshFlags, runRefresh } from '../cli/refresh';
import type { RefreshResult } from '../repository/delegated-sign';

export default class Refresh extends BaseCommand<typeof Refresh> {
  static override summary =
    'Re-sign snapshot and timestamp with new versions and expiries (the routine job before they expire), and every delegated role inside its signing window whose keys are here.';
  static override examples = [
    '<%= config.bin %> refresh -w myrepo',
    '<%= config.bin %> refresh -w myrepo --passphrase-file /etc/tufsign/online.pass --json',
  ];
  static override flags = refreshFlags;

  async run(): Promise<RefreshResult> {
    return runRefresh(this.io, this.flags);
  }
}
