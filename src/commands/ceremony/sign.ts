import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import {
  ceremonyContext,
  confirmText,
  renderDangers,
  renderRequest,
  renderSignReport,
  renderTrust,
  trustOptions,
} from '../../cli/ceremony';
import { requireInteractiveOrYes } from '../../cli/context';
import { TufsignError } from '../../errors';
import { openRequest, requireFingerprint, signChecked, type FingerprintCheck } from '../../repository/keyholder-sign';
import type { SignReport } from '../../repository/keyholder-sign';
import { Workspace } from '../../repository/workspace';

export default class CeremonySign extends BaseCommand<typeof CeremonySign> {
  static override summary = 'Sign a request with a key, after comparing its fingerprint (unattended with --yes).';
  static override description =
    'Compares --fingerprint (the value the organizer read out; case, spaces and dashes ignored) with the request before any key is opened, shows what is signed, asks for confirmation (unless --yes), ' +
    'signs every role of the request this key can sign, verifies each new signature, and saves the request atomically. Signing again with the same key adds nothing. A key that is not in the plan is refused. ' +
    '--no-fingerprint-check skips the comparison; the transcript records that it was skipped.';
  static override examples = [
    "<%= config.bin %> ceremony sign root-v2.tufsign-request.json --key 'yubikey:serial=12345678;slot=9c' --fingerprint 7K3M-QX2A-9BDE-H4TW-R8NC",
    '<%= config.bin %> ceremony sign req.tufsign-request.json --key file:keys/alice.pem --fingerprint 7k3mqx2a9bdeh4twr8nc --yes',
  ];
  static override args = { request: Args.string({ description: 'Request file.', required: true }) };
  static override flags = {
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

  async run(): Promise<SignReport & { pinned?: string }> {
    const dir = this.flags.workspace ?? '.';
    const ws = Workspace.exists(dir) ? Workspace.open(dir) : undefined;
    if (this.flags.workspace !== undefined && ws === undefined)
      throw new TufsignError('WORKSPACE_NOT_FOUND', `${dir} is not a tufsign workspace`, {
        suggestion: 'Omit -w to sign without a workspace.',
      });
    let check: FingerprintCheck;
    if (this.flags['no-fingerprint-check']) check = 'skipped';
    else if (this.flags.fingerprint !== undefined) check = { typed: this.flags.fingerprint };
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
    const ctx = ceremonyContext(this.ctx, ws?.dir ?? process.cwd(), ws, `tufsign ${this.config.version}`);
    const checked = openRequest(this.args.request, ws, ctx, trustOptions(this.ctx.env, this.flags['trust-dir']));
    requireFingerprint(checked, check);
    const fc = checked.trust.firstContact;
    if (!this.flags.yes) {
      requireInteractiveOrYes(this.ctx.prompter, this.flags.yes, 'signing');
      this.note(
        [...renderDangers(checked), ...renderTrust(checked), renderRequest(checked.described, checked.labels)].join(
          '\n',
        ),
      );
      if (
        fc !== undefined &&
        !(await this.ctx.prompter.confirm(
          `First contact: trust root v${fc.version} (root fingerprint ${fc.rootFingerprint}) from now on?`,
          false,
        ))
      ) {
        throw new TufsignError('ABORTED', 'not signed: you did not confirm the first contact', {
          rule: 'a first contact is confirmed explicitly',
        });
      }
      const ok = await this.ctx.prompter.confirm(confirmText(checked, this.flags.key), false);
      if (!ok)
        throw new TufsignError('ABORTED', 'not signed: you declined', { rule: 'explicit confirmation before signing' });
    } else {
      const shout = [...renderDangers(checked), ...(fc !== undefined ? renderTrust(checked) : [])];
      if (shout.length > 0) this.note(shout.join('\n'));
    }
    const result = await signChecked(checked, this.flags.key, check, ws, ctx, true);
    this.log(renderSignReport(result));
    return result;
  }
}
