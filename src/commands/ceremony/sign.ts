import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonyContext, renderRequest, renderSignReport } from '../../cli/ceremony';
import { requireInteractiveOrYes } from '../../cli/context';
import { safeText } from '../../cli/safe-text';
import { TufsignError } from '../../errors';
import { openRequest, requireFingerprint, signChecked, type FingerprintCheck } from '../../keyholder/sign';
import type { SignReport } from '../../repository/ceremony';
import { Workspace } from '../../repository/workspace';

export default class CeremonySign extends BaseCommand<typeof CeremonySign> {
  static override summary = 'Sign a request with a key, after comparing its fingerprint (unattended with --yes).';
  static override description =
    'Compares --fingerprint (the value the organizer read out; case, spaces and dashes ignored) with the request before any key is opened, shows what is signed, asks for confirmation (unless --yes), ' +
    'signs every role of the request this key can sign, verifies each new signature, and saves the request atomically. Signing again with the same key adds nothing. A key that is not in the plan is refused. ' +
    '--no-fingerprint-check skips the comparison; the transcript records that it was skipped.';
  static override examples = [
    '<%= config.bin %> ceremony sign root-v2.tufsign-request.json --key yubikey:serial=12345678;slot=9c --fingerprint 7K3M-QX2A-9BDE-H4TW-R8NC',
    '<%= config.bin %> ceremony sign req.tufsign-request.json --key file:keys/alice.pem --fingerprint 7k3mqx2a9bdeh4twr8nc --yes',
  ];
  static override args = { request: Args.string({ description: 'Request file.', required: true }) };
  static override flags = {
    key: Flags.string({ description: 'Key URI to sign with (repeatable).', multiple: true, required: true }),
    fingerprint: Flags.string({ description: 'The fingerprint the organizer read out; required unless --no-fingerprint-check.' }),
    'no-fingerprint-check': Flags.boolean({ description: 'Sign without comparing the fingerprint (recorded in the transcript).', default: false, exclusive: ['fingerprint'] }),
    workspace: Flags.string({ char: 'w', description: 'Workspace to check the request against (default: the current folder, if it is one).' }),
  };

  async run(): Promise<SignReport> {
    const dir = this.flags.workspace ?? '.';
    const ws = Workspace.exists(dir) ? Workspace.open(dir) : undefined;
    if (this.flags.workspace !== undefined && ws === undefined) throw new TufsignError('WORKSPACE_NOT_FOUND', `${dir} is not a tufsign workspace`, { suggestion: 'Omit -w to sign without a workspace.' });
    let check: FingerprintCheck;
    if (this.flags['no-fingerprint-check']) check = 'skipped';
    else if (this.flags.fingerprint !== undefined) check = { typed: this.flags.fingerprint };
    else {
      throw new TufsignError('FINGERPRINT_REQUIRED', 'ceremony sign needs --fingerprint VALUE: the fingerprint the organizer reads out', {
        rule: 'signers compare the fingerprint the organizer reads out',
        suggestion: 'Pass --fingerprint VALUE (or --no-fingerprint-check to skip the comparison; the transcript records it).',
      });
    }
    const ctx = ceremonyContext(this.ctx, ws?.dir ?? process.cwd(), ws, `tufsign ${this.config.version}`);
    const checked = openRequest(this.args.request, ws, ctx);
    requireFingerprint(checked, check);
    if (!this.flags.yes) {
      requireInteractiveOrYes(this.ctx.prompter, this.flags.yes, 'signing');
      this.note(renderRequest(checked.described, checked.labels));
      const ok = await this.ctx.prompter.confirm(`Sign with ${this.flags.key.map(safeText).join(', ')}?`, false);
      if (!ok) throw new TufsignError('ABORTED', 'not signed: you declined', { rule: 'explicit confirmation before signing' });
    }
    const result = await signChecked(checked, this.flags.key, check, ws, ctx);
    this.log(renderSignReport(result));
    return result;
  }
}
