/** Picks the backend for a key URI. Native modules stay unloaded until a backend actually needs them. */
import { TufsignError } from '../errors';
import type { Key } from '../tuf/key';
import type { KeyBackend, OpenOptions } from './backend';
import { fileBackend } from './file';
import { pkcs11Backend } from './pkcs11';
import { backendOfUri, type Backend, type Signer } from './signer';
import { yubikeyBackend } from './yubikey';

export const BACKENDS: Record<Backend, KeyBackend> = {
  file: fileBackend,
  pkcs11: pkcs11Backend,
  yubikey: yubikeyBackend,
};

export function backendFor(uri: string): KeyBackend {
  const name = backendOfUri(uri);
  if (name === undefined) {
    throw new TufsignError('KEY_URI_INVALID', `unknown key URI "${uri}"`, {
      rule: 'key URIs start with file:, pkcs11: or yubikey:',
      suggestion:
        'Examples: file:keys/root-1.pem, pkcs11:token=ci;object=targets?module-path=/usr/lib/softhsm/libsofthsm2.so, yubikey:serial=12345678;slot=9c',
    });
  }
  return BACKENDS[name];
}

/** Open a signer; when `expectedKey` is given, the backend refuses a different key before spending a PIN try. */
export async function openSigner(uri: string, options: OpenOptions & { expectedKey?: Key }): Promise<Signer> {
  return backendFor(uri).open(uri, options);
}
