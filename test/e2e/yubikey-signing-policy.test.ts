/**
 * The root-key policy at every signing, and the device pre-flight, through the built CLI with two virtual
 * YubiKeys (#11, ADR 0004). Every signing run here is given a WRONG PIN: had tufsign asked a card for its PIN
 * before refusing, that card's retry counter would drop from 3 — so an unchanged counter proves no PIN try
 * was spent. Needs `npm run build` first.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cardCli, describeWithVirtualCards, useVirtualCardLab, yubikeyGenerateArgs } from '../helpers/virtual-yubikey';

const A = 21000001;
const B = 21000002;
const WRONG_PIN = '000000';

describeWithVirtualCards(
  'root-key policy at signing and device pre-flight (two virtual YubiKeys)',
  () => {
    const lab = useVirtualCardLab([
      { serial: A, seed: 'policy-a' },
      { serial: B, seed: 'policy-b' },
    ]);
    const run = cardCli(lab);
    const generate = (serial: number, slot: string) => {
      const r = run([...yubikeyGenerateArgs({ serial, slot, pinPolicy: 'once', touchPolicy: 'always' }), '--json']);
      if (r.status !== 0) throw new Error(`key generate failed: ${r.stdout}${r.stderr}`);
    };
    const pinRetries = (serial: number): number | undefined => {
      const j = run(['devices', '--json']).json() as {
        backends: { backend: string; devices: { serial: number; pinRetries?: number }[] }[];
      };
      return j.backends.find((b) => b.backend === 'yubikey')?.devices.find((d) => d.serial === serial)?.pinRetries;
    };
    const rootVersions = (ws: string): number =>
      readdirSync(join(lab.dir, ws, 'metadata')).filter((f) => /^\d+\.root\.json$/.test(f)).length;
    const init = (ws: string, keys: string[]) => {
      const r = run([
        'init',
        ws,
        '--scheme',
        'ecdsa-sha2-nistp256',
        '--root-threshold',
        String(keys.length),
        ...keys.flatMap((k) => ['--root-key', k]),
        '--require-attested-root-keys',
        '--attestation-ca',
        lab.caCertFile,
        '--yes',
        '--json',
      ]);
      if (r.status !== 0) throw new Error(`init failed: ${r.stdout}${r.stderr}`);
    };

    beforeAll(() => {
      generate(A, '9c');
      generate(A, '9a');
      generate(B, '9c');
      init('one', [`yubikey:serial=${A};slot=9c`]);
      init('two', [`yubikey:serial=${A};slot=9a`, `yubikey:serial=${B};slot=9c`]);
    }, 120_000);

    it('both attested YubiKeys present: the root re-signs under the policy (each slot re-attested)', () => {
      const r = run(['sign', 'root', '--bump', '-w', 'two', '--json']);
      if (r.status !== 0) throw new Error(`sign failed: ${r.stdout}${r.stderr}`);
      expect(rootVersions('two')).toBe(2);
      // the signal the pre-flight test relies on: a real signing asks for the touch on stderr
      expect(r.stderr).toMatch(/touch your yubikey/i);
    });

    it('a card whose slot key was replaced after init is refused before the PIN (retry counter unchanged)', () => {
      // someone regenerates slot 9c of card A (factory management key): the enrolled, attested key is gone
      const piv = spawnSync(
        'yubico-piv-tool',
        ['-r', lab.readerName(0), '-a', 'generate', '-s', '9c', '-A', 'ECCP256'],
        {
          encoding: 'utf8',
        },
      );
      expect(piv.status).toBe(0);
      expect(pinRetries(A)).toBe(3);
      const r = run(['sign', 'root', '--bump', '-w', 'one', '--json'], { TUFSIGN_PIN: WRONG_PIN });
      expect(r.status).toBe(5);
      expect(r.json().error.code).toBe('KEY_MISMATCH');
      expect(r.stderr).not.toMatch(/touch your yubikey/i);
      expect(pinRetries(A)).toBe(3);
      expect(rootVersions('one')).toBe(1);
    });

    it('two YubiKeys needed, one absent: sign root --bump names it, costs no PIN try and asks no touch', async () => {
      // Remove the card whose key root lists LAST: signing in keyid order would reach the present card first
      // and ask for its PIN and touch before finding the other missing, unless every device is checked first.
      const root = JSON.parse(readFileSync(join(lab.dir, 'two', 'metadata', 'root.json'), 'utf8')) as {
        signed: { roles: { root: { keyids: string[] } } };
      };
      const config = JSON.parse(readFileSync(join(lab.dir, 'two', 'tufsign.json'), 'utf8')) as {
        keys: Record<string, { uri?: string }>;
      };
      const serialOf = (keyid: string): number => Number(/serial=(\d+)/.exec(config.keys[keyid]?.uri ?? '')?.[1]);
      const [first, last] = root.signed.roles.root.keyids.map(serialOf);
      expect(new Set([first, last])).toEqual(new Set([A, B]));
      const present = first as number;
      const absent = last as number;
      await lab.card(absent === A ? 0 : 1).remove();
      expect(pinRetries(present)).toBe(3);
      const r = run(['sign', 'root', '--bump', '-w', 'two', '--json'], { TUFSIGN_PIN: WRONG_PIN });
      expect(r.status).toBe(6);
      expect(r.json().error.code).toBe('TOKEN_NOT_PRESENT');
      expect(r.json().error.message).toContain(String(absent));
      expect(r.stderr).not.toMatch(/touch your yubikey/i);
      expect(pinRetries(present)).toBe(3);
      expect(rootVersions('two')).toBe(2);
    });
  },
  ['yubico-piv-tool'],
);
