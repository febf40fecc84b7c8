/**
 * Picks the backend for a parsed key reference. The PKCS#11 and YubiKey backends (twenty modules, and their
 * native modules after them) are loaded on first use: a run that signs with key files never loads them.
 */
import type { GeneratedKey, OpenOptions, ReadableKeyBackend } from './backend';
import { fileBackend } from './file';
import { parseKeyRef, type FileKeyRef, type KeyRef, type Pkcs11KeyRef, type YubiKeyRef } from './key-ref';
import type * as Pkcs11 from './pkcs11';
import type { Signer } from './signer';
import type * as YubiKey from './yubikey';

/* eslint-disable @typescript-eslint/no-require-imports */
// Literal requires, so the standalone bundle (scripts/package.js) still includes both backends.
export const BACKENDS: {
  readonly file: ReadableKeyBackend<FileKeyRef>;
  readonly pkcs11: ReadableKeyBackend<Pkcs11KeyRef>;
  readonly yubikey: ReadableKeyBackend<YubiKeyRef>;
} = {
  file: fileBackend,
  get pkcs11(): ReadableKeyBackend<Pkcs11KeyRef> {
    return (require('./pkcs11') as typeof Pkcs11).pkcs11Backend;
  },
  get yubikey(): ReadableKeyBackend<YubiKeyRef> {
    return (require('./yubikey') as typeof YubiKey).yubikeyBackend;
  },
};
/* eslint-enable @typescript-eslint/no-require-imports */

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
