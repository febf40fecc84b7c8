/**
 * Attestation enforced at every signing (#11, ADR 0004): under the root-key policy the YubiKey backend
 * re-attests the slot at every connection, before any PIN is asked — same serial, same key, policy still
 * met — and a locked PIN is found before anything is spent. The virtual card in-process (no pcscd).
 */
import { generateKeyPairSync } from 'node:crypto';
import { createYubiKeyBackend } from '../../src/keystore/yubikey';
import { ROOT_KEY_POLICY } from '../../src/keystore/yubikey/claims';
import { keyFromPublicKeyObject } from '../../src/tuf/key';
import { PivCard, createTestCa, type TestCa } from '../fixtures/piv/piv-card';
import { caught, memorySource, recordingSecrets } from './helpers';
import { parseKeyRefOf } from '../../src/keystore/key-ref';

const MGMT = 'aabbccddeeff00112233445566778899aabbccddeeff0011';
const PIN = '271828';
let ca: TestCa;
let caPem: string;

beforeAll(async () => {
  ca = await createTestCa();
  caPem = ca.cert.toString('pem');
});

function card(serial: number): PivCard {
  const c = new PivCard({ serial, version: '5.7.1', ca, seed: 'reattest' });
  c.setPin(PIN, '31415926');
  c.setManagementKey(Buffer.from(MGMT, 'hex'));
  return c;
}

const backend = (cards: PivCard[], roots: string[] = [caPem]) =>
  createYubiKeyBackend({ source: memorySource(cards), attestationRoots: roots });

async function generate(c: PivCard, touchPolicy: 'always' | 'never' = 'always') {
  return backend([c]).generate!(
    { scheme: 'ecdsa-sha2-nistp256', serial: c.serial, slot: '9c', pinPolicy: 'once', touchPolicy },
    { secrets: recordingSecrets([PIN], MGMT), baseDir: '/', env: {} },
  );
}

/** The root-key policy's rules; the trust anchors come from the backend (Yubico's plus the test CA). */
const policy = ROOT_KEY_POLICY;

describe('re-attestation at signing, before any PIN', () => {
  it('an attested touch-always key signs; the device attested it at the connection', async () => {
    const c = card(31000001);
    const g = await generate(c);
    const secrets = recordingSecrets([PIN]);
    const signer = await backend([c]).open(parseKeyRefOf('yubikey', g.uri), {
      secrets,
      baseDir: '/',
      env: {},
      expectedKey: g.publicKey,
      attestationPolicy: { policy, attestedSerial: c.serial },
    });
    const attests = c.log.filter((apdu) => apdu[1] === 0xf9).length;
    expect(attests).toBeGreaterThanOrEqual(1);
    expect(secrets.asked).toEqual([]);
    const data = Buffer.from('root bytes');
    expect(g.publicKey.verify((await signer.sign(data)).signature, data)).toBe(true);
    await signer.close?.();
  });

  it('a key that no longer meets the policy (touch never) is refused with no PIN asked and no try spent', async () => {
    const c = card(31000002);
    const g = await generate(c, 'never');
    const secrets = recordingSecrets([PIN]);
    const e = await caught(
      backend([c]).open(parseKeyRefOf('yubikey', g.uri), {
        secrets,
        baseDir: '/',
        env: {},
        expectedKey: g.publicKey,
        attestationPolicy: { policy },
      }),
    );
    expect(e.code).toBe('POLICY_VIOLATION');
    expect(secrets.asked).toEqual([]);
    expect(c.pinRetries).toBe(3);
  });

  it('an imported key under the expected public key cannot attest: refused before the PIN', async () => {
    const c = card(31000003);
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    c.importKey(0x9c, pair.privateKey, 2, 2);
    const key = keyFromPublicKeyObject(pair.publicKey, 'ecdsa-sha2-nistp256');
    const secrets = recordingSecrets(['000000']);
    const e = await caught(
      backend([c]).open(parseKeyRefOf('yubikey', 'yubikey:serial=31000003;slot=9c'), {
        secrets,
        baseDir: '/',
        env: {},
        expectedKey: key,
        attestationPolicy: { policy },
      }),
    );
    expect(e.code).toBe('POLICY_VIOLATION');
    expect(secrets.asked).toEqual([]);
    expect(c.pinRetries).toBe(3);
  });

  it('a chain under a CA not trusted now, or another enrolled serial, is refused before the PIN', async () => {
    const c = card(31000004);
    const g = await generate(c);
    const secrets = recordingSecrets([PIN]);
    const untrusted = await caught(
      backend([c], []).open(parseKeyRefOf('yubikey', g.uri), {
        secrets,
        baseDir: '/',
        env: {},
        expectedKey: g.publicKey,
        attestationPolicy: { policy },
      }),
    );
    expect(untrusted.code).toBe('ATTESTATION_UNTRUSTED');
    const otherSerial = await caught(
      backend([c]).open(parseKeyRefOf('yubikey', g.uri), {
        secrets,
        baseDir: '/',
        env: {},
        expectedKey: g.publicKey,
        attestationPolicy: { policy, attestedSerial: 31000099 },
      }),
    );
    expect(otherSerial.code).toBe('POLICY_VIOLATION');
    expect(secrets.asked).toEqual([]);
    expect(c.pinRetries).toBe(3);
  });

  it('a blocked PIN is found when the device is checked, before any signature of the run', async () => {
    const c = card(31000005);
    const g = await generate(c);
    const b = backend([c]);
    for (let i = 0; i < 3; i++) {
      const s = await b.open(parseKeyRefOf('yubikey', g.uri), {
        secrets: recordingSecrets(['000000']),
        baseDir: '/',
        env: {},
        expectedKey: g.publicKey,
      });
      await caught(s.sign(Buffer.from('x')));
      await s.close?.();
    }
    expect(c.pinRetries).toBe(0);
    const secrets = recordingSecrets([PIN]);
    const e = await caught(
      b.open(parseKeyRefOf('yubikey', g.uri), { secrets, baseDir: '/', env: {}, expectedKey: g.publicKey }),
    );
    expect(e.code).toBe('PIN_LOCKED');
    expect(secrets.asked).toEqual([]);
  });
});
