import { BaseCommand } from '../../cli/base-command';
import { keyGenerateFlags, runKeyGenerate } from '../../cli/key-generate';
import type { KeyGenerationResult } from '../../repository/keys';

export default class KeyGenerate extends BaseCommand<typeof KeyGenerate> {
  static override summary =
    'Generate a signing key: an encrypted key file, a key on a PKCS#11 token, or a key on a YubiKey.';
  static override examples = [
    '<%= config.bin %> key generate --out keys/alice-root.pem --public-out alice.pub.json --owner alice',
    '<%= config.bin %> key generate --backend pkcs11 --token release --label targets-1 --scheme ecdsa-sha2-nistp256 --pkcs11-module /usr/lib/softhsm/libsofthsm2.so',
    '<%= config.bin %> key generate --backend yubikey --serial 12345678 --slot 9c --touch-policy always --public-out alice.pub.json',
  ];
  static override flags = keyGenerateFlags;

  async run(): Promise<KeyGenerationResult> {
    return runKeyGenerate(this.io, this.flags);
  }
}
