/** Picks the backend for a parsed key reference. Native modules stay unloaded until a backend actually needs them. */
import type { GeneratedKey, OpenOptions, ReadableKeyBackend } from './backend';
import { fileBackend } from './file';
import { parseKeyRef, type FileKeyRef, type KeyRef, type Pkcs11KeyRef, type YubiKeyRef } from './key-ref';
import { pkcs11Backend } from './pkcs11';
import type { Signer } from './signer';
import { yubikeyBackend } from './yubikey';

export const BACKENDS: {
  readonly file: ReadableKeyBackend<FileKeyRef>;
  readonly pkcs11: ReadableKeyBackend<Pkcs11KeyRef>;
  readonly yubikey: ReadableKeyBackend<YubiKeyRef>;
} = {
  file: fileBackend,
  pkcs11: pkcs11Backend,
  yubikey: yubikeyBackend,
};

/**
 * Open a signer; when `expectedKey` is given, the backend refuses a different key before spending a PIN try.
 * Library callers may pass the URI text: this is their boundary, and it is parsed here, once.
 */
export async function openSigner(key: KeyRef | string, options: OpenOptions): Promise<Signer> {
  const ref = typeof key === 'string' ? parseKeyRef(key) : key;
  switch (ref.backend) {
    case 'file':
      return BACKENDS.file.open(ref, options);
    case 'pkcs11':
      return BACKENDS.pkcs11.open(ref, options);
    case 'yubikey':
      return BACKENDS.yubikey.open(ref, options);
  }
}

/** The public key a reference holds, without signing (`key show`, `key import`, `key attach`). */
export async function readPublicKey(key: KeyRef | string, options: OpenOptions): Promise<GeneratedKey> {
  const ref = typeof key === 'string' ? parseKeyRef(key) : key;
  switch (ref.backend) {
    case 'file':
      return BACKENDS.file.readPublicKey(ref, options);
    case 'pkcs11':
      return BACKENDS.pkcs11.readPublicKey(ref, options);
    case 'yubikey':
      return BACKENDS.yubikey.readPublicKey(ref, options);
  }
}
