import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { exportKey, type KeyGenerationResult } from '../../repository/keys';

export default class KeyExport extends BaseCommand<typeof KeyExport> {
  static override summary = "Write a key's public part as a JSON key file to hand to the organizer.";
  static override examples = [
    '<%= config.bin %> key export file:keys/alice.pem --out alice.pub.json --owner alice',
    "<%= config.bin %> key export 'yubikey:serial=12345678;slot=9c' --out alice.pub.json --owner alice",
  ];
  static override args = { key: Args.string({ description: 'Key URI (file:, pkcs11:, yubikey:).', required: true }) };
  static override flags = {
    out: Flags.string({ char: 'o', description: 'Public key file to write.', required: true }),
    owner: Flags.string({ description: "Owner label (e.g. the keyholder's name)." }),
  };

  async run(): Promise<KeyGenerationResult> {
    const r = await exportKey(this.args.key, this.flags.out, this.flags.owner, this.ctx.openOptions(process.cwd()));
    this.log(`keyid ${r.keyid} → ${this.flags.out}`);
    return r;
  }
}
