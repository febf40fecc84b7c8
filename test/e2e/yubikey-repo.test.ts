/**
 * End to end through the built CLI: two virtual YubiKeys (two serials) hold
 * the root keys, threshold 2-of-2; `key generate`, `init`, `verify`.
 * Needs `npm run build` first (dist/ and bin/run.js).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cardCli, describeWithVirtualCards, useVirtualCardLab, yubikeyGenerateArgs } from '../helpers/virtual-yubikey';
import { fetchTarget, newClient, serveDirectory } from '../helpers/tuf-client';
const SERIALS = [20000001, 20000002];

describeWithVirtualCards(
  'tufsign CLI with two virtual YubiKeys (root 2-of-2)',
  () => {
    const lab = useVirtualCardLab([
      { serial: SERIALS[0]!, version: '5.7.1', seed: 'e2e-a' },
      { serial: SERIALS[1]!, version: '5.4.3', seed: 'e2e-b' },
    ]);
    // the CLI as a keyholder runs it, with the virtual cards' test CA trusted
    const run = cardCli(lab);

    it('generates attested root keys on both YubiKeys, inits a 2-of-2 root repository, and verifies it', () => {
      for (const serial of SERIALS) {
        const g = run([
          ...yubikeyGenerateArgs({ serial, pinPolicy: 'once', touchPolicy: 'always', publicOut: `${serial}.pub.json` }),
          '--json',
        ]);
        expect(g.stderr + g.stdout).not.toContain('123456');
        expect(g.status).toBe(0);
        const pub = JSON.parse(readFileSync(join(lab.dir, `${serial}.pub.json`), 'utf8')) as {
          uri: string;
          attestation: { serial: number; touchPolicy: string };
        };
        expect(pub.uri).toBe(`yubikey:serial=${serial};slot=9c`);
        expect(pub.attestation).toMatchObject({ serial, touchPolicy: 'always' });
      }
      const init = run([
        'init',
        'repo',
        '--scheme',
        'ecdsa-sha2-nistp256',
        '--root-threshold',
        '2',
        ...SERIALS.flatMap((s) => ['--root-key', `yubikey:serial=${s};slot=9c`]),
        '--yes',
        '--json',
      ]);
      if (init.status !== 0) throw new Error(`init failed (${init.status}): ${init.stdout}\n${init.stderr}`);
      const verify = run(['verify', 'repo', '--json']);
      if (verify.status !== 0) throw new Error(`verify failed (${verify.status}): ${verify.stdout}\n${verify.stderr}`);
      const root = JSON.parse(readFileSync(join(lab.dir, 'repo', 'metadata', '1.root.json'), 'utf8')) as {
        signed: { roles: { root: { threshold: number; keyids: string[] } } };
        signatures: unknown[];
      };
      expect(root.signed.roles.root.threshold).toBe(2);
      expect(root.signed.roles.root.keyids).toHaveLength(2);
      expect(root.signatures.length).toBeGreaterThanOrEqual(2);
    });

    it('devices lists both YubiKeys with serial, firmware and the generated slot', () => {
      const j = run(['devices', '--json']);
      expect(j.status).toBe(0);
      const yk = (
        JSON.parse(j.stdout) as {
          backends: { backend: string; devices: { serial: number; firmware: string; slots: { slot: string }[] }[] }[];
        }
      ).backends.find((r) => r.backend === 'yubikey')!;
      expect(yk.devices.map((d) => d.serial).sort()).toEqual([...SERIALS].sort());
      expect(yk.devices.every((d) => d.slots.some((s) => s.slot === '9c'))).toBe(true);
      const human = run(['devices']);
      for (const serial of SERIALS) expect(human.stdout).toContain(`yubikey:serial=${serial};slot=9c`);
    });

    it('the wrong YubiKey through the CLI: device exit code and WRONG_DEVICE naming the serial', () => {
      const r = run(['key', 'show', 'yubikey:serial=99999999;slot=9c', '--json']);
      expect(r.status).toBe(6);
      expect(r.stdout + r.stderr).toContain('WRONG_DEVICE');
      expect(r.stdout + r.stderr).toContain('99999999');
    });

    it('re-signs root with both YubiKeys, adds a target, and the tuf-js client consumes the result', async () => {
      expect(run(['sign', 'root', '--bump', '-w', 'repo', '--json']).status).toBe(0);
      writeFileSync(join(lab.dir, 'app.bin'), 'signed with YubiKey-held root keys\n');
      expect(run(['targets', 'add', 'app.bin', '-w', 'repo', '--json']).status).toBe(0);
      const verify = run(['verify', 'repo', '--json']);
      expect(verify.status).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, rootVersion: 2 });
      const server = await serveDirectory(join(lab.dir, 'repo'));
      try {
        const client = newClient(server, join(lab.dir, 'repo', 'metadata', '1.root.json'));
        expect((await fetchTarget(client, 'app.bin')).toString()).toBe('signed with YubiKey-held root keys\n');
      } finally {
        await server.close();
      }
    });

    it('key attest re-verifies the attestation; the root-key policy accepts touch-always keys and refuses others', () => {
      const pub = `${SERIALS[0]}.pub.json`;
      const ok = run(['key', 'attest', pub, '--policy', 'root', '--attestation-ca', lab.caCertFile, '--json']);
      expect(ok.status).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, facts: { serial: SERIALS[0], touchPolicy: 'always' } });
      // trusted only through Yubico's roots by default: the virtual card's test CA is not one of them
      const untrusted = run(['key', 'attest', pub, '--json'], { TUFSIGN_YUBIKEY_TEST_CA: '' });
      expect(untrusted.status).toBe(5);
      // the root-key policy never trusts the test switch TUFSIGN_YUBIKEY_TEST_CA (set for every run here), only
      // Yubico's roots and --attestation-ca, as the workspace's persisted policy does
      const testCaOnly = run(['key', 'attest', pub, '--policy', 'root', '--json']);
      expect(testCaOnly.status).toBe(5);
      expect(JSON.parse(testCaOnly.stdout).error.code).toBe('ATTESTATION_UNTRUSTED');
      expect(run(['key', 'attest', pub, '--json']).status).toBe(0);
      // a key without touch policy "always" (slot 9a, touch never) fails the root-key policy at init, before anything is signed
      const weak = run([
        'key',
        'generate',
        '--backend',
        'yubikey',
        '--serial',
        String(SERIALS[1]),
        '--slot',
        '9a',
        '--scheme',
        'ecdsa-sha2-nistp256',
        '--touch-policy',
        'never',
        '--allow-default-management-key',
        '--public-out',
        'weak.pub.json',
        '--json',
      ]);
      expect(weak.status).toBe(0);
      const refused = run([
        'init',
        'policy-repo',
        '--root-key',
        'weak.pub.json',
        '--require-attested-root-keys',
        '--attestation-ca',
        lab.caCertFile,
        '--yes',
        '--json',
      ]);
      expect(refused.status).toBe(5);
      expect(JSON.parse(refused.stdout).error.code).toBe('POLICY_VIOLATION');
      expect(existsSync(join(lab.dir, 'policy-repo', 'metadata'))).toBe(false);
      const accepted = run([
        'init',
        'policy-ok',
        '--root-key',
        pub,
        '--require-attested-root-keys',
        '--attestation-ca',
        lab.caCertFile,
        '--yes',
        '--json',
      ]);
      expect(accepted.status).toBe(0);
    });
  },
  ['openssl'],
);
