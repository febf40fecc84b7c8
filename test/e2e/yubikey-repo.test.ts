/**
 * End to end through the built CLI: two virtual YubiKeys (two serials) hold
 * the root keys, threshold 2-of-2; `key generate`, `init`, `verify`.
 * Needs `npm run build` first (dist/ and bin/run.js).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtualYubiKeyLab, describeWithVirtualCards } from '../helpers/virtual-yubikey';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'run.js');
const SERIALS = [20000001, 20000002];

describeWithVirtualCards('tufsign CLI with two virtual YubiKeys (root 2-of-2)', () => {
  const lab = new VirtualYubiKeyLab();
  const run = (args: string[], extraEnv: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd: lab.dir,
      encoding: 'utf8',
      env: { ...process.env, TUFSIGN_YUBIKEY_TEST_CA: lab.caCertFile, TUFSIGN_PIN: '123456', TUFSIGN_PASSPHRASE: 'e2e passphrase 1', ...extraEnv },
      timeout: 60000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'commands'))) throw new Error('run `npm run build` first');
    await lab.startPcscd();
    await lab.insert(0, { serial: SERIALS[0]!, version: '5.7.1', seed: 'e2e-a' });
    await lab.insert(1, { serial: SERIALS[1]!, version: '5.4.3', seed: 'e2e-b' });
  }, 30000);

  afterAll(async () => {
    await lab.teardown();
  });

  it('generates attested root keys on both YubiKeys, inits a 2-of-2 root repository, and verifies it', () => {
    for (const serial of SERIALS) {
      const g = run(['key', 'generate', '--backend', 'yubikey', '--serial', String(serial), '--slot', '9c', '--scheme', 'ecdsa-sha2-nistp256', '--pin-policy', 'once', '--touch-policy', 'always', '--allow-default-management-key', '--public-out', `${serial}.pub.json`, '--json']);
      expect(g.stderr + g.stdout).not.toContain('123456');
      expect(g.status).toBe(0);
      const pub = JSON.parse(readFileSync(join(lab.dir, `${serial}.pub.json`), 'utf8')) as { uri: string; attestation: { serial: number; touchPolicy: string } };
      expect(pub.uri).toBe(`yubikey:serial=${serial};slot=9c`);
      expect(pub.attestation).toMatchObject({ serial, touchPolicy: 'always' });
    }
    const init = run(['init', 'repo', '--scheme', 'ecdsa-sha2-nistp256', '--root-threshold', '2', ...SERIALS.flatMap((s) => ['--root-key', `yubikey:serial=${s};slot=9c`]), '--yes', '--json']);
    if (init.status !== 0) throw new Error(`init failed (${init.status}): ${init.stdout}\n${init.stderr}`);
    const verify = run(['verify', 'repo', '--json']);
    if (verify.status !== 0) throw new Error(`verify failed (${verify.status}): ${verify.stdout}\n${verify.stderr}`);
    const root = JSON.parse(readFileSync(join(lab.dir, 'repo', 'metadata', '1.root.json'), 'utf8')) as { signed: { roles: { root: { threshold: number; keyids: string[] } } }; signatures: unknown[] };
    expect(root.signed.roles.root.threshold).toBe(2);
    expect(root.signed.roles.root.keyids).toHaveLength(2);
    expect(root.signatures.length).toBeGreaterThanOrEqual(2);
  });

  it('the wrong YubiKey through the CLI: device exit code and WRONG_DEVICE naming the serial', () => {
    const r = run(['key', 'show', 'yubikey:serial=99999999;slot=9c', '--json']);
    expect(r.status).toBe(6);
    expect(r.stdout + r.stderr).toContain('WRONG_DEVICE');
    expect(r.stdout + r.stderr).toContain('99999999');
  });
}, ['openssl']);
