/**
 * A new key file passphrase shorter than 8 bytes is refused before anything is written (init, key generate),
 * with the rule stated once; 8 bytes are enough.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

describe('new key file passphrases', () => {
  const initDir = tempDir('tufsign-short-pass-');
  const keyDir = tempDir('tufsign-short-pass-');

  it('init with a 7-character passphrase: USAGE, exit 2, no workspace; the minimum appears once', () => {
    const dir = initDir;
    const r = runCli(['init', 'repo', '--json'], { cwd: dir, env: { TUFSIGN_PASSPHRASE: '1234567' } });
    expect(r.status).toBe(2);
    const error = r.json().error as { code: string; message: string; rule?: string };
    expect(error.code).toBe('USAGE');
    expect(`${error.message} ${error.rule ?? ''}`.match(/\b8\b/g)).toHaveLength(1);
    expect(existsSync(join(dir, 'repo'))).toBe(false);
  });

  it('key generate with a 7-character passphrase writes no key file; with 8 it does', () => {
    const dir = keyDir;
    const args = ['key', 'generate', '--backend', 'file', '--out', 'k.pem', '--json'];
    const short = runCli(args, { cwd: dir, env: { TUFSIGN_PASSPHRASE: '1234567' } });
    expect(short.status).toBe(2);
    expect(short.json().error.code).toBe('USAGE');
    expect(readdirSync(dir)).toEqual([]);
    expect(runCli(args, { cwd: dir, env: { TUFSIGN_PASSPHRASE: '12345678' } }).status).toBe(0);
    expect(existsSync(join(dir, 'k.pem'))).toBe(true);
  });
});
