import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { workspaceAliasFlag, workspaceFrom } from '../cli/flags';
import { renderStatus } from '../cli/render';
import { repositoryStatus, type RepositoryStatus } from '../repository/status';
import { Workspace } from '../repository/workspace';

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show every role: version, expiry and days left, threshold, keys (keyid, owner, backend).';
  static override examples = ['<%= config.bin %> status -w myrepo', '<%= config.bin %> status -w myrepo --json'];
  static override args = { dir: Args.string({ description: 'Workspace directory (alias of -w; default: the current folder).' }) };
  static override flags = { workspace: workspaceAliasFlag };

  async run(): Promise<RepositoryStatus> {
    const ws = Workspace.open(workspaceFrom(this.flags.workspace, this.args.dir));
    const status = repositoryStatus(ws, this.ctx.clock.now());
    this.log(renderStatus(status));
    return status;
  }
}
