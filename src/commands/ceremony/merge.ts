import { BaseCommand } from '../../cli/base-command';
import { ceremonyMergeFlags, runCeremonyMerge } from '../../cli/ceremony-merge';
import type { MergeReport } from '../../repository/ceremony/merge';

export default class CeremonyMerge extends BaseCommand<typeof CeremonyMerge> {
  static override summary = 'Combine copies of one request signed by different keyholders.';
  static override description =
    'Every signature is verified again; a copy whose signed content differs, or that belongs to another ceremony or repository, is refused and named.';
  static override examples = [
    '<%= config.bin %> ceremony merge alice.tufsign-request.json bob.tufsign-request.json --request-out merged.tufsign-request.json',
  ];
  static override strict = false;
  static override flags = ceremonyMergeFlags;

  async run(): Promise<MergeReport> {
    return runCeremonyMerge(this.io, this.flags, this.positional);
  }
}
