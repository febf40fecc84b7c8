import { BaseCommand } from '../cli/base-command';
import { waitFlag, workspaceFlag } from '../cli/flags';
import { renderOperation } from '../cli/render';
import { renderDueElsewhere, runRefresh } from '../cli/delegated-sign';
import type { RefreshResult } from '../repository/delegated-sign';
import { Workspace } from '../repository/workspace';

export default class Refresh extends BaseCommand<typeof Refresh> {
  static override summary =
    'Re-sign snapshot and timestamp with new versions and expiries (the routine job before they expire), and every delegated role inside its signing window whose keys are here.';
  static override examples = [
    '<%= config.bin %> refresh -w myrepo',
    '<%= config.bin %> refresh -w myrepo --passphrase-file /etc/tufsign/online.pass --json',
  ];
  static override flags = { workspace: workspaceFlag, wait: waitFlag };

  async run(): Promise<RefreshResult> {
    await this.lockWorkspace(this.flags.workspace);
    const result = await runRefresh(this.ctx, this.flags.workspace);
    this.log(renderOperation(result, Workspace.open(this.flags.workspace).dir) + renderDueElsewhere(result));
    return result;
  }
}
