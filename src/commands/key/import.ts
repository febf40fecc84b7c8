import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { keyImportFlags, runKeyImport } from '../../cli/key-import';
import type { KeyGenerationResult } from '../../repository/keys';

export default class KeyImport extends BaseCommand<typeof KeyImport> {
  static override summary =
    'Register an existing key (e.g. on a token) by URI: read its public key from the device and print or export it.';
  static override examples = [
    "<%= config.bin %> key import 'pkcs11:token=tufsign;object=root-1' --out root-1.pub.json --owner ops",
    "<%= config.bin %> key import 'yubikey:serial=12345678;slot=9c' --json",
  ];
  static override args = { uri: Args.string({ description: 'Key URI (pkcs11:, yubikey:, file:).', required: true }) };
  static override flags = keyImportFlags;

  async run(): Promise<KeyGenerationResult | { keyid: string; uri: string }> {
    return runKeyImport(this.io, this.flags, this.args);
  }
}
