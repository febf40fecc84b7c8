/** `file:` keys: passphrase-encrypted PKCS#8 files, mode 0600. */
import { createPublicKey, generateKeyPairSync, sign as cryptoSign, constants, type KeyObject } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { isTufsignError, TufsignError } from '../../errors';
import { checkPrivateFile, readFileBounded, writeFileAtomic, fileExists } from '../../io/fs';
import { keyFromPublicKeyObject, schemeForKeyObject, type Key, type Scheme } from '../../tuf/key';
import type { GeneratedKey, GenerateRequest, OpenOptions, ReadableKeyBackend } from '../backend';
import type { SecretsHandler, Signer, SignatureBytes } from '../signer';
import { checkNewPassphrase, decryptPrivateKeyAsync, encryptPrivateKey } from './pkcs8';
import { publicPartPath, serializePublicKeyFile } from '../public-key-file';
import { keyFilePath, parseKeyRef, type FileKeyRef } from '../key-ref';

/** The key file a `file:` URI names (parsed by `parseKeyRef`), resolved against `baseDir` when relative. */
export function filePathOfUri(uri: string, baseDir: string): string {
  const ref = parseKeyRef(uri);
  if (ref.backend !== 'file')
    throw new TufsignError('KEY_URI_INVALID', `not a file: URI: ${uri}`, { rule: 'file:PATH' });
  return keyFilePath(ref, baseDir);
}

/** Refuse key files that others can read, or that someone else owns (BAD-62). */
export function checkKeyFilePermissions(path: string): void {
  checkPrivateFile(path, 'key file', {
    code: 'KEY_NOT_FOUND',
    suggestion: 'Check the key URI in tufsign.json or generate the key with `tufsign key generate`.',
  });
}

function signRaw(privateKey: KeyObject, scheme: Scheme, data: Uint8Array): Buffer {
  switch (scheme) {
    case 'ed25519':
      return cryptoSign(null, data, privateKey);
    case 'ecdsa-sha2-nistp256':
      return cryptoSign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
    case 'rsassa-pss-sha256':
      return cryptoSign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  }
}

/** A signer over an in-memory private key: used by the file backend and by tests. */
export class PrivateKeySigner implements Signer {
  readonly publicKey: Key;
  readonly scheme: Scheme;
  constructor(
    readonly uri: string,
    private readonly privateKey: KeyObject,
    scheme?: Scheme,
  ) {
    this.scheme = scheme ?? schemeForKeyObject(createPublicKey(privateKey));
    this.publicKey = keyFromPublicKeyObject(createPublicKey(privateKey), this.scheme);
  }

  sign(data: Uint8Array): Promise<SignatureBytes> {
    const signature = signRaw(this.privateKey, this.scheme, data);
    if (!this.publicKey.verify(signature, data)) {
      return Promise.reject(
        new TufsignError('SIGNATURE_INVALID', `the signature made with ${this.uri} does not verify`, {
          rule: 'verify before saving',
        }),
      );
    }
    return Promise.resolve({ keyid: this.publicKey.keyid(), signature });
  }
}

export function generatePrivateKey(scheme: Scheme): KeyObject {
  switch (scheme) {
    case 'ed25519':
      return generateKeyPairSync('ed25519').privateKey;
    case 'ecdsa-sha2-nistp256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'rsassa-pss-sha256':
      return generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
  }
}

async function withSecret<T>(
  secrets: SecretsHandler,
  kind: 'passphrase' | 'new-passphrase',
  label: string,
  f: (s: Buffer) => T | Promise<T>,
  attempt = 1,
): Promise<T> {
  const secret = await secrets.getSecret(attempt === 1 ? { kind, label } : { kind, label, attempt });
  try {
    return await f(secret);
  } finally {
    secret.fill(0);
  }
}

/** A wrong passphrase is asked again (the secrets handler decides how often: three typed tries on a terminal). */
async function decryptWithRetries(secrets: SecretsHandler, uri: string, pem: string, path: string): Promise<KeyObject> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withSecret(secrets, 'passphrase', uri, (pass) => decryptPrivateKeyAsync(pem, pass, path), attempt);
    } catch (e) {
      if (
        !isTufsignError(e, 'WRONG_PASSPHRASE') ||
        secrets.mayRetry?.({ kind: 'passphrase', label: uri, attempt }) !== true
      )
        throw e;
    }
  }
}

export async function openKeyFile(ref: FileKeyRef, options: OpenOptions): Promise<PrivateKeySigner> {
  const uri = ref.uri;
  const path = keyFilePath(ref, options.baseDir);
  checkKeyFilePermissions(path);
  const pem = readFileBounded(path, 1024 * 1024).toString('utf8');
  const privateKey = await decryptWithRetries(options.secrets, uri, pem, path);
  const signer = new PrivateKeySigner(uri, privateKey, options.expectedKey?.scheme as Scheme | undefined);
  if (options.expectedKey !== undefined && !signer.publicKey.samePublicKey(options.expectedKey)) {
    throw new TufsignError(
      'KEY_MISMATCH',
      `${uri} holds a different key than the role expects (keyid ${options.expectedKey.keyid().slice(0, 16)}…)`,
      {
        file: path,
        rule: 'BAD-57 sign only with the expected key',
        suggestion: 'Check which key file belongs to this role (`tufsign key list`).',
      },
    );
  }
  return signer;
}

export async function generateKeyFile(request: GenerateRequest, options: OpenOptions): Promise<GeneratedKey> {
  if (request.outFile === undefined)
    throw new TufsignError('USAGE', 'file backend needs an output path', { rule: 'key generate --out FILE' });
  const path = isAbsolute(request.outFile) ? request.outFile : resolve(options.baseDir, request.outFile);
  if (fileExists(path)) {
    throw new TufsignError('IO_ERROR', `${path} already exists; refusing to overwrite a key`, {
      file: path,
      rule: 'never overwrite keys',
      suggestion: 'Choose another --out path.',
    });
  }
  const privateKey = generatePrivateKey(request.scheme);
  const pem = await withSecret(options.secrets, 'new-passphrase', `file:${request.outFile}`, (pass) => {
    checkNewPassphrase(pass);
    return encryptPrivateKey(privateKey, pass);
  });
  writeFileAtomic(path, pem, 0o600);
  const publicKey = keyFromPublicKeyObject(createPublicKey(privateKey), request.scheme);
  const uri = `file:${request.outFile}`;
  // The public part beside it: a keyholder's tufsign learns the keyid without the passphrase (ADR 0008).
  // Mode 0600 like everything in a keys/ folder.
  writeFileAtomic(
    publicPartPath(path),
    serializePublicKeyFile({ key: publicKey, keyid: publicKey.keyid(), uri }),
    0o600,
  );
  return { uri, publicKey };
}

export const fileBackend: ReadableKeyBackend<FileKeyRef> = {
  open: openKeyFile,
  generate: generateKeyFile,
  async readPublicKey(ref, options) {
    const signer = await openKeyFile(ref, options);
    return { uri: ref.uri, publicKey: signer.publicKey };
  },
};
