import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { TufsignError } from '../../errors';
import { attestKey, rootKeyPolicy, type AttestResult } from '../../repository/keys';

export default class KeyAttest extends BaseCommand<typeof KeyAttest> {
  static override summary =
    "Re-verify a YubiKey key's attestation (chain to Yubico's PIV CA, serial, firmware, PIN/touch policy).";
  static override description =
    'Takes a public key file (from `key generate --backend yubikey --public-out` or `key export`) or a yubikey: URI. ' +
    'With --policy root it also checks the root-key policy: attested, touch always, PIN once or always. Exit 5 when the key fails.';
  static override examples = [
    '<%= config.bin %> key attest alice.pub.json',
    "<%= config.bin %> key attest 'yubikey:serial=12345678;slot=9c' --policy root",
  ];
  static override args = { key: Args.string({ description: 'Public key file or yubikey: URI.', required: true }) };
  static override flags = {
    policy: Flags.string({
      description: 'Also check a key policy.',
      options: ['attested', 'root'],
      default: 'attested',
    }),
    'attestation-ca': Flags.string({
      description: 'Extra trusted attestation root certificate (PEM).',
      multiple: true,
    }),
  };

  async run(): Promise<AttestResult> {
    const base = rootKeyPolicy(this.flags['attestation-ca'] ?? []);
    const policy = this.flags.policy === 'root' ? base : { requireAttestation: true, roots: base.roots ?? [] };
    const r = await attestKey(this.args.key, this.ctx.openOptions(process.cwd()), policy);
    if (r.facts !== null) {
      const f = r.facts;
      const show = (k: string): string => (typeof f[k] === 'string' || typeof f[k] === 'number' ? String(f[k]) : '?');
      this.log(
        `keyid ${r.keyid}: YubiKey ${show('serial')}, firmware ${show('firmware')}, slot ${show('slot')}, PIN policy ${show('pinPolicy')}, touch policy ${show('touchPolicy')}`,
      );
    }
    for (const v of r.violations) this.log(`  ✗ ${v}`);
    this.log(r.ok ? 'attestation verified' : 'attestation check FAILED');
    if (!r.ok)
      throw new TufsignError('ATTESTATION_INVALID', `attestation check failed: ${r.violations[0] ?? 'see details'}`, {
        file: this.args.key,
        details: { result: r },
      });
    return r;
  }
}
