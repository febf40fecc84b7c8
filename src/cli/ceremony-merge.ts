/** `ceremony merge A B … --request-out FILE`: the signatures of several copies of one request, in one file. */
import { Flags, type Interfaces } from '@oclif/core';
import { renderSignatures } from './ceremony';
import { mergeRequestFiles, type MergeReport } from '../repository/ceremony/merge';
import type { CommandIo } from './base-command';

export const ceremonyMergeFlags = {
  'request-out': Flags.string({
    description: 'Merged request file to write.',
    required: true,
    aliases: ['out'],
    deprecateAliases: true,
  }),
};

export function runCeremonyMerge(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof ceremonyMergeFlags>,
  positional: readonly string[],
): MergeReport {
  const result = mergeRequestFiles(positional, flags['request-out'], {
    now: io.ctx.clock.now(),
    tool: io.tool,
  });
  io.log(
    [
      `merged ${positional.length} copies into ${result.out}: ${result.added.length} signature(s) added`,
      `fingerprint ${result.fingerprint}`,
      ...renderSignatures(result.status),
    ].join('\n'),
  );
  return result;
}
