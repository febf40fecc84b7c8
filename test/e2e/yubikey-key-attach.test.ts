/**
 * `key attach yubikey:…` on the virtual YubiKey stack (pcscd + vpcd + the
 * virtual PIV card): a root key recorded public-only (as an import records a
 * tuf-on-ci keyholder's YubiKey) is attached only when the card's slot holds
 * exactly that key; then tufsign signs the next root with the card.
 * Run under `flock /tmp/tufsign-vcard.lock`. Needs `npm run build` first.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/cli';
import { VirtualYubiKeyLab, describeWithVirtualCards } from '../helpers/virtual-yubikey';

const SERIAL = 20000031;

describeWithVirtualCards('key attach with a virtual YubiKey', () => {
  const lab = new VirtualYubiKeyLab();
  const run = (args: string[]) =>
    runCli(args, { cwd: lab.dir, env: { TUFSIGN_YUBIKEY_TEST_CA: lab.caCertFile, TUFSIGN_PIN: '123456' } });

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'commands'))) throw new Error('run `npm run build` first');
    await lab.startPcscd();
    await lab.insert(0, { serial: SERIAL, version: '5.7.1', seed: 'attach' });
  }, 30000);
  afterAll(async () => {
    await lab.teardown();
  });

  it('refuses a slot holding another key, attaches the right one, and the card signs root v2', () => {
    const uri = `yubikey:serial=${SERIAL};slot=9c`;
    for (const slot of ['9c', '9a']) {
      const g = run([
        'key',
        'generate',
        '--backend',
        'yubikey',
        '--serial',
        String(SERIAL),
        '--slot',
        slot,
        '--scheme',
        'ecdsa-sha2-nistp256',
        '--pin-policy',
        'once',
        '--touch-policy',
        'never',
        '--allow-default-management-key',
        '--json',
      ]);
      expect(g.status).toBe(0);
    }
    const init = run(['init', 'repo', '--scheme', 'ecdsa-sha2-nistp256', '--root-key', uri, '--yes', '--json']);
    if (init.status !== 0) throw new Error(`init failed (${init.status}): ${init.stdout}\n${init.stderr}`);
    // the root key becomes public-only, as `init --import` records a keyholder's YubiKey
    const configFile = join(lab.dir, 'repo', 'tufsign.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    const rootId = JSON.parse(readFileSync(join(lab.dir, 'repo', 'metadata', '1.root.json'), 'utf8')).signed.roles.root
      .keyids[0] as string;
    expect(config.keys[rootId].uri).toBe(uri);
    delete config.keys[rootId].uri;
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const before = readFileSync(configFile);

    const wrongSlot = run(['key', 'attach', `yubikey:serial=${SERIAL};slot=9a`, '-w', 'repo', '--json']);
    expect(JSON.parse(wrongSlot.stdout).error.code).toBe('KEY_MISMATCH');
    expect(readFileSync(configFile)).toEqual(before);

    const attached = run(['key', 'attach', uri, '--keyid', rootId.slice(0, 10), '-w', 'repo', '--json']);
    expect(attached.status).toBe(0);
    expect(attached.json()).toMatchObject({ keyids: [rootId], roles: ['root'], uri });
    expect(attached.stdout + attached.stderr).not.toContain('123456');

    const signed = run(['sign', 'root', '--bump', '-w', 'repo', '--json']);
    if (signed.status !== 0) throw new Error(`sign failed (${signed.status}): ${signed.stdout}\n${signed.stderr}`);
    const root2 = JSON.parse(readFileSync(join(lab.dir, 'repo', 'metadata', '2.root.json'), 'utf8'));
    expect(root2.signatures.map((s: { keyid: string }) => s.keyid)).toEqual([rootId]);
    expect(run(['verify', 'repo']).status).toBe(0);
  });
});
