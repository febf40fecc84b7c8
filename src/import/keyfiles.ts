/**
 * Private key files kept by other TUF tools, read only to convert them to
 * tufsign's encrypted PKCS#8 (the originals are never modified):
 * - securesystemslib legacy key files (tufup's keystore): JSON
 *   `{keytype, scheme, keyval:{public, private}}`, or that JSON encrypted as
 *   `hex(salt)@@@@iterations@@@@hex(hmac)@@@@hex(iv)@@@@hex(ciphertext)`
 *   (PBKDF2-HMAC-SHA256 → AES-256-CTR, HMAC-SHA256 over the ciphertext);
 * - go-tuf v0 `keys/ROLE.json`: `{"encrypted": false, "data": [private keys]}`, or
 *   `{"encrypted": true, "data": {kdf, cipher, ciphertext}}` (scrypt + NaCl secretbox,
 *   go-tuf-encrypted.ts) whose plaintext is that list.
 */
import {
  createDecipheriv,
  createHmac,
  createPrivateKey,
  pbkdf2Sync,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { TufsignError } from '../errors';
import { readFileBounded } from '../io/fs';
import { asObject, reqObject, reqString } from '../tuf/fields';
import { isJsonObject, parseJson, type JsonValue } from '../tuf/json';
import { isScheme, type Scheme } from '../tuf/key';
import { decryptGoTufKeys } from './go-tuf-encrypted';
import type { SourceKeyFile } from './source';

export interface SourcePrivateKey {
  privateKey: KeyObject;
  scheme: Scheme;
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const MAX_ITERATIONS = 10_000_000;

export function isEncryptedSecuresystemslibKey(text: string): boolean {
  return text.includes('@@@@');
}

/** The key file is encrypted and needs the passphrase it was written with. */
export function needsPassphrase(source: SourceKeyFile): boolean {
  const text = readFileBounded(source.file, 1024 * 1024).toString('utf8');
  if (source.kind === 'securesystemslib') return isEncryptedSecuresystemslibKey(text);
  try {
    const v = parseJson(Buffer.from(text), source.file);
    return isJsonObject(v) && v['encrypted'] === true;
  } catch {
    return false;
  }
}

function bad(file: string, message: string, cause?: unknown): never {
  throw new TufsignError('KEY_FILE_INVALID', message, { file, rule: 'securesystemslib / go-tuf key file', cause });
}

function decryptSecuresystemslib(text: string, passphrase: Buffer, file: string): Buffer {
  const parts = text.trim().split('@@@@');
  if (parts.length !== 5 || !parts.every((p, i) => (i === 1 ? /^[0-9]{1,8}$/.test(p) : /^[0-9a-f]+$/.test(p))))
    bad(file, 'not a securesystemslib encrypted key (salt@@@@iterations@@@@hmac@@@@iv@@@@ciphertext)');
  const [saltHex, iterText, hmacHex, ivHex, ctHex] = parts as [string, string, string, string, string];
  const iterations = Number(iterText);
  if (iterations < 1 || iterations > MAX_ITERATIONS) bad(file, `PBKDF2 iteration count ${iterations} is out of range`);
  const iv = Buffer.from(ivHex, 'hex');
  if (iv.length !== 16) bad(file, 'IV must be 16 bytes');
  const key = pbkdf2Sync(passphrase, Buffer.from(saltHex, 'hex'), iterations, 32, 'sha256');
  try {
    const ciphertext = Buffer.from(ctHex, 'hex');
    const mac = createHmac('sha256', key).update(ciphertext).digest();
    const expected = Buffer.from(hmacHex, 'hex');
    if (expected.length !== mac.length || !timingSafeEqual(mac, expected)) {
      throw new TufsignError('WRONG_PASSPHRASE', 'wrong passphrase for the source key file (its HMAC does not match)', {
        file,
        rule: 'securesystemslib HMAC-SHA256 over the ciphertext',
      });
    }
    const decipher = createDecipheriv('aes-256-ctr', key, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } finally {
    key.fill(0);
  }
}

/** A private key from securesystemslib's key JSON (`keyval.private`): ed25519 hex seed, or PEM for ecdsa/rsa. */
function privateFromKeyJson(value: JsonValue, file: string, path: string): SourcePrivateKey {
  const obj = asObject(value, path);
  const scheme = reqString(obj, 'scheme', path, 'key scheme');
  if (!isScheme(scheme)) bad(file, `unsupported key scheme "${scheme}"`);
  const keyval = reqObject(obj, 'keyval', path, 'keyval');
  const priv = reqString(keyval, 'private', `${path}.keyval`, 'keyval.private');
  try {
    if (scheme === 'ed25519') {
      // securesystemslib: 32-byte seed (64 hex); go-tuf v0: seed || public (128 hex)
      if (!/^([0-9a-f]{64}|[0-9a-f]{128})$/.test(priv))
        bad(file, 'ed25519 private key must be 64 or 128 hex characters');
      const seed = Buffer.from(priv.slice(0, 64), 'hex');
      return {
        privateKey: createPrivateKey({
          key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
          format: 'der',
          type: 'pkcs8',
        }),
        scheme,
      };
    }
    return { privateKey: createPrivateKey({ key: priv, format: 'pem' }), scheme };
  } catch (e) {
    if (e instanceof TufsignError) throw e;
    return bad(file, 'the private key does not decode', e);
  }
}

/** Read one source key file (asking `passphrase` only when it is encrypted). May hold several keys (go-tuf). */
export async function readSourceKeyFile(
  source: SourceKeyFile,
  passphrase: () => Promise<Buffer>,
): Promise<SourcePrivateKey[]> {
  const raw = readFileBounded(source.file, 1024 * 1024);
  const text = raw.toString('utf8');
  if (source.kind === 'securesystemslib') {
    let json: Buffer = raw;
    if (isEncryptedSecuresystemslibKey(text)) {
      const p = await passphrase();
      try {
        json = decryptSecuresystemslib(text, p, source.file);
      } finally {
        p.fill(0);
      }
    }
    try {
      return [privateFromKeyJson(parseJson(json, source.file), source.file, '$')];
    } finally {
      json.fill(0);
    }
  }
  const obj = asObject(parseJson(raw, source.file), '$');
  const encrypted = obj['encrypted'];
  if (typeof encrypted !== 'boolean') bad(source.file, '"encrypted" must be true or false');
  let data: JsonValue | undefined = obj['data'];
  let plaintext: Buffer | undefined;
  if (encrypted) {
    plaintext = await decryptGoTufKeys(data ?? null, source.file, passphrase);
    data = parseJson(plaintext, source.file);
  }
  try {
    if (!Array.isArray(data)) bad(source.file, '"data" must be a list of private keys');
    return data.map((k, i) => privateFromKeyJson(k, source.file, `$.data[${i}]`));
  } finally {
    plaintext?.fill(0);
  }
}
