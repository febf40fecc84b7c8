import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { keyExportFlags, runKeyExport } from '../../cli/key-export';
import type { KeyGenerationResult } from '../../repository/keys';

export default class KeyExport extends BaseCommand<typeof KeyExport> {
  static override summary = "Write a key's public part as a JSON key file to hand to the organizer.";
  static override examples = [
    '<%= config.bin %> key export file:keys/alice.pem --out alice.pub.json --owner alice',
    "<%= config.bin %> key export 'yubikey:serial=12345678;slot=9c' --out alice.pub.json --owner alice",
  ];
  static override args = { key: Args.string({ description: 'Key URI (file:, pkcs11:, yubikey:).', required: true }) };
  static override flags = keyExportFlags;

  async run(): Promise<KeyGenerationResult> {
    return runKeyExport(this.io, this.flags, this.args);
  }
}
