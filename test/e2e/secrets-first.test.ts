/**
 * Secrets asked once, up front: add-release opens every key it will sign with before it builds anything;
 * one passphrase typed for key files made together opens them all; a wrong one is asked again, not fatal.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor } from '../../src/errors';
import { BIN, ROOT, SYSTEM_PYTHON, TEST_PASSPHRASE, runCli } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const base = tempDir();
const ws = join(base, 'repo');
const app = join(base, 'app');
const DRIVER = join(ROOT, 'test', 'fixtures', 'pty-drive.py');
const STAGE_LINE = /^(scan|archive|compress|check|hash|patch \w+): .* in [\d.]+ s$/m;

beforeAll(() => {
  expect(runCli(['init', '-w', ws, '--json']).status).toBe(0);
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'main.py'), 'print("hello")\n');
  writeFileSync(join(app, 'data.bin'), Buffer.alloc(256 * 1024, 7));
});

describe('add-release without a secret', () => {
  it('fails with SECRET_REQUIRED before any build stage ran, and writes nothing', () => {
    const before = readdirSync(join(ws, 'targets'));
    const r = runCli(['add-release', 'myapp', '1.0', app, '-w', ws], { env: { TUFSIGN_PASSPHRASE: undefined } });
    expect(r.status).toBe(exitCodeFor('SECRET_REQUIRED'));
    expect(r.stderr).toMatch(/^error SECRET_REQUIRED/m);
    // no progress line: the archive was never built
    expect(r.stderr).not.toMatch(STAGE_LINE);
    expect(readdirSync(join(ws, 'targets'))).toEqual(before);
    expect(readdirSync(ws)).not.toContain('bundles');
  });

  it('a wrong passphrase from the environment also fails before the build, without retrying', () => {
    const r = runCli(['add-release', 'myapp', '1.0', app, '-w', ws], {
      env: { TUFSIGN_PASSPHRASE: 'not-the-passphrase' },
    });
    expect(r.status).toBe(exitCodeFor('WRONG_PASSPHRASE'));
    expect(r.stderr).not.toMatch(STAGE_LINE);
  });

  it('(control) with the secret the same command does print its build stages', () => {
    const r = runCli(['add-release', 'myapp', '0.9', app, '-w', ws, '--dry-run']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(STAGE_LINE);
  });
});

describe('on a terminal', () => {
  it('asks first, once for the three online keys, and lets a wrong passphrase be typed again', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env['TUFSIGN_PASSPHRASE'];
    const steps = [
      ['Passphrase for', 'wrong-passphrase-1\r'],
      ['try 2 of 3', `${TEST_PASSPHRASE}\r`],
    ];
    const r = spawnSync(
      SYSTEM_PYTHON,
      [DRIVER, JSON.stringify(steps), '--', process.execPath, BIN, 'add-release', 'myapp', '1.0', app, '-w', ws],
      { cwd: base, env, encoding: 'utf8', timeout: 120_000 },
    );
    const transcript = r.stdout;
    expect(r.status).toBe(0);
    // the prompt came before the first build stage
    const firstPrompt = transcript.indexOf('Passphrase for');
    const firstStage = transcript.search(/\b(scan|compress)\b/);
    expect(firstPrompt).toBeGreaterThanOrEqual(0);
    expect(firstStage).toBeGreaterThan(firstPrompt);
    // targets, snapshot and timestamp keys share the passphrase: only the targets key was asked for
    expect(transcript).toMatch(/Passphrase for file:\S*targets-1\.pem/);
    expect(transcript).not.toMatch(/Passphrase for file:\S*(snapshot|timestamp)-1\.pem/);
    expect(transcript).not.toContain(TEST_PASSPHRASE);
    expect(readdirSync(join(ws, 'targets')).some((f) => f.includes('myapp-1.0.tar.gz'))).toBe(true);
  });
});
