import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { keyAttestFlags, runKeyAttest } from '../../cli/key-attest';
import type { AttestResult } from '../../repository/keys';

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
  static override flags = keyAttestFlags;

  async run(): Promise<AttestResult> {
    return runKeyAttest(this.io, this.flags, this.args);
  }
}
