import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TufsignError } from '../../src/errors';
import { fileBackend, PrivateKeySigner, generatePrivateKey } from '../../src/keystore/file';
import {
  decryptPrivateKey,
  decryptPrivateKeyAsync,
  encryptPrivateKey,
  inspectEncryptedKey,
  PBKDF2_ITERATIONS,
} from '../../src/keystore/file/pkcs8';
import type { SecretsHandler } from '../../src/keystore/signer';
import { SCHEMES, type Scheme } from '../../src/tuf/key';
import { tempDir } from '../helpers/tmp';
import { SYSTEM_PYTHON } from '../helpers/cli';
import { parseKeyRefOf } from '../../src/keystore/key-ref';

const PASS = 'test-only-passphrase';
const dir = tempDir();
const secrets = (pass = PASS): SecretsHandler => ({ getSecret: () => Promise.resolve(Buffer.from(pass)) });
const opts = (pass = PASS) => ({ secrets: secrets(pass), baseDir: dir, env: {} });

async function generate(scheme: Scheme, name: string): Promise<string> {
  const g = await fileBackend.generate!({ scheme, outFile: name }, opts());
  expect(g.uri).toBe(`file:${name}`);
  return join(dir, name);
}

describe.each(SCHEMES)('encrypted key files (%s)', (scheme) => {
  let path: string;
  beforeAll(async () => {
    path = await generate(scheme, `k-${scheme}.pem`);
  });

  it('are written 0600 as PBES2 PBKDF2-SHA256 at the OWASP floor', () => {
    const { statSync } = jest.requireActual<typeof import('node:fs')>('node:fs');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const pem = readFileSync(path, 'utf8');
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect(inspectEncryptedKey(pem, path)).toEqual({ kdf: 'pbkdf2', iterations: PBKDF2_ITERATIONS });
  });

  it('are read by openssl pkcs8 (and the key matches)', async () => {
    const out = execFileSync('openssl', ['pkey', '-in', path, '-passin', 'env:TEST_PASS', '-pubout'], {
      env: { ...process.env, TEST_PASS: PASS },
    }).toString();
    const signer = await fileBackend.open(parseKeyRefOf('file', `file:${path}`), opts());
    expect(out).toBe(signer.publicKey.keyObject().export({ format: 'pem', type: 'spki' }).toString());
    const params = execFileSync('openssl', ['asn1parse', '-in', path]).toString();
    expect(params).toMatch(/PBES2/);
    expect(params).toMatch(/hmacWithSHA256/);
    expect(params).toMatch(/aes-256-cbc/);
  });

  it('are read by Python cryptography', () => {
    const r = spawnSync(
      SYSTEM_PYTHON,
      [
        '-c',
        [
          'import os,sys',
          'from cryptography.hazmat.primitives.serialization import load_pem_private_key',
          'load_pem_private_key(open(sys.argv[1],"rb").read(), os.environb[b"TEST_PASS"])',
          'print("ok")',
        ].join('\n'),
        path,
      ],
      { env: { ...process.env, TEST_PASS: PASS }, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
  });

  it('signatures verify with Python securesystemslib', async () => {
    const signer = await fileBackend.open(parseKeyRefOf('file', `file:${path}`), opts());
    const data = Buffer.from('{"_type":"targets","version":1}');
    const { keyid, signature } = await signer.sign(data);
    const script = [
      'import json,sys',
      'from securesystemslib.signer import SSlibKey, Signature',
      'k = json.loads(sys.argv[1])',
      'key = SSlibKey.from_dict(sys.argv[2], k)',
      'key.verify_signature(Signature(sys.argv[2], sys.argv[3]), sys.argv[4].encode())',
      'print("verified")',
    ].join('\n');
    const r = spawnSync(
      SYSTEM_PYTHON,
      [
        '-c',
        script,
        JSON.stringify(signer.publicKey.toJSON()),
        keyid,
        Buffer.from(signature).toString('hex'),
        data.toString(),
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('verified');
  });
});

describe('key files written by other tools', () => {
  it('openssl pkcs8 -topk8 at 600,000 iterations is accepted', async () => {
    const plain = join(dir, 'plain.pem');
    const enc = join(dir, 'openssl.pem');
    writeFileSync(plain, generatePrivateKey('ecdsa-sha2-nistp256').export({ format: 'pem', type: 'pkcs8' }), {
      mode: 0o600,
    });
    execFileSync(
      'openssl',
      [
        'pkcs8',
        '-topk8',
        '-v2',
        'aes-256-cbc',
        '-iter',
        '600000',
        '-v2prf',
        'hmacWithSHA256',
        '-in',
        plain,
        '-out',
        enc,
        '-passout',
        'env:TEST_PASS',
      ],
      {
        env: { ...process.env, TEST_PASS: PASS },
      },
    );
    chmodSync(enc, 0o600);
    const signer = await fileBackend.open(parseKeyRefOf('file', `file:${enc}`), opts());
    expect(signer.publicKey.scheme).toBe('ecdsa-sha2-nistp256');
  });

  it('Python cryptography 38 BestAvailableEncryption (PBKDF2, 2,048 iterations) is refused as below the KDF floor', () => {
    const out = join(dir, 'py.pem');
    const r = spawnSync(
      SYSTEM_PYTHON,
      [
        '-c',
        [
          'import os,sys',
          'from cryptography.hazmat.primitives.asymmetric import ed25519',
          'from cryptography.hazmat.primitives import serialization as s',
          'k = ed25519.Ed25519PrivateKey.generate()',
          'open(sys.argv[1],"wb").write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.BestAvailableEncryption(os.environb[b"TEST_PASS"])))',
        ].join('\n'),
        out,
      ],
      { env: { ...process.env, TEST_PASS: PASS }, encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    chmodSync(out, 0o600);
    const pem = readFileSync(out, 'utf8');
    expect(inspectEncryptedKey(pem, out)).toEqual({ kdf: 'pbkdf2', iterations: 2048 });
    expect(() => decryptPrivateKey(pem, Buffer.from(PASS), out)).toThrow(
      expect.objectContaining({ code: 'KEY_FILE_WEAK_KDF' }),
    );
  });
});

describe('decryption off the main thread (#12)', () => {
  it("tufsign's own layout: the key that was encrypted; a wrong passphrase and a weak KDF refused as before", async () => {
    const key = generatePrivateKey('ed25519');
    const pem = encryptPrivateKey(key, Buffer.from(PASS));
    const viaPool = await decryptPrivateKeyAsync(pem, Buffer.from(PASS), 'k.pem');
    expect(viaPool.export({ format: 'der', type: 'pkcs8' })).toEqual(key.export({ format: 'der', type: 'pkcs8' }));
    await expect(decryptPrivateKeyAsync(pem, Buffer.from('not-it'), 'k.pem')).rejects.toMatchObject({
      code: 'WRONG_PASSPHRASE',
    });
    const weak = encryptPrivateKey(key, Buffer.from(PASS), 2048);
    await expect(decryptPrivateKeyAsync(weak, Buffer.from(PASS), 'k.pem')).rejects.toMatchObject({
      code: 'KEY_FILE_WEAK_KDF',
    });
  });

  it('another layout (openssl with the SHA-1 PRF) is still opened by OpenSSL, with the same result', async () => {
    const plain = join(dir, 'plain-other.pem');
    writeFileSync(plain, generatePrivateKey('ed25519').export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    for (const extra of [['-iter', '600000', '-v2prf', 'hmacWithSHA1']]) {
      const enc = join(dir, `other${extra.length}.pem`);
      execFileSync(
        'openssl',
        ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', ...extra, '-in', plain, '-out', enc, '-passout', 'env:TEST_PASS'],
        {
          env: { ...process.env, TEST_PASS: PASS },
        },
      );
      const pem = readFileSync(enc, 'utf8');
      const k = await decryptPrivateKeyAsync(pem, Buffer.from(PASS), enc);
      expect(k.export({ format: 'der', type: 'pkcs8' })).toEqual(
        decryptPrivateKey(pem, Buffer.from(PASS), enc).export({ format: 'der', type: 'pkcs8' }),
      );
    }
  });
});

describe('BAD-61/BAD-62 refusals', () => {
  let path: string;
  beforeAll(async () => {
    path = await generate('ed25519', 'refusals.pem');
  });

  it('wrong passphrase is WRONG_PASSPHRASE', async () => {
    await expect(
      fileBackend.open(parseKeyRefOf('file', `file:${path}`), opts('not-the-passphrase')),
    ).rejects.toMatchObject({
      code: 'WRONG_PASSPHRASE',
    });
  });

  it('tampered ciphertext gives the same error as a wrong passphrase', async () => {
    const pem = readFileSync(path, 'utf8');
    const lines = pem.split('\n');
    const mid = lines.length - 3; // the last base64 line: ciphertext, not the KDF header
    const line = lines[mid]!;
    lines[mid] = (line[0] === 'A' ? 'B' : 'A') + line.slice(1);
    const tampered = join(dir, 'tampered.pem');
    writeFileSync(tampered, lines.join('\n'), { mode: 0o600 });
    await expect(fileBackend.open(parseKeyRefOf('file', `file:${tampered}`), opts())).rejects.toMatchObject({
      code: 'WRONG_PASSPHRASE',
    });
  });

  it('a weak KDF (Node default 2,048 iterations) is refused', async () => {
    const weak = join(dir, 'weak.pem');
    writeFileSync(
      weak,
      generatePrivateKey('ed25519').export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: PASS }),
      { mode: 0o600 },
    );
    await expect(fileBackend.open(parseKeyRefOf('file', `file:${weak}`), opts())).rejects.toMatchObject({
      code: 'KEY_FILE_WEAK_KDF',
    });
  });

  it('an unencrypted key is refused', async () => {
    const plain = join(dir, 'unencrypted.pem');
    writeFileSync(plain, generatePrivateKey('ed25519').export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    await expect(fileBackend.open(parseKeyRefOf('file', `file:${plain}`), opts())).rejects.toMatchObject({
      code: 'KEY_FILE_INVALID',
    });
  });

  it.each([0o640, 0o604, 0o644])('mode %s is refused', async (mode) => {
    const copy = join(dir, `mode-${mode}.pem`);
    writeFileSync(copy, readFileSync(path), { mode });
    chmodSync(copy, mode);
    await expect(fileBackend.open(parseKeyRefOf('file', `file:${copy}`), opts())).rejects.toMatchObject({
      code: 'KEY_FILE_PERMISSIONS',
    });
  });

  it('a missing key file is KEY_NOT_FOUND', async () => {
    await expect(
      fileBackend.open(parseKeyRefOf('file', `file:${join(dir, 'nope.pem')}`), opts()),
    ).rejects.toMatchObject({
      code: 'KEY_NOT_FOUND',
    });
  });

  it('a key other than the expected one is KEY_MISMATCH', async () => {
    const other = new PrivateKeySigner('memory:x', generatePrivateKey('ed25519'));
    await expect(
      fileBackend.open(parseKeyRefOf('file', `file:${path}`), { ...opts(), expectedKey: other.publicKey }),
    ).rejects.toMatchObject({
      code: 'KEY_MISMATCH',
    });
  });

  it('never overwrites an existing key file', async () => {
    await expect(fileBackend.generate!({ scheme: 'ed25519', outFile: 'refusals.pem' }, opts())).rejects.toBeInstanceOf(
      TufsignError,
    );
  });

  it('encryptPrivateKey round-trips', () => {
    const k = generatePrivateKey('ed25519');
    const pem = encryptPrivateKey(k, Buffer.from(PASS), 600_000);
    expect(decryptPrivateKey(pem, Buffer.from(PASS), 'x').export({ format: 'der', type: 'pkcs8' })).toEqual(
      k.export({ format: 'der', type: 'pkcs8' }),
    );
  });
});
