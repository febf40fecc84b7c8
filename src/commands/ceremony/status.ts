import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonyStatusFlags, runCeremonyStatus } from '../../cli/ceremony-status';
import type { RequestWritten } from '../../repository/requests';

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
  static override flags = ceremonyStatusFlags;

  async run(): Promise<RequestWritten> {
    return runCeremonyStatus(this.io, this.flags, this.args);
  }
}
