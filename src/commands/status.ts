import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { renderStatus } from '../cli/render';
import { repositoryStatus, type RepositoryStatus } from '../repository/status';
import { Workspace } from '../repository/workspace';

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show every role: version, expiry and days left, threshold, keys (keyid, owner, backend).';
  static override args = { dir: Args.string({ description: 'Workspace directory.', default: '.' }) };

  async run(): Promise<RepositoryStatus> {
    const ws = Workspace.open(this.args.dir);
    const status = repositoryStatus(ws, this.ctx.clock.now());
    this.log(renderStatus(status));
    return status;
  }
}
