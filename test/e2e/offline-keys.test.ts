/**
 * Online and offline keys kept apart (ADR 0011): `init` keeps root offline by
 * default (`--offline ROLE…`, `--offline none`) and puts its key file in
 * offline-keys/ under a passphrase of its own; with only the online secret,
 * refresh, targets add (also into a delegated role) and add-release work, and
 * a step that needs the root key stops before the key file is opened (the file
 * is replaced by a FIFO: an open would hang, an lstat would fail differently).
 * Per-key secret sources.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp';
import { errorCode, ok, tufsign } from './ceremony-helpers';

const base = tempDir('tufsign-offline-');
const ws = join(base, 'repo');
const ONLINE = { TUFSIGN_PASSPHRASE: 'online-passphrase-1', TUFSIGN_OFFLINE_PASSPHRASE: undefined };

beforeAll(() => {
  // no --offline: root is offline by default
  ok(['init', ws, '--json'], {
    env: { TUFSIGN_PASSPHRASE: 'online-passphrase-1', TUFSIGN_OFFLINE_PASSPHRASE: 'offline-passphrase-2' },
  });
}, 120_000);

it('by default init writes the root key apart, under its own passphrase, marked offline', () => {
  expect(existsSync(join(ws, 'offline-keys', 'root-1.pem'))).toBe(true);
  expect(existsSync(join(ws, 'keys', 'root-1.pem'))).toBe(false);
  const cfg = JSON.parse(readFileSync(join(ws, 'tufsign.json'), 'utf8'));
  const entries: { uri: string; offline?: boolean }[] = Object.values(cfg.keys);
  expect(entries.find((e) => e.uri === 'file:offline-keys/root-1.pem')?.offline).toBe(true);
  expect(entries.filter((e) => e.offline === true)).toHaveLength(1);
  // until it is moved away, status says so
  const st = ok(['status', '-w', ws, '--json'], { env: ONLINE }).json;
  expect(st.offlineKeyFilesHere).toEqual([{ keyid: rootKeyid(ws), uri: 'file:offline-keys/root-1.pem' }]);
});

it('with only the online secret and no terminal, init stops before writing anything and names the remedy', () => {
  const r = tufsign(['init', join(base, 'unattended'), '--json'], { env: ONLINE });
  expect(errorCode(r)).toBe('SECRET_REQUIRED');
  expect(r.json.error.suggestion).toContain('--offline-passphrase-file');
  expect(existsSync(join(base, 'unattended'))).toBe(false);
});

it('--offline-passphrase-file gives the offline passphrase unattended (0600 only); --offline none keeps all keys here', () => {
  const pw = join(base, 'offline.pw');
  writeFileSync(pw, 'offline-passphrase-4\n', { mode: 0o644 });
  const loose = tufsign(['init', join(base, 'loose'), '--offline-passphrase-file', pw, '--json'], { env: ONLINE });
  expect(errorCode(loose)).toBe('KEY_FILE_PERMISSIONS');
  expect(existsSync(join(base, 'loose', 'tufsign.json'))).toBe(false);
  execFileSync('chmod', ['600', pw]);
  const two = join(base, 'two-offline');
  ok(['init', two, '--offline', 'root', '--offline', 'targets', '--offline-passphrase-file', pw, '--json'], {
    env: ONLINE,
  });
  const cfg = JSON.parse(readFileSync(join(two, 'tufsign.json'), 'utf8'));
  const offline = Object.values(cfg.keys as Record<string, { uri: string; offline?: boolean }>)
    .filter((e) => e.offline === true)
    .map((e) => e.uri)
    .sort();
  expect(offline).toEqual(['file:offline-keys/root-1.pem', 'file:offline-keys/targets-1.pem']);
  // the offline root key opens with the file's passphrase, as a keyholder would pass it
  ok(['sign', 'root', '--bump', '-w', two, '--passphrase-file', `${rootKeyid(two).slice(0, 12)}=${pw}`], {
    env: ONLINE,
  });
  // the keyholders take their files: nothing offline is left here
  renameSync(join(two, 'offline-keys'), join(base, 'carried-away'));
  expect(ok(['status', '-w', two, '--json'], { env: ONLINE }).json.offlineKeyFilesHere).toEqual([]);
  const none = join(base, 'none');
  ok(['init', none, '--offline', 'none', '--json'], { env: ONLINE });
  expect(existsSync(join(none, 'keys', 'root-1.pem'))).toBe(true);
  expect(existsSync(join(none, 'offline-keys'))).toBe(false);
  const both = tufsign(['init', join(base, 'both'), '--offline', 'none', '--offline', 'root', '--json'], {
    env: ONLINE,
  });
  expect(errorCode(both)).toBe('USAGE');
});

function rootKeyid(dir: string): string {
  const root = JSON.parse(readFileSync(join(dir, 'metadata', '1.root.json'), 'utf8'));
  return root.signed.roles.root.keyids[0] as string;
}

it('refuses an offline passphrase equal to the online one', () => {
  const r = tufsign(['init', join(base, 'same'), '--offline', 'root', '--json'], {
    env: { TUFSIGN_PASSPHRASE: 'same-passphrase-3', TUFSIGN_OFFLINE_PASSPHRASE: 'same-passphrase-3' },
  });
  expect(errorCode(r)).toBe('USAGE');
  expect(existsSync(join(base, 'same', 'tufsign.json'))).toBe(false);
});

it('with only the online secret: refresh, targets add (--role too) and add-release work; a root step stops before opening the key', () => {
  // An open() of a FIFO blocks: if tufsign touched the offline key, this test would time out.
  renameSync(join(ws, 'offline-keys', 'root-1.pem'), join(base, 'root-1.pem.away'));
  execFileSync('mkfifo', [join(ws, 'offline-keys', 'root-1.pem')]);
  ok(['refresh', '-w', ws], { env: ONLINE });
  writeFileSync(join(base, 'a.txt'), 'a\n');
  ok(['targets', 'add', join(base, 'a.txt'), '-w', ws], { env: ONLINE });
  ok(['key', 'generate', '--out', join(ws, 'keys', 'projects-1.pem')], { env: ONLINE });
  ok(['delegate', 'add', 'projects', '--key', 'file:keys/projects-1.pem', '--paths', 'projects/*', '-w', ws], {
    env: ONLINE,
  });
  ok(['targets', 'add', join(base, 'a.txt'), '--path', 'projects/a.txt', '--role', 'projects', '-w', ws], {
    env: ONLINE,
  });
  mkdirSync(join(base, 'app1'));
  writeFileSync(join(base, 'app1', 'app.bin'), 'app 1.0\n');
  ok(['add-release', 'myapp', '1.0', join(base, 'app1'), '-w', ws], { env: ONLINE });
  const r = tufsign(['sign', 'root', '--bump', '-w', ws, '--json'], { env: ONLINE });
  expect(r.status).toBe(5);
  expect(errorCode(r)).toBe('OFFLINE_KEY_UNAVAILABLE');
  expect(r.json.error.details).toMatchObject({ role: 'root', uri: 'file:offline-keys/root-1.pem' });
  expect(r.json.error.details.keyid).toBe(rootKeyid(ws));
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
