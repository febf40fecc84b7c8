import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonyFinalizeFlags, runCeremonyFinalize } from '../../cli/ceremony-finalize';
import type { FinalizeReport } from '../../repository/ceremony/finalize';

export default class CeremonyFinalize extends BaseCommand<typeof CeremonyFinalize> {
  static override summary =
    'Check every threshold, write the new metadata into the workspace and emit the upload bundle.';
  static override description =
    'Refuses until every threshold is met (for root: the previous AND the new), the root version is exactly previous + 1, and nothing expires sooner than the configured minimum validity (root: 7 days by default; --allow-short-expiry waives the minimum, never an expired role). ' +
    'Snapshot and timestamp are re-signed with the keys here, or left as a further request. The bundle is DIR plus DIR.tar.gz: exactly the files to upload, BUNDLE.json and the transcript.';
  static override examples = [
    '<%= config.bin %> ceremony finalize merged.tufsign-request.json --bundle-out bundle-root-v2',
  ];
  static override args = { request: Args.string({ description: 'Request file.', required: true }) };
  static override flags = ceremonyFinalizeFlags;

  async run(): Promise<FinalizeReport> {
    return runCeremonyFinalize(this.io, this.flags, this.args);
  }
}
