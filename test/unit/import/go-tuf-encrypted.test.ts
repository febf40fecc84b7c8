/**
 * go-tuf v0 encrypted key files (scrypt + NaCl secretbox). The fixture's
 * keys/timestamp.json was written by PyNaCl + hashlib.scrypt
 * (test/fixtures/import/generate/go_tuf_encrypt.py); tufsign must read it,
 * and refuse a wrong passphrase, an altered file and a hostile KDF (before
 * asking for the passphrase or spending memory), and write nothing.
 */
import { createPublicKey } from 'node:crypto';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TufsignError } from '../../../src/errors';
import { importRepository } from '../../../src/import';
import { readSourceKeyFile } from '../../../src/import/keyfiles';
import type { SecretRequest } from '../../../src/keystore/signer';
import { tempDir } from '../../helpers/tmp';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'import');
const KEYFILE = join(FIXTURES, 'go-tuf-v0', 'keys', 'timestamp.json');
const PASSPHRASE = 'go-tuf-fixture';
const base = tempDir('tufsign-gotuf-encrypted-');
const holder = JSON.parse(readFileSync(join(FIXTURES, 'go-tuf-v0-keyholders', 'timestamp'), 'utf8'));

let n = 0;
function variant(edit: (j: any) => void): string {
  const j = JSON.parse(readFileSync(KEYFILE, 'utf8'));
  edit(j);
  const f = join(base, `timestamp-${n++}.json`);
  writeFileSync(f, JSON.stringify(j));
  return f;
}

async function read(file: string, passphrase = PASSPHRASE): Promise<{ asked: number; result: unknown }> {
  let asked = 0;
  try {
    const keys = await readSourceKeyFile({ name: 'timestamp', file, kind: 'go-tuf' }, () => {
      asked++;
      return Promise.resolve(Buffer.from(passphrase));
    });
    return { asked, result: keys };
  } catch (e) {
    return { asked, result: e };
  }
}

function code(result: unknown): string {
  if (!(result instanceof TufsignError)) throw new Error(`expected a TufsignError, got ${String(result)}`);
  return result.code;
}

test('the PyNaCl-written file decrypts to the timestamp key (its public half matches the published key)', async () => {
  const { asked, result } = await read(KEYFILE);
  expect(asked).toBe(1);
  const keys = result as { privateKey: Parameters<typeof createPublicKey>[0]; scheme: string }[];
  expect(keys).toHaveLength(1);
  expect(keys[0]?.scheme).toBe('ed25519');
  const raw = createPublicKey(keys[0]!.privateKey).export({ format: 'der', type: 'spki' }).subarray(-32);
  expect(raw.toString('hex')).toBe(holder.keyval.public);
});

test('a wrong passphrase and an altered ciphertext, salt or nonce give WRONG_PASSPHRASE', async () => {
  expect(code((await read(KEYFILE, 'not-the-passphrase')).result)).toBe('WRONG_PASSPHRASE');
  const flip = (b64: string): string => {
    const b = Buffer.from(b64, 'base64');
    b[b.length >> 1] = (b[b.length >> 1] as number) ^ 1;
    return b.toString('base64');
  };
  for (const edit of [
    (j: any) => (j.data.ciphertext = flip(j.data.ciphertext)),
    (j: any) => (j.data.kdf.salt = flip(j.data.kdf.salt)),
    (j: any) => (j.data.cipher.nonce = flip(j.data.cipher.nonce)),
    (j: any) => (j.data.ciphertext = Buffer.from(j.data.ciphertext, 'base64').subarray(0, 40).toString('base64')),
  ]) {
    expect(code((await read(variant(edit))).result)).toBe('WRONG_PASSPHRASE');
  }
});

