/**
 * The one signing interface every backend implements: key files, PKCS#11
 * tokens and YubiKeys (PIV). Keys are addressed by URI (`file:`, `pkcs11:`,
 * `yubikey:`); secrets come through an injected `SecretsHandler`, so no
 * backend ever prompts by itself. Tests sign with in-process `PrivateKeySigner`s.
 */
import type { Key } from '../tuf/key';

export interface SignatureBytes {
  keyid: string;
  /** raw signature bytes in the TUF encoding for the scheme (ed25519 raw 64 bytes, ECDSA DER, RSA-PSS) */
  signature: Uint8Array;
}

export interface Signer {
  /** The URI this signer was opened from (never contains a secret). */
  readonly uri: string;
  /** The TUF public key this signer signs for. */
  readonly publicKey: Key;
  /** Sign `data` (the canonical signed bytes). Implementations verify their own signature before returning it. */
  sign(data: Uint8Array): Promise<SignatureBytes>;
  /** Release sessions/handles. Idempotent. */
  close?(): Promise<void>;
}

/** `source-passphrase`: the passphrase of another tool's key file being imported (`init --import`). */
export type SecretKind = 'passphrase' | 'new-passphrase' | 'source-passphrase' | 'pin' | 'management-key';

export interface SecretRequest {
  kind: SecretKind;
  /** The key or device the secret is for, e.g. `file:keys/root-1.pem` or `YubiKey 12345678`. */
  label: string;
  /** Tries left before the PIN locks, when the device tells. */
  retriesLeft?: number;
  /** 2 or more: the secret given for this request before was wrong (a passphrase re-entry). */
  attempt?: number;
}

/**
 * Supplies secrets. Returned buffers are owned by the caller, which zeroes
 * them after use. Must throw `SECRET_REQUIRED` when it cannot ask (no TTY and
 * nothing in the environment).
 */
export interface SecretsHandler {
  getSecret(request: SecretRequest): Promise<Buffer>;
  /**
   * Whether asking again could give a different secret after a wrong one (a person at a prompt, within the
   * allowed tries). Absent: never retry — a secret from the environment or a file would only fail again.
   */
  mayRetry?(request: SecretRequest): boolean;
  /** Tell the user something that needs their action now (e.g. "touch your YubiKey"). */
  notify?(message: string): void;
}

/** Where a key's private part lives, for `key list`, `status` and ceremonies. */
export type Backend = 'file' | 'pkcs11' | 'yubikey';

export function backendOfUri(uri: string): Backend | undefined {
  const scheme = uri.slice(0, uri.indexOf(':'));
  return scheme === 'file' || scheme === 'pkcs11' || scheme === 'yubikey' ? scheme : undefined;
}
