/**
 * A root ceremony with YubiKeys (virtual cards behind pcscd + vpcd): two
 * keyholders, root 2-of-2, each signs the request with their own device; a
 * device that is not in the plan is refused; finalize, verify, and the tuf-js
 * client consumes the result.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cardCli, describeWithVirtualCards, useVirtualCardLab, yubikeyGenerateArgs } from '../helpers/virtual-yubikey';
import { newClient, serveDirectory } from '../helpers/tuf-client';
import { fingerprintOf } from './ceremony-helpers';

const SERIALS = [40000001, 40000002];

describeWithVirtualCards(
  'ceremony with two virtual YubiKeys (root 2-of-2)',
  () => {
    const lab = useVirtualCardLab([
      { serial: SERIALS[0]!, version: '5.7.1', seed: 'ceremony-a' },
      { serial: SERIALS[1]!, version: '5.7.1', seed: 'ceremony-b' },
    ]);
    // the CLI as a keyholder runs it, with the virtual cards' test CA trusted
    const run = cardCli(lab);

    it('each keyholder signs with their YubiKey; the ceremony finalizes into a repository tuf-js accepts', async () => {
      for (const serial of SERIALS) {
        const g = run([
          ...yubikeyGenerateArgs({
            serial,
            scheme: 'ed25519',
            touchPolicy: 'always',
            pinPolicy: 'once',
            publicOut: `${serial}.pub.json`,
            owner: `holder-${serial}`,
          }),
          '--json',
        ]);
        expect(g.status).toBe(0);
      }
      const init = run([
        'init',
        'repo',
        '--root-threshold',
        '2',
        ...SERIALS.flatMap((s) => ['--root-key', `${s}.pub.json`]),
        '--require-attested-root-keys',
        '--attestation-ca',
        lab.caCertFile,
        '--json',
      ]);
      expect(init.status).toBe(0);
      const request = init.json().request.request as string;

      // a device whose key is not in the plan is refused, and nothing is added
      const other = run([
        'key',
        'generate',
        '--backend',
        'yubikey',
        '--serial',
        String(SERIALS[0]),
        '--slot',
        '9a',
        '--scheme',
        'ecdsa-sha2-nistp256',
        '--allow-default-management-key',
        '--public-out',
        'other.pub.json',
        '--json',
      ]);
      expect(other.status).toBe(0);
      const before = readFileSync(request);
      const refused = run([
        'ceremony',
        'sign',
        request,
        '--key',
        `yubikey:serial=${SERIALS[0]};slot=9a`,
        '--fingerprint',
        fingerprintOf(request, lab.dir),
        '--yes',
        '--json',
      ]);
      expect(refused.status).not.toBe(0);
      expect(readFileSync(request)).toEqual(before);

      for (const serial of SERIALS) {
        const s = run([
          'ceremony',
          'sign',
          request,
          '--key',
          `yubikey:serial=${serial};slot=9c`,
          '--fingerprint',
          fingerprintOf(request, lab.dir),
          '--yes',
          '--json',
        ]);
        if (s.status !== 0) throw new Error(`ceremony sign with ${serial} failed: ${s.stdout}${s.stderr}`);
        expect(s.stdout + s.stderr).not.toContain('123456');
      }
      const status = run(['ceremony', 'status', request, '--json']).json();
      expect(status.status.canFinalize).toBe(true);
      const fin = run(['ceremony', 'finalize', request, '-w', 'repo', '--out', 'bundle', '--json']);
      if (fin.status !== 0) throw new Error(`finalize failed: ${fin.stdout}${fin.stderr}`);
      const verify = run(['verify', 'repo', '--json']);
      expect(verify.status).toBe(0);
      const root = JSON.parse(readFileSync(join(lab.dir, 'repo', 'metadata', '1.root.json'), 'utf8'));
      expect(root.signatures).toHaveLength(2);

      // the root-key policy chosen at init stays in force: a later rotation cannot add a key without touch "always"
      expect(
        JSON.parse(readFileSync(join(lab.dir, 'repo', 'tufsign.json'), 'utf8')).root_key_policy
          .require_attested_touch_always,
      ).toBe(true);
      const weak = run(['root', 'rotate', '--add-key', 'other.pub.json', '-w', 'repo', '--json']);
      expect(weak.status).toBe(5);
      expect(weak.json().error.code).toBe('POLICY_VIOLATION');
      expect(existsSync(join(lab.dir, 'repo', 'metadata', '2.root.json'))).toBe(false);

      const server = await serveDirectory(join(lab.dir, 'repo'));
      try {
        const client = newClient(server, join(lab.dir, 'repo', 'metadata', '1.root.json'));
        await client.updater.refresh();
        // the client now trusts the ceremony's root v1 and the signed top-level metadata
        expect(JSON.parse(readFileSync(join(client.metadataDir, 'root.json'), 'utf8')).signed.version).toBe(1);
        expect(existsSync(join(client.metadataDir, 'timestamp.json'))).toBe(true);
      } finally {
        await server.close();
      }
    });
  },
  ['openssl'],
);
