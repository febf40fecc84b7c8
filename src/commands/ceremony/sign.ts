import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonyContext, renderRequest, renderSignReport } from '../../cli/ceremony';
import { requireInteractiveOrYes } from '../../cli/context';
import { TufsignError } from '../../errors';
import { requestStatusFile, signRequestFile, type SignReport } from '../../repository/ceremony';
import { Workspace } from '../../repository/workspace';

export default class CeremonySign extends BaseCommand<typeof CeremonySign> {
  static override summary = 'Sign a request with a key (unattended with --yes).';
  static override description =
    'Shows what is signed and the fingerprint, asks for confirmation (unless --yes), signs every role of the request this key can sign, verifies each new signature, and saves the request atomically. ' +
    'Signing again with the same key adds nothing. A key that is not in the request\'s plan is refused.';
  static override examples = ['<%= config.bin %> ceremony sign root-v2.tufsign-request.json --key \'yubikey:serial=12345678;slot=9c\'', '<%= config.bin %> ceremony sign req.tufsign-request.json --key file:keys/alice.pem --yes'];
  static override args = { request: Args.string({ description: 'Request file.', required: true }) };
  static override flags = {
    key: Flags.string({ description: 'Key URI to sign with (repeatable).', multiple: true, required: true }),
    workspace: Flags.string({ char: 'w', description: 'Workspace to check the request against (default: the current folder, if it is one).' }),
  };

  async run(): Promise<SignReport> {
    const dir = this.flags.workspace ?? '.';
    const ws = Workspace.exists(dir) ? Workspace.open(dir) : undefined;
    if (this.flags.workspace !== undefined && ws === undefined) throw new TufsignError('WORKSPACE_NOT_FOUND', `${dir} is not a tufsign workspace`, { suggestion: 'Omit -w to sign without a workspace.' });
    const ctx = ceremonyContext(this.ctx, ws?.dir ?? process.cwd(), ws, `tufsign ${this.config.version}`);
    if (!this.flags.yes) {
      requireInteractiveOrYes(this.ctx.prompter, this.flags.yes, 'signing');
      this.note(renderRequest(requestStatusFile(this.args.request, ws, ctx)));
      const ok = await this.ctx.prompter.confirm(`Sign with ${this.flags.key.join(', ')}?`, false);
      if (!ok) throw new TufsignError('ABORTED', 'not signed: you declined', { rule: 'explicit confirmation before signing' });
    }
    const result = await signRequestFile(this.args.request, this.flags.key, ws, ctx);
    this.log(renderSignReport(result));
    return result;
  }
}
