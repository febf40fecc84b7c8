/**
 * Online and offline keys kept apart (ADR 0011): `init --offline root` puts the
 * root key file in offline-keys/ under a passphrase of its own; with only the
 * online secret, refresh and targets add work, and a step that needs the root
 * key stops before the key file is opened (the file is replaced by a FIFO: an
 * open would hang, an lstat would fail differently). Per-key secret sources.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp';
import { errorCode, ok, tufsign } from './ceremony-helpers';

const base = tempDir('tufsign-offline-');
const ws = join(base, 'repo');
const ONLINE = { TUFSIGN_PASSPHRASE: 'online-passphrase-1', TUFSIGN_OFFLINE_PASSPHRASE: undefined };

beforeAll(() => {
  ok(['init', ws, '--offline', 'root', '--json'], {
    env: { TUFSIGN_PASSPHRASE: 'online-passphrase-1', TUFSIGN_OFFLINE_PASSPHRASE: 'offline-passphrase-2' },
  });
}, 120_000);

it('init writes the offline root key apart, under its own passphrase, marked offline', () => {
  expect(existsSync(join(ws, 'offline-keys', 'root-1.pem'))).toBe(true);
  expect(existsSync(join(ws, 'keys', 'root-1.pem'))).toBe(false);
  const cfg = JSON.parse(readFileSync(join(ws, 'tufsign.json'), 'utf8'));
  const entries: { uri: string; offline?: boolean }[] = Object.values(cfg.keys);
  expect(entries.find((e) => e.uri === 'file:offline-keys/root-1.pem')?.offline).toBe(true);
  expect(entries.filter((e) => e.offline === true)).toHaveLength(1);
});

it('refuses an offline passphrase equal to the online one', () => {
  const r = tufsign(['init', join(base, 'same'), '--offline', 'root', '--json'], {
    env: { TUFSIGN_PASSPHRASE: 'same-passphrase-3', TUFSIGN_OFFLINE_PASSPHRASE: 'same-passphrase-3' },
  });
  expect(errorCode(r)).toBe('USAGE');
  expect(existsSync(join(base, 'same', 'tufsign.json'))).toBe(false);
});

it('with only the online secret: refresh and targets add work; a root step stops before opening the key', () => {
  // An open() of a FIFO blocks: if tufsign touched the offline key, this test would time out.
  renameSync(join(ws, 'offline-keys', 'root-1.pem'), join(base, 'root-1.pem.away'));
  execFileSync('mkfifo', [join(ws, 'offline-keys', 'root-1.pem')]);
  ok(['refresh', '-w', ws], { env: ONLINE });
  writeFileSync(join(base, 'a.txt'), 'a\n');
  ok(['targets', 'add', join(base, 'a.txt'), '-w', ws], { env: ONLINE });
  const r = tufsign(['sign', 'root', '--bump', '-w', ws, '--json'], { env: ONLINE });
  expect(r.status).toBe(5);
  expect(errorCode(r)).toBe('OFFLINE_KEY_UNAVAILABLE');
  expect(r.json.error.details.role).toBe('root');
});

it('a key with its own secret source uses it, and stops before opening when it is absent', () => {
  const cfgPath = join(ws, 'tufsign.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  const [keyid, entry] = Object.entries(cfg.keys).find(
    ([, e]) => (e as { uri: string }).uri === 'file:keys/targets-1.pem',
  ) as [string, Record<string, unknown>];
  entry['secret'] = 'env:TARGETS_KEY_PASSPHRASE';
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
  writeFileSync(join(base, 'b.txt'), 'b\n');
  const missing = tufsign(['targets', 'add', join(base, 'b.txt'), '-w', ws, '--json'], { env: ONLINE });
  expect(errorCode(missing)).toBe('SECRET_REQUIRED');
  expect(missing.json.error.details.keyid).toBe(keyid);
  ok(['targets', 'add', join(base, 'b.txt'), '-w', ws], {
    env: { ...ONLINE, TARGETS_KEY_PASSPHRASE: 'online-passphrase-1' },
  });
  // --passphrase-file KEY=FILE (keyid prefix) takes precedence over the config
  const pw = join(base, 'targets.pw');
  writeFileSync(pw, 'online-passphrase-1\n', { mode: 0o600 });
  writeFileSync(join(base, 'c.txt'), 'c\n');
  ok(['targets', 'add', join(base, 'c.txt'), '-w', ws, '--passphrase-file', `${keyid.slice(0, 12)}=${pw}`], {
    env: ONLINE,
  });
});
