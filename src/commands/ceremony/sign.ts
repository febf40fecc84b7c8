import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonySignFlags, runCeremonySign } from '../../cli/ceremony-sign';
import type { SignReport } from '../../repository/keyholder-sign';

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
  static override flags = ceremonySignFlags;

  async run(): Promise<SignReport & { pinned?: string }> {
    return runCeremonySign(this.io, this.flags, this.args);
  }
}
