import { BaseCommand } from '../cli/base-command';
import { waitFlag, workspaceFlag } from '../cli/flags';
import { renderOperation } from '../cli/render';
import { refresh } from '../repository/refresh';
import type { OperationResult } from '../repository/outcome';
import { Workspace } from '../repository/workspace';

export default class Refresh extends BaseCommand<typeof Refresh> {
  static override summary =
    'Re-sign snapshot and timestamp with new versions and expiries (the routine job before they expire).';
  static override examples = [
    '<%= config.bin %> refresh -w myrepo',
    '<%= config.bin %> refresh -w myrepo --passphrase-file /etc/tufsign/online.pass --json',
  ];
  static override flags = { workspace: workspaceFlag, wait: waitFlag };

  async run(): Promise<OperationResult> {
    await this.lockWorkspace(this.flags.workspace);
    const ws = Workspace.open(this.flags.workspace);
    const result = await refresh(ws, this.ctx.signingContext(ws.dir, ws));
    this.log(renderOperation(result, ws.dir));
    return result;
  }
}
