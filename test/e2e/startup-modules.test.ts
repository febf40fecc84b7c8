/**
 * What a run loads is what it needs (issue #12, ADR 0010): `targets add` with key files does not load the
 * PKCS#11 or YubiKey (PC/SC) backends, their native modules, or semver (oclif's engine check), while a run that
 * uses a hardware backend still loads it on demand. Behaviour only; start-up time is measured in bench/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const base = tempDir();
const ws = join(base, 'repo');

/** Run the CLI and return its exit status and every module file it loaded (relative to the project). */
function runRecorded(args: string[], preload: string[] = []): { status: number; modules: string[] } {
  const list = join(base, `modules-${Date.now()}-${Math.random()}.txt`);
  const requires = ['record-modules.js', ...preload].map((f) => `--require ${join(ROOT, 'test', 'fixtures', f)}`);
  const r = runCli(args, {
    cwd: base,
    env: { NODE_OPTIONS: requires.join(' '), TUFSIGN_TEST_MODULE_LIST: list },
  });
  const modules = readFileSync(list, 'utf8')
    .split('\n')
    .filter((m) => m !== '')
    .map((m) => (m.startsWith(ROOT + '/') ? m.slice(ROOT.length + 1) : m));
  return { status: r.status, modules };
}

/** Device backends and what they bring: everything under keystore/pkcs11 and keystore/yubikey that talks to one. */
const DEVICE_MODULE =
  /(^|\/)dist\/keystore\/(pkcs11\/(index|runtime|api|modules|devices|pin|objects|journal)|yubikey\/(index|pcsc|device|journal))\.js$|node_modules\/(pcsclite|pkcs11js)\//;

beforeAll(() => {
  expect(runCli(['init', ws, '--json'], { cwd: base }).status).toBe(0);
  writeFileSync(join(base, 'one.whl'), 'one\n');
}, 120_000);

describe('modules a run loads', () => {
  it('targets add with key files loads no device backend, native module or semver', () => {
    const r = runRecorded(['targets', 'add', join(base, 'one.whl'), '--path', 'a/one.whl', '-w', ws, '--json']);
    expect(r.status).toBe(0);
    // the recorder saw the command and the signing code
    expect(r.modules).toEqual(expect.arrayContaining(['dist/commands/targets/add.js', 'dist/keystore/file/index.js']));
    expect(r.modules.filter((m) => DEVICE_MODULE.test(m))).toEqual([]);
    expect(r.modules.filter((m) => /node_modules\/semver\//.test(m))).toEqual([]);
  });

  it.each([
    ['pkcs11', 'pkcs11:token=x;object=y?module-path=/usr/lib/softhsm/libsofthsm2.so', 'dist/keystore/pkcs11/index.js'],
    ['yubikey', 'yubikey:serial=12345678;slot=9c', 'dist/keystore/yubikey/index.js'],
  ])('a %s key still loads its backend when it is used', (_name, uri, backend) => {
    // native modules blocked: the backend loads, then stops with DEPENDENCY_MISSING before any device is touched
    const r = runRecorded(['key', 'show', uri, '--json'], ['block-native.js']);
    expect(r.status).toBe(9);
    expect(r.modules).toContain(backend);
  });
});