test('hostile or malformed KDF/cipher fields are refused before the passphrase is asked', async () => {
  const cases: [string, (j: any) => void][] = [
    ['N = 2^30 (128 GiB)', (j) => (j.data.kdf.params.N = 2 ** 30)],
    ['N = 2^20, r = 8 (1 GiB)', (j) => (j.data.kdf.params.N = 2 ** 20)],
    ['N not a power of two', (j) => (j.data.kdf.params.N = 32769)],
    ['N too small', (j) => (j.data.kdf.params.N = 16)],
    ['r huge', (j) => (j.data.kdf.params.r = 1_000_000)],
    ['p huge', (j) => (j.data.kdf.params.p = 1_000_000)],
    ['N·r·p above the work limit', (j) => Object.assign(j.data.kdf.params, { N: 2 ** 17, r: 16, p: 16 })],
    ['N a string', (j) => (j.data.kdf.params.N = '32768')],
    ['N negative', (j) => (j.data.kdf.params.N = -32768)],
    ['p zero', (j) => (j.data.kdf.params.p = 0)],
    ['r missing', (j) => delete j.data.kdf.params.r],
    ['an unknown kdf', (j) => (j.data.kdf.name = 'argon2id')],
    ['an unknown cipher', (j) => (j.data.cipher.name = 'aes-gcm')],
    ['a 12-byte nonce', (j) => (j.data.cipher.nonce = Buffer.alloc(12).toString('base64'))],
    ['an empty salt', (j) => (j.data.kdf.salt = '')],
    ['a huge salt', (j) => (j.data.kdf.salt = Buffer.alloc(4096).toString('base64'))],
    ['ciphertext not base64', (j) => (j.data.ciphertext = 'not base64!')],
    ['data not an object', (j) => (j.data = 'x')],
    ['"encrypted" not a boolean', (j) => (j.encrypted = 'yes')],
  ];
  for (const [what, edit] of cases) {
    const { asked, result } = await read(variant(edit));
    expect([what, asked]).toEqual([what, 0]);
    expect([what, code(result), (result as TufsignError).file]).toEqual([what, 'KEY_FILE_INVALID', expect.any(String)]);
  }
});

describe('the import', () => {
  const run = async (source: string, passphrase: string): Promise<{ ws: string; result: unknown }> => {
    const ws = join(base, `ws-${n++}`);
    try {
      const report = await importRepository({
        dir: ws,
        source,
        format: 'go-tuf-v0',
        dryRun: false,
        skipMissingTargets: false,
        now: new Date('2027-01-01T00:00:00Z'),
        secrets: {
          getSecret: (r: SecretRequest) =>
            Promise.resolve(Buffer.from(r.kind === 'source-passphrase' ? passphrase : 'new-passphrase-123')),
        },
      });
      return { ws, result: report };
    } catch (e) {
      return { ws, result: e };
    }
  };

  test('converts the encrypted timestamp key with the other three', async () => {
    const src = join(base, `src-${n++}`);
    cpSync(join(FIXTURES, 'go-tuf-v0'), src, { recursive: true });
    const { ws, result } = await run(src, PASSPHRASE);
    const report = result as { keys: { uri: string | null }[]; warnings: string[] };
    expect(report.keys.map((k) => k.uri).sort()).toEqual([
      'file:keys/root.pem',
      'file:keys/snapshot.pem',
      'file:keys/targets.pem',
      'file:keys/timestamp.pem',
    ]);
    expect(existsSync(join(ws, 'keys', 'timestamp.pem'))).toBe(true);
  });

  test('a wrong source passphrase or a hostile KDF refuses the import and writes nothing', async () => {
    const src = join(base, `src-${n++}`);
    cpSync(join(FIXTURES, 'go-tuf-v0'), src, { recursive: true });
    const wrong = await run(src, 'wrong-passphrase');
    expect(code(wrong.result)).toBe('WRONG_PASSPHRASE');
    expect(existsSync(wrong.ws)).toBe(false);
    const kf = join(src, 'keys', 'timestamp.json');
    const j = JSON.parse(readFileSync(kf, 'utf8'));
    j.data.kdf.params.N = 2 ** 24;
    writeFileSync(kf, JSON.stringify(j));
    const hostile = await run(src, PASSPHRASE);
    expect(code(hostile.result)).toBe('KEY_FILE_INVALID');
    expect(existsSync(hostile.ws)).toBe(false);
  });
});
