/** RFC 7512 URI parsing and the DER conversions, without a token. */
import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import fc from 'fast-check';
import { isTufsignError, type ErrorCode } from '../../src/errors';
import { curveOfParams, ecdsaRawToDer, unwrapEcPoint } from '../../src/keystore/pkcs11/encoding';
import { formatPkcs11Uri, parsePkcs11Uri } from '../../src/keystore/pkcs11/uri';

function codeOf(f: () => unknown): ErrorCode | 'ok' | 'other' {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isTufsignError(e) ? e.code : 'other';
  }
}

describe('pkcs11: URI parsing', () => {
  test('path and query attributes, percent-decoded', () => {
    const u = parsePkcs11Uri(
      'pkcs11:token=My%20HSM;manufacturer=SoftHSM%20project;serial=abc123;object=root-1;id=%02%a0;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin',
    );
    expect(u).toMatchObject({
      token: 'My HSM',
      manufacturer: 'SoftHSM project',
      serial: 'abc123',
      object: 'root-1',
      type: 'private',
      modulePath: '/usr/lib/softhsm/libsofthsm2.so',
      pinSource: 'file:/run/pin',
    });
    expect(u.id).toEqual(Buffer.from([0x02, 0xa0]));
  });

  test('UTF-8 labels and slot-id', () => {
    expect(parsePkcs11Uri('pkcs11:token=J%C3%BCrgen;slot-id=3')).toMatchObject({ token: 'Jürgen', 'slot-id': 3 });
  });

  test('an empty URI is valid (matches every token)', () => {
    expect(parsePkcs11Uri('pkcs11:')).toEqual({});
  });

  test.each([
    ['pkcs11:token=a;token=b', 'KEY_URI_INVALID'],
    ['pkcs11:tokn=a', 'KEY_URI_INVALID'],
    ['pkcs11:token=a;;object=b', 'KEY_URI_INVALID'],
    ['pkcs11:token', 'KEY_URI_INVALID'],
    ['pkcs11:id=%zz', 'KEY_URI_INVALID'],
    ['pkcs11:id=', 'KEY_URI_INVALID'],
    ['pkcs11:token=%ff', 'KEY_URI_INVALID'],
    ['pkcs11:type=cert', 'KEY_URI_INVALID'],
    ['pkcs11:slot-id=x', 'KEY_URI_INVALID'],
    ['pkcs11:token=a?modul-path=/x', 'KEY_URI_INVALID'],
    ['pkcs11:token=a#frag', 'KEY_URI_INVALID'],
    ['file:keys/a.pem', 'KEY_URI_INVALID'],
    ['pkcs11:token=a?pin-value=1234', 'SECRET_IN_ARGV'],
    ['pkcs11:token=a?module-path=/x&PIN-VALUE=1234', 'SECRET_IN_ARGV'],
    ['pkcs11:token=a;pin-value=1234', 'SECRET_IN_ARGV'],
  ])('%s → %s', (uri, code) => {
    expect(codeOf(() => parsePkcs11Uri(uri))).toBe(code);
  });

  test('no error message echoes what looks like a PIN', () => {
    for (const uri of ['pkcs11:token=a?pin-value=987654', 'pkcs11:token=a?987654', 'pkcs11:987654']) {
      try {
        parsePkcs11Uri(uri);
      } catch (e) {
        expect(String((e as Error).message)).not.toContain('987654');
      }
    }
  });

  test('format → parse round-trips any label and id', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        fc.uint8Array({ minLength: 1, maxLength: 20 }),
        (token, object, id) => {
          const u = parsePkcs11Uri(
            formatPkcs11Uri({ token, object, id: Buffer.from(id), modulePath: '/usr/lib/softhsm/libsofthsm2.so' }),
          );
          expect(u.token).toBe(token);
          expect(u.object).toBe(object);
          expect(u.id).toEqual(Buffer.from(id));
          expect(u.modulePath).toBe('/usr/lib/softhsm/libsofthsm2.so');
        },
      ),
    );
  });
});

describe('pkcs11: DER helpers', () => {
  test('raw r||s becomes DER that node verifies (many random signatures, incl. high-bit and short r/s)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (let i = 0; i < 200; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = cryptoSign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = ecdsaRawToDer(raw);
      expect(cryptoVerify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, der)).toBe(true);
    }
  });

  test('CKA_EC_POINT: DER-wrapped and bare points both decode; other lengths are refused', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    const point = spki.subarray(spki.length - 65);
    expect(unwrapEcPoint(Buffer.concat([Buffer.from([0x04, 0x41]), point]), 'p256')).toEqual(point);
    expect(unwrapEcPoint(point, 'p256')).toEqual(point);
    // a bare point whose X starts with 0x3f would look like a 63-byte OCTET STRING to a byte sniffer
    const tricky = Buffer.from(point);
    tricky[1] = 0x3f;
    expect(unwrapEcPoint(tricky, 'p256')).toEqual(tricky);
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
    expect(unwrapEcPoint(Buffer.concat([Buffer.from([0x04, 0x20]), ed]), 'ed25519')).toEqual(ed);
    expect(unwrapEcPoint(ed, 'ed25519')).toEqual(ed);
    expect(codeOf(() => unwrapEcPoint(Buffer.alloc(40), 'p256'))).toBe('KEY_INVALID');
  });

  test('curves: P-256 OID, Ed25519 OID and name; P-384 is not usable', () => {
    expect(curveOfParams(Buffer.from('06082a8648ce3d030107', 'hex'))).toBe('p256');
    expect(curveOfParams(Buffer.from('06032b6570', 'hex'))).toBe('ed25519');
    expect(curveOfParams(Buffer.concat([Buffer.from([0x13, 12]), Buffer.from('edwards25519')]))).toBe('ed25519');
    expect(curveOfParams(Buffer.from('06052b81040022', 'hex'))).toBeUndefined();
  });
});
