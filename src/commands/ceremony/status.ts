import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { renderRequest } from '../../cli/ceremony';
import { requestStatusFile } from '../../repository/ceremony/status';
import type { RequestWritten } from '../../repository/requests';
import { Workspace } from '../../repository/workspace';

export default class CeremonyStatus extends BaseCommand<typeof CeremonyStatus> {
  static override summary = 'Show what a request signs, its fingerprint, and who still has to sign.';
  static override description =
    'Recomputed from the metadata and signatures every time: per role the version, expiry, fingerprint, valid signatures and exactly who is still needed (for root both the previous and the new threshold), ' +
    'whether the transcript chain is intact, and whether the request can be finalized. Exit 0 even when signatures are missing.';
  static override examples = [
    '<%= config.bin %> ceremony status root-v2.tufsign-request.json',
    '<%= config.bin %> ceremony status root-v2.tufsign-request.json --json',
  ];
  static override args = { request: Args.string({ description: 'Request file.', required: true }) };
  static override flags = {
    workspace: Flags.string({
      char: 'w',
      description: 'Workspace to check the request against (adds its minimum-validity policy).',
    }),
  };

  async run(): Promise<RequestWritten> {
    const dir = this.flags.workspace ?? '.';
    const ws = Workspace.exists(dir) ? Workspace.open(dir) : undefined;
    const result = requestStatusFile(this.args.request, ws, { now: this.ctx.clock.now() });
    this.log(renderRequest(result));
    return result;
  }
}
