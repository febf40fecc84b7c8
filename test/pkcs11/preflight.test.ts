/**
 * The PKCS#11 pre-flight in-process on SoftHSM2 (#11, ADR 0004): what it refuses, and that it never asks for a
 * PIN or logs in. The CLI run over two tokens is test/e2e/pkcs11-preflight.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { isTufsignError } from '../../src/errors';
import type { OpenOptions } from '../../src/keystore/backend';
import { pkcs11Backend } from '../../src/keystore/pkcs11';
import { keyFromPublicKeyObject, type Key } from '../../src/tuf/key';
import { describeSoftHsm, pinHandler, SoftHsmLab, SOFTHSM_MODULE, type TestToken } from '../helpers/softhsm';
import { parseKeyRefOf } from '../../src/keystore/key-ref';

const CKF_USER_PIN_LOCKED = 0x40000;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isTufsignError(e) ? e.code : `not a TufsignError: ${String(e)}`;
  }
}

describeSoftHsm('pkcs11 pre-flight on SoftHSM2: checked without a PIN', () => {
  let lab: SoftHsmLab;
  let token: TestToken;
  let key: Key;
  let uri: string;
  const opts = (expectedKey?: Key): OpenOptions & { secrets: ReturnType<typeof pinHandler> } => {
    const o: OpenOptions & { secrets: ReturnType<typeof pinHandler> } = {
      baseDir: '/',
      env: {},
      pkcs11Module: SOFTHSM_MODULE,
      secrets: pinHandler('000000'),
    };
    if (expectedKey !== undefined) o.expectedKey = expectedKey;
    return o;
  };
  const preflight = (u: string, o: OpenOptions): Promise<void> =>
    pkcs11Backend.preflight!(parseKeyRefOf('pkcs11', u), o);

  beforeAll(async () => {
    lab = SoftHsmLab.create();
    token = lab.addToken('tufsign-preflight');
    const gen = await pkcs11Backend.generate!(
      { scheme: 'ecdsa-sha2-nistp256', token: token.label, label: 'snapshot' },
      { ...opts(), secrets: pinHandler(token.pin) },
    );
    key = gen.publicKey;
    uri = gen.uri;
  });
  afterAll(() => lab?.cleanup());
  // every case starts from a library that has not logged in (the generation above did)
  beforeEach(() => lab.reload());

  test('the right token and key: passes, no PIN asked', async () => {
    const o = opts(key);
    expect(await codeOf(preflight(uri, o))).toBe('resolved');
    expect(o.secrets.requests).toHaveLength(0);
  });

  test('another key under the URI: KEY_MISMATCH, no PIN asked', async () => {
    const other = keyFromPublicKeyObject(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
      'ecdsa-sha2-nistp256',
    );
    const o = opts(other);
    expect(await codeOf(preflight(uri, o))).toBe('KEY_MISMATCH');
    expect(o.secrets.requests).toHaveLength(0);
  });

  test('a token that is not there (label, or serial): TOKEN_NOT_PRESENT', async () => {
    expect(await codeOf(preflight(uri.replace('token=tufsign-preflight', 'token=elsewhere'), opts(key)))).toBe(
      'TOKEN_NOT_PRESENT',
    );
    expect(await codeOf(preflight(`${uri.split('?')[0]!};serial=0000000000000000`, opts(key)))).toBe(
      'TOKEN_NOT_PRESENT',
    );
  });

  test('a locked user PIN: PIN_LOCKED before anything is asked', async () => {
    lab.setTokenFlags(token, CKF_USER_PIN_LOCKED);
    try {
      const o = opts(key);
      expect(await codeOf(preflight(uri, o))).toBe('PIN_LOCKED');
      expect(o.secrets.requests).toHaveLength(0);
    } finally {
      lab.reload();
      lab.setTokenFlags(token, 0, CKF_USER_PIN_LOCKED);
    }
  });
});
