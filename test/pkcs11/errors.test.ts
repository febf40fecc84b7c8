/** Every PKCS#11 failure a user can meet, on real SoftHSM2 tokens: asserted by error code and behaviour. */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isTufsignError, type TufsignError } from '../../src/errors';
import type { OpenOptions } from '../../src/keystore/backend';
import { pkcs11Backend } from '../../src/keystore/pkcs11';
import { openSigner } from '../../src/keystore/registry';
import { keyFromPublicKeyObject, type Key } from '../../src/tuf/key';
import { describeSoftHsm, pinHandler, SoftHsmLab, SOFTHSM_MODULE, type TestToken } from '../helpers/softhsm';

const CKF_USER_PIN_COUNT_LOW = 0x10000;
const CKF_USER_PIN_FINAL_TRY = 0x20000;
const CKF_USER_PIN_LOCKED = 0x40000;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isTufsignError(e) ? e.code : `not a TufsignError: ${String(e)}`;
  }
}

async function errorOf(p: Promise<unknown>): Promise<TufsignError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isTufsignError(e)) throw new Error(`expected a TufsignError, got ${String(e)}`);
  return e;
}

describeSoftHsm('pkcs11 backend on SoftHSM2: errors a user can act on', () => {
  let lab: SoftHsmLab;
  let main: TestToken;
  let twinA: TestToken;
  let twinB: TestToken;
  let mainKey: Key;
  let mainUri: string;
  const data = Buffer.from('payload');
  const opts = (
    pin: string,
    extra: Omit<Partial<OpenOptions>, 'secrets'> = {},
  ): OpenOptions & { secrets: ReturnType<typeof pinHandler> } => ({
    baseDir: '/',
    env: {},
    pkcs11Module: SOFTHSM_MODULE,
    ...extra,
    secrets: pinHandler(pin),
  });
  const tokenFlags = async (serial: string): Promise<Record<string, boolean>> => {
    const report = await pkcs11Backend.listDevices!(opts('unused'));
    for (const d of report.devices) {
      for (const s of (d['slots'] as { token?: Record<string, unknown> }[] | undefined) ?? []) {
        if (s.token?.['serial'] === serial) return s.token['flags'] as Record<string, boolean>;
      }
    }
    throw new Error(`token ${serial} not listed`);
  };

  beforeAll(async () => {
    lab = SoftHsmLab.create();
    main = lab.addToken('tufsign-errors');
    twinA = lab.addToken('tufsign-twin');
    twinB = lab.addToken('tufsign-twin');
    const gen = await pkcs11Backend.generate!(
      { scheme: 'ecdsa-sha2-nistp256', token: main.label, label: 'targets' },
      opts(main.pin),
    );
    mainKey = gen.publicKey;
    mainUri = gen.uri;
    // Two keys sharing one label (BAD-56), made by an independent tool.
    lab.reload();
    for (const id of ['d1', 'd2']) {
      lab.pkcs11Tool([
        '--token-label',
        main.label,
        '--login',
        '--pin',
        main.pin,
        '--keypairgen',
        '--key-type',
        'EC:prime256v1',
        '--label',
        'dup',
        '--id',
        id,
      ]);
    }
    lab.reload();
  });
  afterAll(() => lab.cleanup());

  test('BAD-53 wrong PIN: PIN_INCORRECT, asked once, never retried; the token flags the low count', async () => {
    lab.reload();
    const o = opts('000000');
    const err = await errorOf(openSigner(mainUri, o));
    expect(err.code).toBe('PIN_INCORRECT');
    expect(err.details).toMatchObject({ pinCountLow: true, pinFinalTry: false, pinLocked: false });
    expect(o.secrets.requests).toHaveLength(1);
    expect(err.message).not.toContain('000000');
    expect(await tokenFlags(main.serial)).toMatchObject({ pinCountLow: true });
    // the right PIN afterwards works and clears the flag
    const ok = await openSigner(mainUri, opts(main.pin));
    await ok.sign(data);
    lab.reload();
    expect(await tokenFlags(main.serial)).toMatchObject({ pinCountLow: false });
  });

  test('BAD-53 final try: the prompt says one try is left, and a wrong PIN says so too', async () => {
    lab.reload();
    lab.setTokenFlags(main, CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW);
    const o = opts('000000');
    const err = await errorOf(openSigner(mainUri, o));
    expect(o.secrets.requests[0]).toMatchObject({ kind: 'pin', retriesLeft: 1 });
    expect(err.code).toBe('PIN_INCORRECT');
    expect(err.details).toMatchObject({ pinFinalTry: true, retriesLeft: 1 });
    lab.reload();
    lab.setTokenFlags(main, 0, CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW);
  });

  test('BAD-54 locked PIN: PIN_LOCKED without asking for a PIN', async () => {
    lab.reload();
    lab.setTokenFlags(main, CKF_USER_PIN_LOCKED);
    const o = opts(main.pin);
    expect(await codeOf(openSigner(mainUri, o))).toBe('PIN_LOCKED');
    expect(o.secrets.requests).toHaveLength(0);
    expect(await codeOf(pkcs11Backend.generate!({ scheme: 'ed25519', token: main.label, label: 'never' }, o))).toBe(
      'PIN_LOCKED',
    );
    expect(o.secrets.requests).toHaveLength(0);
    lab.reload();
    lab.setTokenFlags(main, 0, CKF_USER_PIN_LOCKED);
  });

  test('BAD-57 the token holds a different key than the role expects: KEY_MISMATCH before the PIN', async () => {
    lab.reload();
    const other = keyFromPublicKeyObject(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
      'ecdsa-sha2-nistp256',
    );
    const o = opts('000000'); // a wrong PIN would show as PIN_INCORRECT and flag the token if it were tried
    expect(await codeOf(openSigner(mainUri, { ...o, expectedKey: other }))).toBe('KEY_MISMATCH');
    expect(o.secrets.requests).toHaveLength(0);
    expect(await tokenFlags(main.serial)).toMatchObject({ pinCountLow: false });
    // and the right expected key opens fine
    const s = await openSigner(mainUri, opts(main.pin, { expectedKey: mainKey }));
    expect(s.publicKey.keyid()).toBe(mainKey.keyid());
  });

  test('BAD-55 no such token: TOKEN_NOT_PRESENT, listing the tokens that are present', async () => {
    const err = await errorOf(openSigner('pkcs11:token=not-plugged-in;object=targets', opts(main.pin)));
    expect(err.code).toBe('TOKEN_NOT_PRESENT');
    const present = (err.details?.['present'] as { label: string }[]).map((t) => t.label);
    expect(present).toEqual(expect.arrayContaining(['tufsign-errors', 'tufsign-twin']));
    expect(
      await codeOf(openSigner(`pkcs11:token=${main.label};serial=0000000000000000;object=targets`, opts(main.pin))),
    ).toBe('TOKEN_NOT_PRESENT');
  });

  test('BAD-56 two tokens match: TOKEN_AMBIGUOUS naming both serials; serial= picks one', async () => {
    const err = await errorOf(
      pkcs11Backend.generate!({ scheme: 'ed25519', token: 'tufsign-twin', label: 'k' }, opts(twinA.pin)),
    );
    expect(err.code).toBe('TOKEN_AMBIGUOUS');
    const serials = (err.details?.['tokens'] as { serial: string }[]).map((t) => t.serial).sort();
    expect(serials).toEqual([twinA.serial, twinB.serial].sort());
    const gen = await pkcs11Backend.generate!(
      { scheme: 'ed25519', token: `pkcs11:token=tufsign-twin;serial=${twinB.serial}`, label: 'k' },
      opts(twinB.pin),
    );
    const signer = await openSigner(gen.uri, opts(twinB.pin));
    expect(signer.publicKey.verify((await signer.sign(data)).signature, data)).toBe(true);
  });

  test('BAD-56 two keys match: KEY_AMBIGUOUS listing both; id= picks one', async () => {
    const err = await errorOf(openSigner(`pkcs11:token=${main.label};object=dup`, opts(main.pin)));
    expect(err.code).toBe('KEY_AMBIGUOUS');
    expect((err.details?.['keys'] as { id: string }[]).map((k) => k.id).sort()).toEqual(['d1', 'd2']);
    const one = await openSigner(`pkcs11:token=${main.label};object=dup;id=%d2`, opts(main.pin));
    expect(one.publicKey.verify((await one.sign(data)).signature, data)).toBe(true);
  });

  test('BAD-56 no such key: KEY_NOT_FOUND listing the keys on the token', async () => {
    lab.reload();
    const err = await errorOf(openSigner(`pkcs11:token=${main.label};object=snapshot`, opts(main.pin)));
    expect(err.code).toBe('KEY_NOT_FOUND');
    expect((err.details?.['keys'] as { label: string }[]).map((k) => k.label)).toEqual(
      expect.arrayContaining(['targets', 'dup']),
    );
    expect(await codeOf(openSigner(`pkcs11:token=${main.label};id=%99%99`, opts(main.pin)))).toBe('KEY_NOT_FOUND');
  });

  test('module fails to load: MODULE_LOAD_FAILED for a missing file and for a library that is not PKCS#11', async () => {
    expect(
      await codeOf(openSigner('pkcs11:token=x;object=y?module-path=/nonexistent/libvendor.so', opts(main.pin))),
    ).toBe('MODULE_LOAD_FAILED');
    const notPkcs11 = [
      '/usr/lib/x86_64-linux-gnu/libz.so.1',
      '/lib/x86_64-linux-gnu/libz.so.1',
      '/usr/lib/aarch64-linux-gnu/libz.so.1',
    ].find((p) => existsSync(p));
    if (notPkcs11 !== undefined) {
      expect(await codeOf(openSigner(`pkcs11:token=x;object=y?module-path=${notPkcs11}`, opts(main.pin)))).toBe(
        'MODULE_LOAD_FAILED',
      );
    }
    expect(await codeOf(openSigner('pkcs11:token=x;object=y?module-path=relative/lib.so', opts(main.pin)))).toBe(
      'KEY_URI_INVALID',
    );
  });

  test('pin-value in the URI is refused before anything is loaded, and the PIN is not echoed', async () => {
    const err = await errorOf(
      openSigner(
        `pkcs11:token=${main.label};object=targets?module-path=/nonexistent.so&pin-value=4711`,
        opts(main.pin),
      ),
    );
    expect(err.code).toBe('SECRET_IN_ARGV');
    expect(`${err.message} ${err.suggestion ?? ''}`).not.toContain('4711');
  });

  test('a signer keeps working after another key on its token failed to open', async () => {
    lab.reload();
    const good = await openSigner(mainUri, opts(main.pin));
    expect(await codeOf(openSigner(`pkcs11:token=${main.label};object=nope`, opts(main.pin)))).toBe('KEY_NOT_FOUND');
    expect(good.publicKey.verify((await good.sign(data)).signature, data)).toBe(true);
  });
});
