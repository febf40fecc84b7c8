import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { renderSignatures } from '../../cli/ceremony';
import { mergeRequestFiles, type MergeReport } from '../../repository/ceremony/merge';

export default class CeremonyMerge extends BaseCommand<typeof CeremonyMerge> {
  static override summary = 'Combine copies of one request signed by different keyholders.';
  static override description =
    'Every signature is verified again; a copy whose signed content differs, or that belongs to another ceremony or repository, is refused and named.';
  static override examples = [
    '<%= config.bin %> ceremony merge alice.tufsign-request.json bob.tufsign-request.json --request-out merged.tufsign-request.json',
  ];
  static override strict = false;
  static override flags = {
    'request-out': Flags.string({
      description: 'Merged request file to write.',
      required: true,
      aliases: ['out'],
      deprecateAliases: true,
    }),
  };

  async run(): Promise<MergeReport> {
    const result = mergeRequestFiles(this.positional, this.flags['request-out'], {
      now: this.ctx.clock.now(),
      tool: `tufsign ${this.config.version}`,
    });
    this.log(
      [
        `merged ${this.positional.length} copies into ${result.out}: ${result.added.length} signature(s) added`,
        `fingerprint ${result.fingerprint}`,
        ...renderSignatures(result.status),
      ].join('\n'),
    );
    return result;
  }
}
