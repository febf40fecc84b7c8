import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { exportKey, readKey, type KeyGenerationResult } from '../../repository/keys';

export default class KeyImport extends BaseCommand<typeof KeyImport> {
  static override summary =
    'Register an existing key (e.g. on a token) by URI: read its public key from the device and print or export it.';
  static override examples = [
    "<%= config.bin %> key import 'pkcs11:token=tufsign;object=root-1' --out root-1.pub.json --owner ops",
    "<%= config.bin %> key import 'yubikey:serial=12345678;slot=9c' --json",
  ];
  static override args = { uri: Args.string({ description: 'Key URI (pkcs11:, yubikey:, file:).', required: true }) };
  static override flags = {
    out: Flags.string({ char: 'o', description: 'Also write the public key file here.' }),
    owner: Flags.string({ description: 'Owner label for the public key file.' }),
  };

  async run(): Promise<KeyGenerationResult | { keyid: string; uri: string }> {
    const open = this.ctx.openOptions(process.cwd());
    if (this.flags.out !== undefined) {
      const r = await exportKey(this.args.uri, this.flags.out, this.flags.owner, open);
      this.log(`keyid ${r.keyid} (${this.args.uri}) → ${this.flags.out}`);
      return r;
    }
    const f = await readKey(this.args.uri, open);
    this.log(
      `keyid:  ${f.keyid}\nscheme: ${f.key.scheme}\nuri:    ${this.args.uri}\npublic: ${f.key.publicValue.trim()}`,
    );
    return { keyid: f.keyid, uri: this.args.uri };
  }
}
