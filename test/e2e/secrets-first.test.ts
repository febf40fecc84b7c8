/**
 * Secrets asked once, up front: add-release opens every key it will sign with before it builds anything;
 * one passphrase typed for key files made together opens them all; a wrong one is asked again, not fatal.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor } from '../../src/errors';
import { TEST_PASSPHRASE, runCli } from '../helpers/cli';
import { describeOnPty, needingPty, runOnPty, type PtyRun, type PtyScript } from '../helpers/pty';
import { describeSoftHsm, pkcs11GenerateArgs, SOFTHSM_MODULE, SO_PIN, USER_PIN } from '../helpers/softhsm';
import { tempDir } from '../helpers/tmp';

const base = tempDir();
const ws = join(base, 'repo');
const app = join(base, 'app');
/** SoftHSM2 and a pseudo-terminal. */
const describeHsmOnPty = needingPty(describeSoftHsm);
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

describeOnPty('on a terminal', () => {
  it('asks first, once for the three online keys, and lets a wrong passphrase be typed again', () => {
    const steps: PtyScript = [
      ['Passphrase for', 'wrong-passphrase-1\r'],
      ['try 2 of 3', `${TEST_PASSPHRASE}\r`],
    ];
    const r = runOnPty(steps, ['add-release', 'myapp', '1.0', app, '-w', ws], { cwd: base });
    const transcript = r.transcript;
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

describeHsmOnPty('two distinct secrets on a terminal (targets key on a SoftHSM2 token, the others key files)', () => {
  const dir = join(base, 'two-secrets');
  const ws2 = join(dir, 'repo');
  const conf = join(dir, 'softhsm2.conf');
  const drive = (steps: PtyScript, version: string): PtyRun =>
    runOnPty(steps, ['add-release', 'myapp', version, app, '-w', ws2], { cwd: dir, env: { SOFTHSM2_CONF: conf } });
  // an answered prompt is redrawn as "✔ QUESTION" once (inquirer redraws the open prompt at every key)
  const answered = (text: string, what: string): number => text.split(`\u2714 ${what}`).length - 1;

  beforeAll(() => {
    mkdirSync(join(dir, 'tokens'), { recursive: true });
    writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\n`);
    const hsm = { SOFTHSM2_CONF: conf, TUFSIGN_PIN: USER_PIN, TUFSIGN_PKCS11_MODULE: SOFTHSM_MODULE };
    const token = spawnSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', 'rel', '--so-pin', SO_PIN, '--pin', USER_PIN],
      {
        env: { ...process.env, ...hsm },
      },
    );
    expect(token.status).toBe(0);
    const gen = pkcs11GenerateArgs('rel', 'targets', ['--scheme', 'ecdsa-sha2-nistp256']);
    expect(runCli(gen, { cwd: dir, env: hsm }).status).toBe(0);
    const uri = `pkcs11:token=rel;object=targets?module-path=${SOFTHSM_MODULE}`;
    expect(runCli(['init', ws2, '--targets-key', uri, '--json'], { cwd: dir, env: hsm }).status).toBe(0);
  });

  it('three wrong passphrases: WRONG_PASSPHRASE before any build stage, the PIN never asked, nothing added', () => {
    const r = drive(
      [
        ['Passphrase for', 'wrong-passphrase-1\r'],
        ['try 2 of 3', 'wrong-passphrase-2\r'],
        ['try 3 of 3', 'wrong-passphrase-3\r'],
      ],
      '1.0',
    );
    expect(r.status).toBe(exitCodeFor('WRONG_PASSPHRASE'));
    expect(r.transcript).toMatch(/WRONG_PASSPHRASE/);
    // key files are opened in the pre-flight, before any token login: the PIN was never asked, so never spent
    expect(answered(r.transcript, 'PIN for')).toBe(0);
    expect(answered(r.transcript, 'Passphrase for')).toBe(3);
    expect(r.transcript).not.toMatch(/\b(scan|archive|compress): /);
    expect(existsSync(join(ws2, 'bundles', 'myapp-1.0'))).toBe(false);
  });

  it('each distinct secret is asked exactly once per run (one PIN, one passphrase for the snapshot and timestamp key files)', () => {
    const r = drive(
      [
        ['Passphrase for', `${TEST_PASSPHRASE}\r`],
        ['PIN for', `${USER_PIN}\r`],
      ],
      '1.0',
    );
    expect(r.status).toBe(0);
    expect(answered(r.transcript, 'PIN for')).toBe(1);
    expect(answered(r.transcript, 'Passphrase for')).toBe(1);
    // both secrets were asked before the first build stage (a terminal redraws stage lines, so no line anchors),
    // the key files' passphrase before the token's PIN (the pre-flight opens key files before any login)
    expect(r.transcript.lastIndexOf('PIN for')).toBeLessThan(r.transcript.search(/\b(scan|compress)\b/));
    expect(r.transcript.indexOf('Passphrase for')).toBeLessThan(r.transcript.indexOf('PIN for'));
    expect(existsSync(join(ws2, 'bundles', 'myapp-1.0'))).toBe(true);
  });
});
