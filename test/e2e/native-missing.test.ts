/** Without the optional native modules the CLI still works with key files, and says what to install for hardware keys. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, ROOT, TEST_OFFLINE_PASSPHRASE, TEST_PASSPHRASE } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const base = tempDir();
const run = (args: string[]) => {
  const r = spawnSync(
    process.execPath,
    ['--require', join(ROOT, 'test', 'fixtures', 'block-native.js'), BIN, ...args],
    {
      cwd: base,
      encoding: 'utf8',
      env: {
        ...process.env,
        TUFSIGN_PASSPHRASE: TEST_PASSPHRASE,
        TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE,
        TUFSIGN_PIN: '1234',
      },
    },
  );
  return { status: r.status, json: () => JSON.parse(r.stdout) };
};

describe('optional native modules missing', () => {
  it('file keys work: init, verify', () => {
    expect(run(['init', 'repo', '--json']).status).toBe(0);
    expect(run(['verify', 'repo', '--json']).status).toBe(0);
  });

  it.each([
    ['pkcs11', 'pkcs11:token=x;object=y?module-path=/usr/lib/softhsm/libsofthsm2.so'],
    ['yubikey', 'yubikey:serial=12345678;slot=9c'],
  ])('a %s key gives DEPENDENCY_MISSING with an install hint (exit 9)', (_name, uri) => {
    const r = run(['key', 'show', uri, '--json']);
    expect(r.status).toBe(9);
    const err = r.json().error;
    expect(err.code).toBe('DEPENDENCY_MISSING');
    expect(err.suggestion).toMatch(/npm_config_nodedir=\/usr npm install/);
  });
});
