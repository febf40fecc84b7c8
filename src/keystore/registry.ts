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

/** The backend of a reference: `BACKENDS[ref.backend]` takes exactly that kind of reference. */
function backendOf(ref: KeyRef): ReadableKeyBackend<KeyRef> {
  return BACKENDS[ref.backend];
}

/**
 * Open a signer; when `expectedKey` is given, the backend refuses a different key before spending a PIN try.
 * Library callers may pass the URI text: this is their boundary, and it is parsed here, once.
 */
export async function openSigner(key: KeyRef | string, options: OpenOptions): Promise<Signer> {
  const ref = typeof key === 'string' ? parseKeyRef(key) : key;
  return backendOf(ref).open(ref, options);
}

/** The public key a reference holds, without signing (`key show`, `key import`, `key attach`). */
export async function readPublicKey(key: KeyRef | string, options: OpenOptions): Promise<GeneratedKey> {
  const ref = typeof key === 'string' ? parseKeyRef(key) : key;
  return backendOf(ref).readPublicKey(ref, options);
}
