/**
 * go-tuf v0's encrypted key files (`keys/ROLE.json` with `"encrypted": true`):
 * `data` is go-tuf's `encrypted` JSON —
 * `{"kdf": {"name": "scrypt", "params": {"N", "r", "p"}, "salt": B64},
 *   "cipher": {"name": "nacl/secretbox", "nonce": B64}, "ciphertext": B64}` —
 * whose plaintext is the JSON list of private keys. The key is
 * scrypt(passphrase, salt, N, r, p, 32); the box is NaCl secretbox.
 *
 * The file steers the KDF, so its parameters are bounded before any work:
 * go-tuf itself only accepts N 2^15..2^17, r 8, p 1 (its Legacy, Standard and
 * OWASP levels); we accept a little more (N a power of two 2^10..2^20, r ≤ 32,
 * p ≤ 16) but never more than MAX_SCRYPT_MEMORY of memory or MAX_SCRYPT_WORK
 * of work, so a hostile file cannot exhaust the machine.
 */
import { scryptSync } from 'node:crypto';
import { TufsignError } from '../errors';
import { asObject, reqObject, reqString } from '../tuf/fields';
import type { JsonObject, JsonValue } from '../tuf/json';
import { SECRETBOX_NONCE_BYTES, secretboxOpen } from './nacl-secretbox';

/** scrypt needs about 128·N·r bytes */
export const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
/** N·r·p, proportional to scrypt's CPU time: 8× go-tuf's strongest level (2^17·8·1) */
export const MAX_SCRYPT_WORK = 2 ** 23;
const MAX_SALT_BYTES = 1024;
const RULE = 'go-tuf v0 encrypted key file (scrypt + nacl/secretbox)';

function bad(file: string, message: string, path: string): never {
  throw new TufsignError('KEY_FILE_INVALID', message, { file, path, rule: RULE });
}

/** Go's encoding of []byte: standard base64 with padding. */
function base64Field(obj: JsonObject, field: string, path: string, file: string): Buffer {
  const text = reqString(obj, field, path, field);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text))
    bad(file, `${field} is not standard base64`, `${path}.${field}`);
  return Buffer.from(text, 'base64');
}

function intParam(params: JsonObject, name: string, path: string, file: string): number {
  const v = params[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    bad(file, `scrypt parameter ${name} must be a positive integer`, `${path}.${name}`);
  return v;
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** Refuse scrypt parameters outside the bounds above (before any key derivation). */
export function checkScryptParams({ N, r, p }: ScryptParams, file: string, path: string): void {
  if (N < 2 ** 10 || N > 2 ** 20 || (N & (N - 1)) !== 0)
    bad(file, `scrypt N=${N} is not a power of two between 2^10 and 2^20 (go-tuf writes 2^15..2^17)`, `${path}.N`);
  if (r > 32) bad(file, `scrypt r=${r} is above 32 (go-tuf writes 8)`, `${path}.r`);
  if (p > 16) bad(file, `scrypt p=${p} is above 16 (go-tuf writes 1)`, `${path}.p`);
  if (128 * N * r > MAX_SCRYPT_MEMORY)
    bad(
      file,
      `scrypt N=${N}, r=${r} needs ${(128 * N * r) / 2 ** 20} MiB, above the ${MAX_SCRYPT_MEMORY / 2 ** 20} MiB limit`,
      path,
    );
  if (N * r * p > MAX_SCRYPT_WORK)
    bad(file, `scrypt N·r·p = ${N * r * p} is above the limit of ${MAX_SCRYPT_WORK}`, path);
}

interface EncryptedFields {
  params: ScryptParams;
  salt: Buffer;
  nonce: Buffer;
  box: Buffer;
}

/** Every field of go-tuf's `encrypted` object, checked; a shape error names the key file. */
function parseEncrypted(data: JsonValue, file: string): EncryptedFields {
  try {
    const obj = asObject(data, '$.data');
    const kdf = reqObject(obj, 'kdf', '$.data', 'kdf');
    const kdfName = reqString(kdf, 'name', '$.data.kdf', 'kdf name');
    if (kdfName !== 'scrypt') bad(file, `unknown kdf "${kdfName}" (go-tuf writes "scrypt")`, '$.data.kdf.name');
    const rawParams = reqObject(kdf, 'params', '$.data.kdf', 'kdf params');
    const params: ScryptParams = {
      N: intParam(rawParams, 'N', '$.data.kdf.params', file),
      r: intParam(rawParams, 'r', '$.data.kdf.params', file),
      p: intParam(rawParams, 'p', '$.data.kdf.params', file),
    };
    checkScryptParams(params, file, '$.data.kdf.params');
    const salt = base64Field(kdf, 'salt', '$.data.kdf', file);
    if (salt.length === 0 || salt.length > MAX_SALT_BYTES)
      bad(file, `salt must be 1..${MAX_SALT_BYTES} bytes`, '$.data.kdf.salt');
    const cipher = reqObject(obj, 'cipher', '$.data', 'cipher');
    const cipherName = reqString(cipher, 'name', '$.data.cipher', 'cipher name');
    if (cipherName !== 'nacl/secretbox')
      bad(file, `unknown cipher "${cipherName}" (go-tuf writes "nacl/secretbox")`, '$.data.cipher.name');
    const nonce = base64Field(cipher, 'nonce', '$.data.cipher', file);
    if (nonce.length !== SECRETBOX_NONCE_BYTES)
      bad(file, `nonce must be ${SECRETBOX_NONCE_BYTES} bytes, not ${nonce.length}`, '$.data.cipher.nonce');
    const box = base64Field(obj, 'ciphertext', '$.data', file);
    return { params, salt, nonce, box };
  } catch (e) {
    if (e instanceof TufsignError && e.code === 'METADATA_SCHEMA')
      throw new TufsignError('KEY_FILE_INVALID', e.message, { file, path: e.path, rule: RULE });
    throw e;
  }
}

/**
 * Decrypt go-tuf's `encrypted` object. Every field is checked before the
 * passphrase is asked. Returns the plaintext (the caller wipes it). A wrong
 * passphrase and an altered file are indistinguishable (the secretbox tag
 * fails) and give WRONG_PASSPHRASE.
 */
export async function decryptGoTufKeys(
  data: JsonValue,
  file: string,
  passphrase: () => Promise<Buffer>,
): Promise<Buffer> {
  const { params, salt, nonce, box } = parseEncrypted(data, file);
  const secret = await passphrase();
  let key: Buffer | undefined;
  try {
    key = scryptSync(secret, salt, 32, {
      N: params.N,
      r: params.r,
      p: params.p,
      maxmem: MAX_SCRYPT_MEMORY + 1024 * 1024,
    });
  } finally {
    secret.fill(0);
  }
  try {
    const plaintext = secretboxOpen(box, nonce, key);
    if (plaintext === null) {
      throw new TufsignError(
        'WRONG_PASSPHRASE',
        'wrong passphrase for the go-tuf key file, or the file was altered (its secretbox tag does not verify)',
        { file, path: '$.data.ciphertext', rule: RULE },
      );
    }
    return plaintext;
  } finally {
    key.fill(0);
  }
}
