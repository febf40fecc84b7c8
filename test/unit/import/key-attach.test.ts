/**
 * `key attach`: a URI is recorded for a public-only key only when the key it
 * holds is the one the metadata lists (every keyid of it, root and
 * delegations); anything else is refused and tufsign.json is left as it was.
 * Run in-process on a python-tuf import (every key public-only).
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TufsignError } from '../../../src/errors';
import { importRepository } from '../../../src/import';
import { readSourceKeyFile } from '../../../src/import/keyfiles';
import type { SecretsHandler } from '../../../src/keystore/signer';
import { encryptPrivateKey } from '../../../src/keystore/file/pkcs8';
import { attachKey } from '../../../src/repository/key-attach';
import { Workspace } from '../../../src/repository/workspace';
import { keyFromPublicKeyObject } from '../../../src/tuf/key';
import { tempDir } from '../../helpers/tmp';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'import');
const base = tempDir('tufsign-key-attach-');
const PASS = 'attach-passphrase';
const secrets = (p = PASS): SecretsHandler => ({ getSecret: () => Promise.resolve(Buffer.from(p)) });

let ws: string;
const config = (): string => readFileSync(join(ws, 'tufsign.json'), 'utf8');

async function keyFile(holder: string, name = holder): Promise<string> {
  const [k] = await readSourceKeyFile(
    { name, file: join(FIXTURES, 'python-tuf-keyholders', holder), kind: 'securesystemslib' },
    () => Promise.reject(new Error('not encrypted')),
  );
  mkdirSync(join(ws, 'keys'), { recursive: true });
  writeFileSync(join(ws, 'keys', `${name}.pem`), encryptPrivateKey(k!.privateKey, Buffer.from(PASS)), {
    mode: 0o600,
  });
  return `file:keys/${name}.pem`;
}

async function attach(uri: string, options: Parameters<typeof attachKey>[3] = {}, passphrase = PASS) {
  const w = Workspace.open(ws);
  return attachKey(w, uri, { secrets: secrets(passphrase), baseDir: w.dir, env: {} }, options);
}

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TufsignError) return e.code;
    throw e;
  }
  throw new Error('not refused');
}

beforeAll(async () => {
  const src = join(base, 'src');
  cpSync(join(FIXTURES, 'python-tuf'), src, { recursive: true });
  ws = join(base, 'ws');
  await importRepository({
    dir: ws,
    source: src,
    format: 'python-tuf',
    dryRun: false,
    skipMissingTargets: false,
    now: new Date('2027-01-01T00:00:00Z'),
    secrets: secrets(),
  });
});

test('the key that the metadata lists is attached under its keyid, for its roles (root and a delegation)', async () => {
  const timestamp = await attach(await keyFile('timestamp'));
  expect(timestamp.roles).toEqual(['timestamp']);
  expect(Workspace.open(ws).config.keys.get(timestamp.keyids[0]!)?.ref?.uri).toBe('file:keys/timestamp.pem');
  const releases = await attach(await keyFile('releases'));
  expect(releases.roles).toEqual(['releases']);
  const w = Workspace.open(ws);
  const listed = [...w.load().targets.signed.delegations!.keys.keys()];
  expect(listed).toContain(releases.keyids[0]);
});

test('a key the repository does not list, another key than --keyid, a wrong passphrase, a non-URI: refused, config unchanged', async () => {
  const before = config();
  const { privateKey } = generateKeyPairSync('ed25519');
  mkdirSync(join(ws, 'keys'), { recursive: true });
  writeFileSync(join(ws, 'keys', 'stranger.pem'), encryptPrivateKey(privateKey, Buffer.from(PASS)), { mode: 0o600 });
  expect(await refused(attach('file:keys/stranger.pem'))).toBe('KEY_MISMATCH');

  const snapshotUri = await keyFile('snapshot');
  const root = Workspace.open(ws).loadRoot().signed;
  const timestampId = root.role('timestamp').keyids[0]!;
  expect(await refused(attach(snapshotUri, { keyid: timestampId.slice(0, 12) }))).toBe('KEY_MISMATCH');
  expect(await refused(attach(snapshotUri, {}, 'wrong-passphrase'))).toBe('WRONG_PASSPHRASE');
  expect(await refused(attach('keys/snapshot.pem'))).toBe('KEY_URI_INVALID');
  expect(await refused(attach(snapshotUri, { keyid: 'ffffffffffff' }))).toBe('KEY_NOT_FOUND');
  expect(config()).toBe(before);

  const ok = await attach(snapshotUri, { keyid: root.role('snapshot').keyids[0]! });
  expect(ok.keyids).toEqual(root.role('snapshot').keyids);
  expect(ok.keyids).not.toContain(keyFromPublicKeyObject(createPublicKey(privateKey), 'ed25519').keyid());
});

test('an attached key keeps its URI unless --replace', async () => {
  const uri = await keyFile('root2');
  const first = await attach(uri);
  expect(first.replaced).toEqual([]);
  const again = await keyFile('root2', 'root2-copy');
  const before = config();
  expect(await refused(attach(again))).toBe('USAGE');
  expect(config()).toBe(before);
  const replaced = await attach(again, { replace: true });
  expect(replaced.replaced).toEqual(first.keyids.map((keyid) => ({ keyid, uri })));
  expect(Workspace.open(ws).config.keys.get(first.keyids[0]!)?.ref?.uri).toBe(again);
});
