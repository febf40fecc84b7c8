/** `ceremony finalize`: a complete request into the workspace and the upload bundle, rendered for the organizer. */
import { Flags, type Interfaces } from '@oclif/core';
import { ceremonyContext, renderRequest } from './ceremony';
import { bundlePublishHint, publishHint } from './render';
import { waitFlag, workspaceFlag } from './flags';
import { finalizeRequestFile, type FinalizeReport } from '../repository/ceremony/finalize';
import type { CommandIo } from './base-command';

export const ceremonyFinalizeFlags = {
  workspace: workspaceFlag,
  wait: waitFlag,
  'bundle-out': Flags.string({
    description: 'Bundle folder to write, or one .tar.gz file when PATH ends in .tar.gz.',
    required: true,
    aliases: ['out'],
    deprecateAliases: true,
  }),
  'allow-short-expiry': Flags.boolean({
    description: 'Accept metadata that expires sooner than the configured minimum validity.',
    default: false,
  }),
  'request-out': Flags.string({
    description: 'Where to write a follow-up request when snapshot/timestamp cannot be signed here.',
    aliases: ['follow-up-out'],
    deprecateAliases: true,
  }),
};

export async function runCeremonyFinalize(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof ceremonyFinalizeFlags>,
  args: { request: string },
): Promise<FinalizeReport> {
  const ws = await io.openWorkspace(flags.workspace);
  const options: Parameters<typeof finalizeRequestFile>[2] = {
    bundleOut: flags['bundle-out'],
    allowShortExpiry: flags['allow-short-expiry'],
  };
  if (flags['request-out'] !== undefined) options.followUpOut = flags['request-out'];
  const result = await finalizeRequestFile(ws, args.request, options, ceremonyContext(io.ctx, ws.dir, ws, io.tool));
  const lines = [
    ...result.roles.map(
      (r) =>
        `finalized ${r.role} v${r.version} (expires ${r.expires}, ${r.signatures} signature${r.signatures === 1 ? '' : 's'})`,
    ),
    `written: ${result.written.join(', ')}`,
  ];
  if (result.bundle !== undefined)
    lines.push(
      `bundle: ${result.bundle.path} (${result.bundle.files.length} files)`,
      `check it: tufsign verify ${result.bundle.path} --root <the root clients trust now>`,
    );
  if (result.followUp !== undefined)
    lines.push('snapshot/timestamp keys are not here: a follow-up request was written', renderRequest(result.followUp));
  else lines.push(result.bundle !== undefined ? bundlePublishHint(result.bundle.path) : publishHint(ws.dir));
  io.log(lines.join('\n'));
  return result;
}
