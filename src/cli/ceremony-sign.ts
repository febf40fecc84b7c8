/**
 * `ceremony sign REQUEST --key URI`: the keyholder's unattended-capable signing. The fingerprint is compared before
 * any key is opened; dangers and first contact are shown (and confirmed unless --yes) before the PIN.
 */
import { Flags, type Interfaces } from '@oclif/core';
import { confirmText, renderDangers, renderRequest, renderSignReport, renderTrust, trustOptions } from './ceremony';
import { requireInteractiveOrYes } from './context';
import { keyholderContext } from './keyholder-keys';
import { TufsignError } from '../errors';
import { parseKeyRef } from '../keystore/key-ref';
import { openRequest, requireFingerprint, signChecked, type FingerprintCheck } from '../repository/keyholder-sign';
import type { SignReport } from '../repository/keyholder-sign';
import { Workspace } from '../repository/workspace';
import type { CommandIo } from './base-command';

export const ceremonySignFlags = {
  key: Flags.string({ description: 'Key URI to sign with (repeatable).', multiple: true, required: true }),
  fingerprint: Flags.string({
    description: 'The fingerprint the organizer read out; required unless --no-fingerprint-check.',
  }),
  'no-fingerprint-check': Flags.boolean({
    description: 'Sign without comparing the fingerprint (recorded in the transcript).',
    default: false,
    exclusive: ['fingerprint'],
  }),
  workspace: Flags.string({
    char: 'w',
    description: 'Workspace to check the request against (default: the current folder, if it is one).',
  }),
  'trust-dir': Flags.string({
    description:
      'Keyholder trust folder holding the pinned root (default: ~/.tufsign/trust/REPOSITORY; used without a workspace).',
  }),
};

export async function runCeremonySign(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof ceremonySignFlags>,
  args: { request: string },
): Promise<SignReport & { pinned?: string }> {
  const dir = flags.workspace ?? '.';
  const ws = Workspace.exists(dir) ? Workspace.open(dir) : undefined;
  if (flags.workspace !== undefined && ws === undefined)
    throw new TufsignError('WORKSPACE_NOT_FOUND', `${dir} is not a tufsign workspace`, {
      suggestion: 'Omit -w to sign without a workspace.',
    });
  let check: FingerprintCheck;
  if (flags['no-fingerprint-check']) check = 'skipped';
  else if (flags.fingerprint !== undefined) check = { typed: flags.fingerprint };
  else {
    throw new TufsignError(
      'FINGERPRINT_REQUIRED',
      'ceremony sign needs --fingerprint VALUE: the fingerprint the organizer reads out',
      {
        rule: 'signers compare the fingerprint the organizer reads out',
        suggestion:
          'Pass --fingerprint VALUE (or --no-fingerprint-check to skip the comparison; the transcript records it).',
      },
    );
  }
  const ctx = keyholderContext({ run: io.ctx, baseDir: ws?.dir ?? process.cwd(), workspace: ws }, io.tool);
  const checked = openRequest(args.request, ws, ctx, trustOptions(io.ctx.env, flags['trust-dir']));
  requireFingerprint(checked, check);
  const fc = checked.trust.firstContact;
  if (!io.yes) {
    requireInteractiveOrYes(io.ctx.prompter, io.yes, 'signing');
    io.note(
      [...renderDangers(checked), ...renderTrust(checked), renderRequest(checked.described, checked.labels)].join('\n'),
    );
    if (
      fc !== undefined &&
      !(await io.ctx.prompter.confirm(
        `First contact: trust root v${fc.version} (root fingerprint ${fc.rootFingerprint}) from now on?`,
        false,
      ))
    ) {
      throw new TufsignError('ABORTED', 'not signed: you did not confirm the first contact', {
        rule: 'a first contact is confirmed explicitly',
      });
    }
    const ok = await io.ctx.prompter.confirm(confirmText(checked, flags.key), false);
    if (!ok)
      throw new TufsignError('ABORTED', 'not signed: you declined', { rule: 'explicit confirmation before signing' });
  } else {
    const shout = [...renderDangers(checked), ...(fc !== undefined ? renderTrust(checked) : [])];
    if (shout.length > 0) io.note(shout.join('\n'));
  }
  // `--key` text becomes a KeyRef here, once
  const keys = flags.key.map((k) => parseKeyRef(k));
  const result = await signChecked(checked, keys, check, ws, ctx, true);
  io.log(renderSignReport(result));
  return result;
}
