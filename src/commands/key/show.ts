import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { runKeyShow } from '../../cli/key-show';

export default class KeyShow extends BaseCommand<typeof KeyShow> {
  static override summary = "Show a key's public key and keyid (from a key URI or a public key file).";
  static override examples = [
    '<%= config.bin %> key show alice.pub.json',
    '<%= config.bin %> key show file:keys/alice.pem --json',
  ];
  static override args = {
    key: Args.string({ description: 'Key URI (file:, pkcs11:, yubikey:) or public key file.', required: true }),
  };

  async run(): Promise<{ keyid: string; key: unknown; uri: string | null; owner: string | null }> {
    return runKeyShow(this.io, this.args);
  }
}
