/**
 * The pure PIV layer and the yubikey backend against the virtual card
 * in-process (no pcscd): APDUs, chaining, status words, PIN safety, management
 * key rules, generation, attestation, firmware gating.
 */
import { constants, createHash, createPublicKey, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import type { Scheme } from '../../src/tuf/key';
import {
  ED25519_MAX_MESSAGE,
  PivSession,
  createYubiKeyBackend,
  parseYubiKeyUri,
  verifyAttestation,
  type DeviceSource,
} from '../../src/keystore/yubikey';
import { emsaPssEncode, publicKeyFromTlv } from '../../src/keystore/yubikey/keys';
import { TufsignError } from '../../src/errors';
import { ALG, DEFAULT_MANAGEMENT_KEY, statusError } from '../../src/keystore/yubikey/piv';
import { PivCard, createTestCa, type TestCa } from '../fixtures/piv/piv-card';
import { caught, errorCode, memorySource, recordingSecrets } from './helpers';
import { parseKeyRefOf } from '../../src/keystore/key-ref';

const MGMT = 'aabbccddeeff00112233445566778899aabbccddeeff0011';
const PIN = '271828';
let ca: TestCa;
let caPem: string;

beforeAll(async () => {
  ca = await createTestCa();
  caPem = ca.cert.toString('pem');
});

/** A card prepared like a production key: PIN, PUK and management key changed. */
function preparedCard(serial: number, version = '5.7.1'): PivCard {
  const card = new PivCard({ serial, version, ca, seed: 'inprocess' });
  card.setPin(PIN, '31415926');
  card.setManagementKey(Buffer.from(MGMT, 'hex'));
  return card;
}

function backendFor(cards: PivCard[]) {
  return createYubiKeyBackend({ source: memorySource(cards), attestationRoots: [caPem] });
}

const opts = (secrets: ReturnType<typeof recordingSecrets>) => ({ secrets, baseDir: '/', env: {} });

async function generate(card: PivCard, scheme: Scheme = 'ecdsa-sha2-nistp256', extra: Record<string, unknown> = {}) {
  const secrets = recordingSecrets([PIN], MGMT);
  const r = await backendFor([card]).generate!(
    { scheme, serial: card.serial, slot: '9c', pinPolicy: 'always', touchPolicy: 'always', ...extra },
    opts(secrets),
  );
  return { ...r, secrets };
}

describe('PIV APDU layer', () => {
  it('selects, reads version and serial, and maps 63CX / 6983 to PIN errors with retries left', async () => {
    const s = new PivSession(new PivCard({ serial: 42, version: '5.4.3' }));
    await s.select();
    expect((await s.getVersion()).toString()).toBe('5.4.3');
    expect(await s.getSerial()).toBe(42);
    expect(await s.pinRetries()).toBe(3);
    const e = statusError(0x63c2, 'x');
    expect(e.code).toBe('PIN_INCORRECT');
    expect(e.details?.['retriesLeft']).toBe(2);
    expect(statusError(0x6983, 'x').code).toBe('PIN_LOCKED');
    expect(statusError(0x63c0, 'x').code).toBe('PIN_LOCKED');
  });

  it('reads the serial of firmware 4.3 through the OTP application', async () => {
    const s = new PivSession(new PivCard({ serial: 4300001, version: '4.3.7' }));
    await s.select();
    await s.getVersion();
    expect(await s.getSerial()).toBe(4300001);
  });

  it('chains long commands (CLA 10) and collects long answers with GET RESPONSE', async () => {
    const card = new PivCard({ serial: 1, version: '5.7.1', ca });
    const s = new PivSession(card);
    await s.select();
    await s.authenticate(DEFAULT_MANAGEMENT_KEY);
    await s.generate(0x9a, ALG.ED25519, 'once', 'never');
    await s.verifyPin(Buffer.from('123456'));
    card.log.length = 0;
    await s.sign(0x9a, ALG.ED25519, Buffer.alloc(1000, 7));
    expect(card.log.filter((a) => a[0] === 0x10).length).toBe(3);
    card.log.length = 0;
    const cert = await s.attest(0x9a);
    expect(cert[0]).toBe(0x30);
    expect(card.log.some((a) => a[1] === 0xc0)).toBe(true);
  });

  it('rejects a wrong management key with MANAGEMENT_KEY_INCORRECT and spends nothing', async () => {
    const s = new PivSession(new PivCard({ serial: 1 }));
    await s.select();
    expect(await errorCode(s.authenticate(Buffer.from(MGMT, 'hex')))).toBe('MANAGEMENT_KEY_INCORRECT');
    await s.authenticate(DEFAULT_MANAGEMENT_KEY);
  });

  it('EMSA-PSS encoding on the host + raw RSA on the card verifies as RSA-PSS (salt 32)', async () => {
    const card = new PivCard({ serial: 1, version: '5.4.3' });
    const s = new PivSession(card);
    await s.select();
    await s.authenticate(DEFAULT_MANAGEMENT_KEY);
    const pub = await s.generate(0x9d, ALG.RSA2048, 'once', 'never');
    await s.verifyPin(Buffer.from('123456'));
    const msg = Buffer.from('tuf metadata');
    const sig = await s.sign(0x9d, ALG.RSA2048, emsaPssEncode(msg, 2048));
    const ko = publicKeyFromTlv(ALG.RSA2048, pub);
    expect(
      cryptoVerify('sha256', msg, { key: ko, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig),
    ).toBe(true);
  });
});

describe('yubikey backend (in-process virtual card)', () => {
  it('parses key URIs', () => {
    expect(parseYubiKeyUri('yubikey:serial=12345678;slot=9c')).toEqual({ serial: 12345678, slot: 0x9c });
    expect(parseYubiKeyUri('yubikey:slot=9a')).toEqual({ serial: undefined, slot: 0x9a });
    for (const bad of [
      'yubikey:serial=1',
      'yubikey:serial=x;slot=9c',
      'yubikey:serial=1;slot=f9',
      'yubikey:serial=1;slot=9c;pin=123456',
    ]) {
      expect(() => parseYubiKeyUri(bad)).toThrow(expect.objectContaining({ code: 'KEY_URI_INVALID' }));
    }
  });

  it('generates on the device with policies, attests, and signs TUF bytes (ECDSA P-256, DER)', async () => {
    const card = preparedCard(11111111);
    const g = await generate(card);
    expect(g.uri).toBe('yubikey:serial=11111111;slot=9c');
    expect(g.publicKey.scheme).toBe('ecdsa-sha2-nistp256');
    expect(g.attestation?.['serial']).toBe(11111111);
    expect(g.attestation?.['touchPolicy']).toBe('always');
    expect(g.attestation?.['pinPolicy']).toBe('always');
    expect(g.secrets.asked.map((a) => a.kind)).toEqual(['management-key']);
    const facts = await verifyAttestation({
      keyCert: g.attestation!['keyCert'] as string,
      deviceCert: g.attestation!['deviceCert'] as string,
      roots: [caPem],
      publicKey: g.publicKey,
    });
    expect(facts.firmware).toBe('5.7.1');
    // Yubico's roots alone do not trust the test CA
    expect(
      await errorCode(
        verifyAttestation({
          keyCert: g.attestation!['keyCert'] as string,
          deviceCert: g.attestation!['deviceCert'] as string,
        }),
      ),
    ).toBe('ATTESTATION_UNTRUSTED');

    const secrets = recordingSecrets([PIN, PIN]);
    const signer = await backendFor([card]).open(parseKeyRefOf('yubikey', g.uri), {
      ...opts(secrets),
      expectedKey: g.publicKey,
    });
    const data = Buffer.from('{"signed":{"_type":"root"}}');
    const sig = await signer.sign(data);
    expect(sig.keyid).toBe(g.publicKey.keyid());
    expect(sig.signature[0]).toBe(0x30);
    expect(g.publicKey.verify(sig.signature, data)).toBe(true);
    expect(secrets.asked).toEqual([{ kind: 'pin', label: 'YubiKey 11111111', retriesLeft: 3 }]);
    expect(secrets.notes.some((n) => /touch/i.test(n))).toBe(true);
    // PIN policy always: asked again for the second signature
    await signer.sign(data);
    expect(secrets.asked.filter((a) => a.kind === 'pin')).toHaveLength(2);
    await signer.close?.();
  });

  it('wrong PIN: PIN_INCORRECT with retries left, counter decremented, never retried; then blocked', async () => {
    const card = preparedCard(22222222);
    const g = await generate(card);
    const backend = backendFor([card]);
    for (const left of [2, 1]) {
      const secrets = recordingSecrets(['000000', PIN]);
      const signer = await backend.open(parseKeyRefOf('yubikey', g.uri), {
        ...opts(secrets),
        expectedKey: g.publicKey,
      });
      const e = await caught(signer.sign(Buffer.from('x')));
      expect(e.code).toBe('PIN_INCORRECT');
      expect(e.details?.['retriesLeft']).toBe(left);
      expect(secrets.asked.filter((a) => a.kind === 'pin')).toHaveLength(1);
      expect(card.pinRetries).toBe(left);
      if (left === 1) expect(secrets.notes).toEqual([]);
      await signer.close?.();
    }
    // last try: the handler is told retriesLeft 1 and a warning is sent
    const last = recordingSecrets(['000000']);
    const s3 = await backend.open(parseKeyRefOf('yubikey', g.uri), { ...opts(last), expectedKey: g.publicKey });
    expect((await caught(s3.sign(Buffer.from('x')))).code).toBe('PIN_LOCKED');
    expect(last.asked[0]?.retriesLeft).toBe(1);
    expect(last.notes.some((n) => /last/i.test(n))).toBe(true);
    // blocked: refused when the device is checked (before any signature of the run), without asking
    const after = recordingSecrets([PIN]);
    expect(
      (await caught(backend.open(parseKeyRefOf('yubikey', g.uri), { ...opts(after), expectedKey: g.publicKey }))).code,
    ).toBe('PIN_LOCKED');
    expect(after.asked).toEqual([]);
    expect(card.pinRetries).toBe(0);
  });

  it('wrong device (BAD-57): WRONG_DEVICE naming the serial, before any PIN; wrong key: KEY_MISMATCH', async () => {
    const a = preparedCard(33333333);
    const b = preparedCard(44444444);
    const ga = await generate(a);
    const gb = await generate(b);
    const secrets = recordingSecrets([PIN]);
    const e = await caught(
      backendFor([b]).open(parseKeyRefOf('yubikey', ga.uri), { ...opts(secrets), expectedKey: ga.publicKey }),
    );
    expect(e.code).toBe('WRONG_DEVICE');
    expect(e.details?.['needed']).toBe(33333333);
    expect(e.message).toContain('33333333');
    expect(secrets.asked).toEqual([]);
    expect(b.pinRetries).toBe(3);
    // right serial, but the role expects another key
    expect(
      await errorCode(
        backendFor([a]).open(parseKeyRefOf('yubikey', ga.uri), { ...opts(secrets), expectedKey: gb.publicKey }),
      ),
    ).toBe('KEY_MISMATCH');
    expect(secrets.asked).toEqual([]);
    // two devices, no serial: never guess, unless the expected key picks one
    const noSerial = 'yubikey:slot=9c';
    expect(await errorCode(backendFor([a, b]).open(parseKeyRefOf('yubikey', noSerial), opts(secrets)))).toBe(
      'TOKEN_AMBIGUOUS',
    );
    const picked = await backendFor([a, b]).open(parseKeyRefOf('yubikey', noSerial), {
      ...opts(secrets),
      expectedKey: gb.publicKey,
    });
    expect(picked.publicKey.keyid()).toBe(gb.publicKey.keyid());
    await picked.close?.();
  });

  it('refuses the factory-default management key (and PIN) unless allowed, before asking anything', async () => {
    const card = new PivCard({ serial: 55555555, ca });
    const secrets = recordingSecrets([], MGMT);
    const backend = backendFor([card]);
    card.setPin(PIN);
    expect(await errorCode(backend.generate!({ scheme: 'ecdsa-sha2-nistp256', slot: '9c' }, opts(secrets)))).toBe(
      'MANAGEMENT_KEY_DEFAULT',
    );
    card.setPin('123456');
    card.setManagementKey(Buffer.from(MGMT, 'hex'));
    expect(await errorCode(backend.generate!({ scheme: 'ecdsa-sha2-nistp256', slot: '9c' }, opts(secrets)))).toBe(
      'PIN_DEFAULT',
    );
    expect(secrets.asked).toEqual([]);
    card.setManagementKey(DEFAULT_MANAGEMENT_KEY);
    const ok = await backend.generate!(
      { scheme: 'ecdsa-sha2-nistp256', slot: '9a', allowDefaultManagementKey: true },
      opts(secrets),
    );
    expect(ok.uri).toBe('yubikey:serial=55555555;slot=9a');
    expect(secrets.asked).toEqual([]);
  });

  it('uses the PIN-protected management key, and reports a wrong management key', async () => {
    const card = preparedCard(66666666);
    card.protectManagementKey(Buffer.from(MGMT, 'hex'));
    const secrets = recordingSecrets([PIN]);
    await backendFor([card]).generate!({ scheme: 'ecdsa-sha2-nistp256', slot: '9c' }, opts(secrets));
    expect(secrets.asked.map((a) => a.kind)).toEqual(['pin']);
    const other = preparedCard(66666667);
    expect(
      await errorCode(
        backendFor([other]).generate!(
          { scheme: 'ecdsa-sha2-nistp256', slot: '9c' },
          opts(recordingSecrets([], '00'.repeat(24))),
        ),
      ),
    ).toBe('MANAGEMENT_KEY_INCORRECT');
    expect(
      await errorCode(
        backendFor([other]).generate!(
          { scheme: 'ecdsa-sha2-nistp256', slot: '9c' },
          opts(recordingSecrets([], 'not hex')),
        ),
      ),
    ).toBe('MANAGEMENT_KEY_INCORRECT');
  });

  it('never overwrites a key: SLOT_IN_USE', async () => {
    const card = preparedCard(77777777);
    await generate(card);
    expect(await errorCode(generate(card))).toBe('SLOT_IN_USE');
  });

  it('Ed25519 needs firmware 5.7: FIRMWARE_UNSUPPORTED names the firmware, before the management key is asked', async () => {
    for (const version of ['4.3.7', '5.4.3']) {
      const card = preparedCard(88888888, version);
      const secrets = recordingSecrets([], MGMT);
      const e = await caught(backendFor([card]).generate!({ scheme: 'ed25519', slot: '9c' }, opts(secrets)));
      expect(e.code).toBe('FIRMWARE_UNSUPPORTED');
      expect(e.message).toContain(version);
      expect(secrets.asked).toEqual([]);
    }
  });

  it('Ed25519 on 5.7 signs the whole message; larger than the measured limit is MESSAGE_TOO_LARGE', async () => {
    const card = preparedCard(99999999, '5.7.1');
    const g = await generate(card, 'ed25519', { pinPolicy: 'once', touchPolicy: 'never' });
    expect(g.publicKey.scheme).toBe('ed25519');
    const signer = await backendFor([card]).open(parseKeyRefOf('yubikey', g.uri), {
      ...opts(recordingSecrets([PIN])),
      expectedKey: g.publicKey,
    });
    const big = Buffer.alloc(ED25519_MAX_MESSAGE, 0x41);
    const sig = await signer.sign(big);
    expect(g.publicKey.verify(sig.signature, big)).toBe(true);
    expect(await errorCode(signer.sign(Buffer.alloc(ED25519_MAX_MESSAGE + 1, 0x41)))).toBe('MESSAGE_TOO_LARGE');
    await signer.close?.();

    // Measure what the virtual card accepts (it models a 3072-byte command buffer).
    const s = new PivSession(card);
    await s.select();
    await s.verifyPin(Buffer.from(PIN));
    let lo = 0;
    let hi = 8192;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const ok = await s.sign(0x9c, ALG.ED25519, Buffer.alloc(mid)).then(
        () => true,
        () => false,
      );
      if (ok) lo = mid;
      else hi = mid - 1;
    }
    expect(lo).toBe(3062);
    expect(ED25519_MAX_MESSAGE).toBeLessThanOrEqual(lo);
  });

  it('RSA-PSS keys (RSA 2048 on 5.4) sign with host-side EMSA-PSS, salt 32', async () => {
    const card = preparedCard(10101010, '5.4.3');
    const g = await generate(card, 'rsassa-pss-sha256', { pinPolicy: 'once', touchPolicy: 'never' });
    const signer = await backendFor([card]).open(parseKeyRefOf('yubikey', g.uri), {
      ...opts(recordingSecrets([PIN])),
      expectedKey: g.publicKey,
    });
    const data = Buffer.from('targets');
    const sig = await signer.sign(data);
    expect(sig.signature).toHaveLength(256);
    expect(
      cryptoVerify(
        'sha256',
        data,
        { key: g.publicKey.keyObject(), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        sig.signature,
      ),
    ).toBe(true);
    await signer.close?.();
  });

  it('firmware 4.3 (no metadata): reads the key through its attestation and signs', async () => {
    const card = preparedCard(43434343, '4.3.7');
    const g = await generate(card);
    expect(g.attestation?.['firmware']).toBe('4.3.7');
    const secrets = recordingSecrets([PIN]);
    const signer = await backendFor([card]).open(parseKeyRefOf('yubikey', g.uri), {
      ...opts(secrets),
      expectedKey: g.publicKey,
    });
    expect(g.publicKey.verify((await signer.sign(Buffer.from('m'))).signature, Buffer.from('m'))).toBe(true);
    await signer.close?.();
  });

  it('touch not given: TOUCH_TIMEOUT, nothing signed', async () => {
    const card = preparedCard(12121212);
    const g = await generate(card);
    card.touch = 'timeout';
    const secrets = recordingSecrets([PIN]);
    const signer = await backendFor([card]).open(parseKeyRefOf('yubikey', g.uri), {
      ...opts(secrets),
      expectedKey: g.publicKey,
    });
    expect(await errorCode(signer.sign(Buffer.from('x')))).toBe('TOUCH_TIMEOUT');
    expect(secrets.notes.some((n) => /touch/i.test(n))).toBe(true);
    await signer.close?.();
  });

  it('an imported key is not attested: readPublicKey gives no attestation, ATTEST is ATTESTATION_INVALID', async () => {
    const card = preparedCard(13131313);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    card.importKey(0x9c, privateKey);
    const r = await backendFor([card]).readPublicKey(
      parseKeyRefOf('yubikey', 'yubikey:serial=13131313;slot=9c'),
      opts(recordingSecrets()),
    );
    expect(r.attestation).toBeUndefined();
    expect(r.publicKey.samePublicKey(r.publicKey)).toBe(true);
    expect(
      createPublicKey(privateKey)
        .export({ format: 'der', type: 'spki' })
        .equals(r.publicKey.keyObject().export({ format: 'der', type: 'spki' })),
    ).toBe(true);
    const s = new PivSession(card);
    await s.select();
    expect(await errorCode(s.attest(0x9c))).toBe('ATTESTATION_INVALID');
  });

  it('IMPORT ASYMMETRIC KEY (INS FE, as ykman sends it): P-256, Ed25519 and RSA 2048 keys land as imported keys; the P-256 one signs', async () => {
    const tlv = (tag: number, v: Buffer): Buffer =>
      Buffer.concat([Buffer.from([tag, 0x82, v.length >> 8, v.length & 0xff]), v]);
    const part = (jwk: Record<string, unknown>, k: string): Buffer => Buffer.from(String(jwk[k]), 'base64url');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const ed = generateKeyPairSync('ed25519').privateKey;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const ej = ec.export({ format: 'jwk' }) as Record<string, unknown>;
    const dj = ed.export({ format: 'jwk' }) as Record<string, unknown>;
    const rj = rsa.export({ format: 'jwk' }) as Record<string, unknown>;
    const cases = [
      { slot: 0x9c, alg: ALG.ECCP256, key: ec, data: tlv(0x06, part(ej, 'd')) },
      { slot: 0x9d, alg: ALG.ED25519, key: ed, data: tlv(0x07, part(dj, 'd')) },
      {
        slot: 0x9a,
        alg: ALG.RSA2048,
        key: rsa,
        data: Buffer.concat(['p', 'q', 'dp', 'dq', 'qi'].map((k, i) => tlv(i + 1, part(rj, k)))),
      },
    ];
    const card = preparedCard(14141414);
    const s = new PivSession(card);
    await s.select();
    expect((await s.send(0xfe, ALG.ECCP256, 0x9c, cases[0]!.data)).sw).toBe(0x6982); // management key first
    await s.authenticate(Buffer.from(MGMT, 'hex'));
    expect((await s.send(0xfe, ALG.ECCP256, 0x9c, tlv(0x06, Buffer.alloc(32, 0xff)))).sw).toBe(0x6a80); // d >= n
    expect((await s.send(0xfe, ALG.RSA2048, 0x9a, cases[1]!.data)).sw).toBe(0x6a80); // not an RSA key
    for (const c of cases) {
      await s.select(); // reading the key through the backend below is a new session
      await s.authenticate(Buffer.from(MGMT, 'hex'));
      const policies = Buffer.from([0xaa, 1, 1, 0xab, 1, 1]); // PIN never, touch never
      expect((await s.send(0xfe, c.alg, c.slot, Buffer.concat([c.data, policies]))).sw).toBe(0x9000);
      const meta = await s.metadata(c.slot);
      expect(meta).toMatchObject({ origin: 'imported' });
      const spki = (k: typeof ec) => createPublicKey(k).export({ format: 'der', type: 'spki' });
      const onCard = await backendFor([card]).readPublicKey(
        parseKeyRefOf('yubikey', `yubikey:serial=14141414;slot=${c.slot.toString(16)}`),
        opts(recordingSecrets()),
      );
      expect(onCard.publicKey.keyObject().export({ format: 'der', type: 'spki' })).toEqual(spki(c.key));
      expect(await errorCode(s.attest(c.slot))).toBe('ATTESTATION_INVALID');
    }
    const message = Buffer.from('signed by the imported key');
    const sig = await s.sign(0x9c, ALG.ECCP256, createHash('sha256').update(message).digest());
    expect(cryptoVerify('sha256', message, { key: createPublicKey(ec), dsaEncoding: 'der' }, sig)).toBe(true);
  });

  it('lists devices: serial, firmware, form factor, slots with policies and origin, retries, defaults', async () => {
    const card = preparedCard(14141414);
    await generate(card);
    const fresh = new PivCard({ serial: 15151515, version: '5.4.3', ca });
    const report = await backendFor([card, fresh]).listDevices!(opts(recordingSecrets()));
    expect(report.available).toBe(true);
    const [d1, d2] = report.devices;
    expect(d1).toMatchObject({
      serial: 14141414,
      firmware: '5.7.1',
      formFactor: 'usb-c-keychain',
      pinRetries: 3,
      pukRetries: 3,
      defaultPin: false,
      defaultManagementKey: false,
    });
    expect(d1?.['slots']).toEqual([
      {
        slot: '9c',
        algorithm: 'ECCP256',
        scheme: 'ecdsa-sha2-nistp256',
        pinPolicy: 'always',
        touchPolicy: 'always',
        origin: 'generated',
      },
    ]);
    expect(d2).toMatchObject({
      serial: 15151515,
      defaultPin: true,
      defaultPuk: true,
      defaultManagementKey: true,
      slots: [],
    });
  });

  it('no YubiKey at all: TOKEN_NOT_PRESENT; a broken source reports its problem in listDevices', async () => {
    expect(
      await errorCode(
        backendFor([]).open(parseKeyRefOf('yubikey', 'yubikey:serial=1;slot=9c'), opts(recordingSecrets())),
      ),
    ).toBe('TOKEN_NOT_PRESENT');
    const failing = (): DeviceSource => {
      throw new TufsignError('PCSCD_NOT_RUNNING', 'pcscd is not running', { suggestion: 'start it' });
    };
    const report = await createYubiKeyBackend({ source: failing }).listDevices!(opts(recordingSecrets()));
    expect(report.available).toBe(false);
    expect(report.problems[0]?.suggestion).toBe('start it');
  });
});

describe('two slots of one card in one run (one exclusive connection per card, as PC/SC gives)', () => {
  /** Like pcscSource: a card another connection holds cannot be connected again and is not listed. */
  function exclusiveSource(cards: PivCard[]): { source: () => DeviceSource; held: Set<PivCard> } {
    const held = new Set<PivCard>();
    const source = (): DeviceSource => {
      const mine: PivCard[] = [];
      return {
        cards: () =>
          Promise.resolve(
            cards
              .filter((c) => !held.has(c))
              .map((card, i) => {
                held.add(card);
                mine.push(card);
                card.resetSession();
                return {
                  label: `exclusive ${i}`,
                  transport: card,
                  release: () => Promise.resolve(void held.delete(card)),
                };
              }),
          ),
        close: () => Promise.resolve(mine.forEach((c) => held.delete(c))),
      };
    };
    return { source, held };
  }

  it('9c and 9d of one card both sign; a wrong key in the second slot is KEY_MISMATCH before any PIN', async () => {
    const a = preparedCard(55555555);
    const b = preparedCard(66666666);
    const g9c = await generate(a);
    const g9d = await generate(a, 'ecdsa-sha2-nistp256', { slot: '9d', pinPolicy: 'once' });
    const gb = await generate(b);
    const { source, held } = exclusiveSource([a, b]);
    const backend = createYubiKeyBackend({ source, attestationRoots: [caPem] });
    const secrets = recordingSecrets([PIN, PIN, PIN]);
    const open = (uri: string, expectedKey: typeof g9c.publicKey) =>
      backend.open(parseKeyRefOf('yubikey', uri), { ...opts(secrets), expectedKey });
    const first = await open(g9c.uri, g9c.publicKey);
    expect(held.has(a)).toBe(true);
    // the held card: its second slot is still checked against the key the role expects, and no PIN is asked
    expect(await errorCode(open(g9d.uri, gb.publicKey))).toBe('KEY_MISMATCH');
    // a serial that is not the held card's is not confused with it
    expect(await errorCode(open(g9d.uri.replace('55555555', '77777777'), g9d.publicKey))).toBe('WRONG_DEVICE');
    expect(secrets.asked).toEqual([]);
    const second = await open(g9d.uri, g9d.publicKey);
    const data = Buffer.from('{"signed":{"_type":"targets"}}');
    for (const [signer, key] of [
      [first, g9c.publicKey],
      [second, g9d.publicKey],
    ] as const)
      expect(key.verify((await signer.sign(data)).signature, data)).toBe(true);
    await first.close?.();
    expect(held.has(a)).toBe(true); // the second signer still uses it
    await second.close?.();
    expect(held.has(a)).toBe(false);
  });
});
