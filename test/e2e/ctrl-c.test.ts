/** Ctrl-C at each kind of prompt, on a real terminal: error ABORTED (exit 2), no "bug" message, nothing written. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor } from '../../src/errors';
import { runCli } from '../helpers/cli';
import { CTRL_C, describeOnPty, needingPty, runOnPty, type PtyRun, type PtyScript } from '../helpers/pty';
import { describeSoftHsm, pkcs11GenerateArgs, SOFTHSM_MODULE, SO_PIN, USER_PIN } from '../helpers/softhsm';
import { tempDir } from '../helpers/tmp';

const base = tempDir();
const drive = (steps: PtyScript, args: string[], env: Record<string, string | undefined> = {}): PtyRun =>
  runOnPty(steps, args, { cwd: base, env });

function expectAborted(r: PtyRun): void {
  expect(r.status).toBe(exitCodeFor('ABORTED'));
  expect(r.transcript).toContain('ABORTED');
  expect(r.transcript).not.toMatch(/INTERNAL|bug in tufsign|ExitPromptError/);
}

const tree = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => [join(e.parentPath, e.name), readFileSync(join(e.parentPath, e.name), 'hex')]),
  );

describeOnPty('Ctrl-C on a real terminal', () => {
  const ws = join(base, 'repo');
  beforeAll(() => {
    expect(runCli(['init', '-w', ws, '--json']).status).toBe(0);
  });

  it('at a select prompt (init: scheme): ABORTED, no workspace created', () => {
    expectAborted(drive([['scheme', CTRL_C]], ['init', '-w', 'fresh']));
    expect(existsSync(join(base, 'fresh'))).toBe(false);
  });

  it('at a passphrase prompt (refresh): ABORTED, metadata unchanged', () => {
    const before = tree(ws);
    expectAborted(drive([['Passphrase for', CTRL_C]], ['refresh', '-w', ws]));
    expect(tree(ws)).toEqual(before);
  });

  it('at a confirmation (ceremony sign): ABORTED, the request file unchanged', () => {
    const req = join(base, 'targets.tufsign-request.json');
    expect(runCli(['ceremony', 'start', '--role', 'targets', '-w', ws, '--request-out', req, '--json']).status).toBe(0);
    const before = readFileSync(req);
    // the keyholder compares the fingerprint the organizer reads out (#9); the confirmation comes after it
    const fingerprint = (JSON.parse(before.toString('utf8')) as { fingerprint: string }).fingerprint;
    expectAborted(
      drive(
        [['Sign targets', CTRL_C]],
        [
          'ceremony',
          'sign',
          req,
          '--key',
          `file:${join(ws, 'keys', 'targets-1.pem')}`,
          '-w',
          ws,
          '--fingerprint',
          fingerprint,
        ],
        { TUFSIGN_PASSPHRASE: 'test-only-passphrase' },
      ),
    );
    expect(readFileSync(req).equals(before)).toBe(true);
  });
});

needingPty(describeSoftHsm)('Ctrl-C at a PIN prompt (a SoftHSM2 token)', () => {
  const conf = join(base, 'softhsm2.conf');
  beforeAll(() => {
    mkdirSync(join(base, 'tokens'));
    writeFileSync(conf, `directories.tokendir = ${join(base, 'tokens')}\n`);
    const init = spawnSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', 'ctrlc', '--so-pin', SO_PIN, '--pin', USER_PIN],
      { env: { ...process.env, SOFTHSM2_CONF: conf }, encoding: 'utf8' },
    );
    expect(init.status).toBe(0);
  });
  const generate = (json: string[]): string[] =>
    pkcs11GenerateArgs('ctrlc', 'k', [
      '--scheme',
      'ecdsa-sha2-nistp256',
      '--public-out',
      'k.pub.json',
      '--pkcs11-module',
      SOFTHSM_MODULE,
      ...json,
    ]);

  it('key generate: ABORTED (the JSON envelope under --json), no public key file, no key on the token', () => {
    const env = { SOFTHSM2_CONF: conf, TUFSIGN_PIN: undefined };
    expectAborted(drive([['PIN for', CTRL_C]], generate([]), env));
    const json = drive([['PIN for', CTRL_C]], generate(['--json']), env);
    expect(json.status).toBe(exitCodeFor('ABORTED'));
    expect(json.transcript).toMatch(/"code": "ABORTED"/);
    expect(existsSync(join(base, 'k.pub.json'))).toBe(false);
    // the label is still free: the same command with the PIN makes the key now (a half-made key would be refused)
    const made = runCli(generate(['--json']), { cwd: base, env: { SOFTHSM2_CONF: conf, TUFSIGN_PIN: USER_PIN } });
    expect(made.status).toBe(0);
    expect(made.json()).toMatchObject({
      publicFile: 'k.pub.json',
      uri: expect.stringContaining('token=ctrlc;object=k'),
    });
  });
});
