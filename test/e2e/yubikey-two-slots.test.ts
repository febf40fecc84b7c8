/**
 * One keyholder, two keys on one YubiKey (root in 9c, targets in 9d): one `ceremony sign` run signs with both.
 * The device checks stay: the card must have the URI's serial, each slot must hold the key its role expects (no
 * PIN asked otherwise), and every signature is verified against the expected key before it is saved.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cardCli, describeWithVirtualCards, useVirtualCardLab, yubikeyGenerateArgs } from '../helpers/virtual-yubikey';
import { fingerprintOf } from './ceremony-helpers';

const SERIAL = 40000031;
const OTHER = 40000032;

describeWithVirtualCards('one ceremony sign run with two slots of one YubiKey', () => {
  const lab = useVirtualCardLab([
    { serial: SERIAL, version: '5.7.1', seed: 'two-slots-a' },
    { serial: OTHER, version: '5.7.1', seed: 'two-slots-b' },
  ]);
  const run = cardCli(lab);
  const uri = (slot: string, serial = SERIAL): string => `yubikey:serial=${serial};slot=${slot}`;
  let request = '';

  beforeAll(() => {
    for (const slot of ['9c', '9d']) {
      const g = run([...yubikeyGenerateArgs({ serial: SERIAL, slot, publicOut: `${slot}.pub.json` }), '--json']);
      if (g.status !== 0) throw new Error(g.stdout + g.stderr);
    }
    const init = run([
      'init',
      'repo',
      '--root-key',
      '9c.pub.json',
      '--targets-key',
      '9d.pub.json',
      '--attestation-ca',
      lab.caCertFile,
      '--json',
    ]);
    if (init.status !== 0) throw new Error(init.stdout + init.stderr);
    request = init.json().request.request as string;
  });

  const sign = (keys: string[]): ReturnType<typeof run> =>
    run([
      'ceremony',
      'sign',
      request,
      ...keys.flatMap((k) => ['--key', k]),
      '--fingerprint',
      fingerprintOf(request, lab.dir),
      '--yes',
      '--json',
    ]);

  it('a third slot of the same card whose key is not in the plan: refused before any PIN, nothing signed', () => {
    const g = run([...yubikeyGenerateArgs({ serial: SERIAL, slot: '9a', publicOut: '9a.pub.json' }), '--json']);
    expect(g.status).toBe(0);
    const before = readFileSync(request);
    const r = sign([uri('9c'), uri('9a')]);
    expect(r.status).not.toBe(0);
    expect(r.json().error.code).toBe('SIGNATURE_REFUSED');
    expect(readFileSync(request)).toEqual(before);
  });

  it('the other card named for the targets slot: its 9d is empty, refused, nothing signed', () => {
    const before = readFileSync(request);
    const r = sign([uri('9c'), uri('9d', OTHER)]);
    expect(r.status).not.toBe(0);
    expect(r.json().error.code).toBe('KEY_NOT_FOUND');
    expect(readFileSync(request)).toEqual(before);
  });

  it('both slots of the card sign root and targets in one run; the request can be finalized', () => {
    const r = sign([uri('9c'), uri('9d')]);
    if (r.status !== 0) throw new Error(r.stdout + r.stderr);
    expect(
      r
        .json()
        .added.map((a: any) => a.role)
        .sort(),
    ).toEqual(['root', 'targets']);
    expect(r.json().status.canFinalize).toBe(true);
    const fin = run(['ceremony', 'finalize', request, '-w', 'repo', '--bundle-out', 'bundle', '--json']);
    if (fin.status !== 0) throw new Error(fin.stdout + fin.stderr);
    expect(run(['verify', 'repo', '--json']).status).toBe(0);
    const root = JSON.parse(readFileSync(join(lab.dir, 'repo', 'metadata', '1.root.json'), 'utf8'));
    expect(root.signatures).toHaveLength(1);
  });
});
