import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { TufsignError } from '../../errors';
import { attestKey, type AttestResult, type AttestSource } from '../../repository/keys';

export default class KeyAttest extends BaseCommand<typeof KeyAttest> {
  static override summary =
    "Verify a YubiKey key's attestation: every claim of a key file, the chain to Yubico's PIV CA, the validity dates, and a key policy.";
  static override description =
    'Takes a public key file (from `key generate --backend yubikey --public-out` or `key export`), a yubikey: URI (the device attests the slot now), ' +
    'or the raw certificates an auditor holds (--key-cert and --device-cert, with --intermediate for CAs not shipped with tufsign). ' +
    'Every field of a key file must agree with its certificates (ATTESTATION_CLAIM_MISMATCH names the one that does not); ' +
    'certificates must be valid now (TUFSIGN_NOW pins the clock). With --policy root it also checks the root-key policy: touch always, PIN once or always. Exit 5 when the key fails.';
  static override examples = [
    '<%= config.bin %> key attest alice.pub.json',
    "<%= config.bin %> key attest 'yubikey:serial=12345678;slot=9c' --policy root",
    '<%= config.bin %> key attest --key-cert 9c.pem --device-cert f9.pem --serial 12345678',
  ];
  static override args = { key: Args.string({ description: 'Public key file or yubikey: URI.', required: false }) };
  static override flags = {
    policy: Flags.string({
      description: 'Also check a key policy.',
      options: ['attested', 'root'],
      default: 'attested',
    }),
    'attestation-ca': Flags.string({
      description: 'Extra trusted attestation root certificate (PEM), for key files and live devices alike.',
      multiple: true,
    }),
    'key-cert': Flags.string({
      description: 'The slot attestation certificate (`yubico-piv-tool -a attest`), PEM or DER.',
      dependsOn: ['device-cert'],
      exclusive: ['key'],
    }),
    'device-cert': Flags.string({
      description: 'The device attestation certificate (slot f9), PEM or DER.',
      dependsOn: ['key-cert'],
    }),
    intermediate: Flags.string({
      description: 'An intermediate CA certificate between the device certificate and the root (repeatable).',
      multiple: true,
      dependsOn: ['key-cert'],
    }),
    serial: Flags.integer({ description: 'The YubiKey serial the key must have been attested by.', min: 0 }),
  };

  async run(): Promise<AttestResult> {
    let source: AttestSource;
    if (this.flags['key-cert'] !== undefined && this.flags['device-cert'] !== undefined) {
      source = {
        kind: 'certs',
        keyCert: this.flags['key-cert'],
        deviceCert: this.flags['device-cert'],
        intermediates: this.flags.intermediate ?? [],
      };
    } else if (this.args.key !== undefined) {
      source = { kind: 'key', value: this.args.key };
    } else {
      throw new TufsignError('USAGE', 'name a public key file or yubikey: URI, or give --key-cert and --device-cert', {
        rule: 'key attest KEY | --key-cert F --device-cert F',
      });
    }
    const options: Parameters<typeof attestKey>[2] = {
      policy: this.flags.policy === 'root' ? 'root' : 'attested',
      caFiles: this.flags['attestation-ca'] ?? [],
      now: this.ctx.clock.now(),
    };
    if (this.flags.serial !== undefined) options.serial = this.flags.serial;
    const r = await attestKey(source, this.ctx.openOptions(process.cwd()), options);
    if (r.facts !== null) {
      const f = r.facts;
      const show = (k: string): string => (typeof f[k] === 'string' || typeof f[k] === 'number' ? String(f[k]) : '?');
      this.log(
        `keyid ${r.keyid ?? '(no TUF scheme for this key type)'}: attested YubiKey ${show('serial')}, firmware ${show('firmware')}, slot ${show('slot')}, PIN policy ${show('pinPolicy')}, touch policy ${show('touchPolicy')}, form factor ${show('formFactor')}`,
      );
      this.log(`  chain: ${r.chain.join(', issued by ')}`);
    }
    for (const v of r.violations) this.log(`  ✗ ${v}`);
    this.log(r.ok ? 'attestation verified' : 'attestation verified, but the key does not meet the policy');
    if (!r.ok)
      throw new TufsignError(
        'POLICY_VIOLATION',
        `the key does not meet the ${this.flags.policy} policy: ${r.violations.join('; ')}`,
        {
          file: this.args.key ?? this.flags['key-cert'],
          rule: 'BAD-58 root keys must be attested YubiKey keys with touch always',
          details: { result: r },
        },
      );
    return r;
  }
}
