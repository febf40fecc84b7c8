/** Generate → sign → verify on a real SoftHSM2 token, for every scheme tufsign writes. */
import { verify as cryptoVerify, constants } from 'node:crypto';
import { isTufsignError } from '../../src/errors';
import type { OpenOptions } from '../../src/keystore/backend';
import { pkcs11Backend } from '../../src/keystore/pkcs11';
import { openSigner } from '../../src/keystore/registry';
import { SCHEMES, type Scheme } from '../../src/tuf/key';
import {
  describeSoftHsm,
  pinHandler,
  securesystemslibPython,
  SoftHsmLab,
  SOFTHSM_MODULE,
  verifyWithSecuresystemslib,
  type TestToken,
} from '../helpers/softhsm';
import { requireComponent } from '../helpers/requirements';
import { parseKeyRefOf } from '../../src/keystore/key-ref';

describeSoftHsm('pkcs11 backend on SoftHSM2: generate, sign, verify', () => {
  let lab: SoftHsmLab;
  let token: TestToken;
  const python = securesystemslibPython();
  const data = Buffer.from('{"signed":{"_type":"root","version":1}}');
  const opts = (
    pin = '123456',
    extra: Omit<Partial<OpenOptions>, 'secrets'> = {},
  ): OpenOptions & { secrets: ReturnType<typeof pinHandler> } => ({
    baseDir: '/nonexistent-workspace',
    env: {},
    pkcs11Module: SOFTHSM_MODULE,
    ...extra,
    secrets: pinHandler(pin),
  });

  beforeAll(() => {
    lab = SoftHsmLab.create();
    token = lab.addToken('tufsign-sign');
  });
  afterAll(() => lab.cleanup());

  test.each(SCHEMES.map((s) => [s]))(
    '%s: key made on the token signs, and node:crypto and securesystemslib verify it',
    async (scheme: Scheme) => {
      const o = opts();
      const gen = await pkcs11Backend.generate!({ scheme, token: token.label, label: `key-${scheme}` }, o);
      expect(gen.publicKey.scheme).toBe(scheme);
      expect(gen.uri).toMatch(new RegExp(`^pkcs11:token=tufsign-sign;object=key-${scheme};id=(%[0-9a-f]{2}){2}$`));

      const signer = await openSigner(gen.uri, { ...o, expectedKey: gen.publicKey });
      const sig = await signer.sign(data);
      expect(sig.keyid).toBe(gen.publicKey.keyid());
      expect(gen.publicKey.verify(sig.signature, data)).toBe(true);
      expect(gen.publicKey.verify(sig.signature, Buffer.concat([data, Buffer.from('x')]))).toBe(false);

      // Independent check with node:crypto, in the exact TUF encoding of each scheme.
      const ko = gen.publicKey.keyObject();
      if (scheme === 'ed25519') {
        expect(sig.signature.length).toBe(64);
        expect(cryptoVerify(null, data, ko, sig.signature)).toBe(true);
      } else if (scheme === 'ecdsa-sha2-nistp256') {
        expect(sig.signature[0]).toBe(0x30); // DER, not raw r||s
        expect(cryptoVerify('sha256', data, { key: ko, dsaEncoding: 'der' }, sig.signature)).toBe(true);
      } else {
        expect(sig.signature.length).toBe(384); // RSA 3072
        expect(
          cryptoVerify(
            'sha256',
            data,
            { key: ko, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
            sig.signature,
          ),
        ).toBe(true);
      }

      if (requireComponent('python3-securesystemslib (the Python cross-check)', python !== undefined))
        expect(verifyWithSecuresystemslib(python!, sig.keyid, gen.publicKey.toJSON(), data, sig.signature)).toBe(
          'VERIFIED',
        );
      await signer.close!();
    },
  );

  test('generated private keys are sensitive, never extractable and made on the token (checked with pkcs11-tool)', () => {
    const out = lab.pkcs11Tool([
      '--token-label',
      token.label,
      '--login',
      '--pin',
      token.pin,
      '--list-objects',
      '--type',
      'privkey',
    ]);
    const blocks = out.split(/\n(?=Private Key Object)/).filter((b) => b.startsWith('Private Key Object'));
    expect(blocks.length).toBe(3);
    for (const b of blocks) {
      expect(b).toMatch(/Access:.*\bsensitive\b/);
      expect(b).toMatch(/never extract/);
      expect(b).toMatch(/\blocal\b/);
      expect(b).toMatch(/Usage:.*\bsign\b/);
    }
  });

  test('readPublicKey reads the key without a PIN; the keyid matches the generated key', async () => {
    const o = opts();
    const gen = await pkcs11Backend.generate!({ scheme: 'ed25519', token: token.label, label: 'readable' }, o);
    const fresh = opts('not-used');
    lab.reload(); // a new run: no session, no login
    const read = await pkcs11Backend.readPublicKey(parseKeyRefOf('pkcs11', gen.uri), fresh);
    expect(read.publicKey.keyid()).toBe(gen.publicKey.keyid());
    expect(fresh.secrets.requests).toHaveLength(0);
  });

  test('one session and one login per token: two keys on a token ask for the PIN once', async () => {
    lab.reload();
    const o = opts();
    const a = await openSigner(`pkcs11:token=${token.label};object=key-ed25519`, o);
    const b = await openSigner(`pkcs11:token=${token.label};object=key-ecdsa-sha2-nistp256`, o);
    await a.sign(data);
    await b.sign(data);
    expect(o.secrets.requests).toHaveLength(1);
    expect(o.secrets.requests[0]).toMatchObject({ kind: 'pin' });
    expect(o.secrets.requests[0]!.label).toContain(token.serial);
    // closing a signer keeps the token session: the next key needs no PIN
    await a.close!();
    await b.close!();
    const c = await openSigner(`pkcs11:token=${token.label};object=key-rsassa-pss-sha256`, o);
    await c.sign(data);
    expect(o.secrets.requests).toHaveLength(1);
  });

  test('the signer uses the role key object, so the keyid is the one in the metadata', async () => {
    lab.reload();
    const o = opts();
    const read = await pkcs11Backend.readPublicKey(
      parseKeyRefOf('pkcs11', `pkcs11:token=${token.label};object=key-ecdsa-sha2-nistp256`),
      o,
    );
    const signer = await openSigner(`pkcs11:token=${token.label};object=key-ecdsa-sha2-nistp256`, {
      ...o,
      expectedKey: read.publicKey,
    });
    expect(signer.publicKey).toBe(read.publicKey);
  });

  test('module path from the URI, then OpenOptions.pkcs11Module, then TUFSIGN_PKCS11_MODULE', async () => {
    lab.reload();
    const viaUri = await pkcs11Backend.readPublicKey(
      parseKeyRefOf('pkcs11', `pkcs11:token=${token.label};object=key-ed25519?module-path=${SOFTHSM_MODULE}`),
      { ...opts(), pkcs11Module: '/nonexistent/module.so' },
    );
    const viaEnv = await pkcs11Backend.readPublicKey(
      parseKeyRefOf('pkcs11', `pkcs11:token=${token.label};object=key-ed25519`),
      {
        secrets: pinHandler('x'),
        baseDir: '/',
        env: { TUFSIGN_PKCS11_MODULE: SOFTHSM_MODULE },
      },
    );
    expect(viaEnv.publicKey.keyid()).toBe(viaUri.publicKey.keyid());
    await expect(
      pkcs11Backend.readPublicKey(parseKeyRefOf('pkcs11', `pkcs11:token=${token.label};object=key-ed25519`), {
        secrets: pinHandler('x'),
        baseDir: '/',
        env: {},
      }),
    ).rejects.toMatchObject({ code: 'MODULE_LOAD_FAILED' });
  });

  test('token by serial; key by id alone', async () => {
    lab.reload();
    const gen = await pkcs11Backend.generate!(
      { scheme: 'ecdsa-sha2-nistp256', token: `pkcs11:serial=${token.serial}`, label: 'by-serial' },
      opts(),
    );
    expect(gen.uri).toContain(`serial=${token.serial}`);
    const id = /id=((?:%[0-9a-f]{2})+)/.exec(gen.uri)![1]!;
    const signer = await openSigner(`pkcs11:serial=${token.serial};id=${id}`, opts());
    expect(signer.publicKey.keyid()).toBe(gen.publicKey.keyid());
    expect(signer.publicKey.verify((await signer.sign(data)).signature, data)).toBe(true);
  });

  test('pin-source=file: supplies the PIN without asking; a group-readable PIN file is refused', async () => {
    lab.reload();
    const good = lab.pinFile(token.pin);
    const o = opts('never-asked');
    const signer = await openSigner(`pkcs11:token=${token.label};object=key-ed25519?pin-source=file:${good}`, o);
    await signer.sign(data);
    expect(o.secrets.requests).toHaveLength(0);

    lab.reload();
    const loose = lab.pinFile(token.pin, 0o644);
    const err = await openSigner(
      `pkcs11:token=${token.label};object=key-ed25519?pin-source=file:${loose}`,
      opts(),
    ).catch((e: unknown) => e);
    expect(isTufsignError(err, 'KEY_FILE_PERMISSIONS')).toBe(true);
  });

  test('generate refuses a label that is already on the token', async () => {
    await expect(
      pkcs11Backend.generate!({ scheme: 'ed25519', token: token.label, label: 'key-ed25519' }, opts()),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });

  test('a key generated by another tool (pkcs11-tool) signs through tufsign', async () => {
    lab.reload();
    lab.pkcs11Tool([
      '--token-label',
      token.label,
      '--login',
      '--pin',
      token.pin,
      '--keypairgen',
      '--key-type',
      'EC:prime256v1',
      '--label',
      'from-opensc',
      '--id',
      '7a01',
    ]);
    const signer = await openSigner(`pkcs11:token=${token.label};object=from-opensc;id=%7a%01`, opts());
    expect(signer.publicKey.scheme).toBe('ecdsa-sha2-nistp256');
    expect(signer.publicKey.verify((await signer.sign(data)).signature, data)).toBe(true);
  });

  test('listDevices shows the module, the token with its flags, and the usable keys with keyids', async () => {
    lab.reload();
    const report = await pkcs11Backend.listDevices!({ ...opts(), pkcs11Module: SOFTHSM_MODULE });
    expect(report.available).toBe(true);
    const mod = report.devices.find((d) => d['module'] === SOFTHSM_MODULE)!;
    expect(mod).toBeDefined();
    expect(mod['source']).toBe('config');
    const slots = mod['slots'] as { token?: Record<string, unknown> }[];
    const t = slots.map((s) => s.token).find((x) => x?.['serial'] === token.serial)!;
    expect(t['label']).toBe(token.label);
    expect(t['flags']).toMatchObject({ tokenInitialized: true, loginRequired: true, pinLocked: false });
    expect(t['signingSchemes']).toEqual(['ed25519', 'ecdsa-sha2-nistp256', 'rsassa-pss-sha256']);
    const keys = t['keys'] as Record<string, unknown>[];
    const ed = keys.find((k) => k['label'] === 'key-ed25519')!;
    expect(ed).toMatchObject({ scheme: 'ed25519', usable: true });
    expect(typeof ed['keyid']).toBe('string');
    // listed URIs address the key pair by CKA_ID, and open the same key
    expect(String(ed['uri'])).toMatch(/^pkcs11:token=tufsign-sign;id=%/);
    const reread = await pkcs11Backend.readPublicKey(parseKeyRefOf('pkcs11', String(ed['uri'])), opts());
    expect(reread.publicKey.keyid()).toBe(ed['keyid']);
  });

  test('listDevices reports a module that cannot be loaded as a problem with a suggestion', async () => {
    const report = await pkcs11Backend.listDevices!({ ...opts(), pkcs11Module: '/nonexistent/libvendor-pkcs11.so' });
    const bad = report.devices.find((d) => d['module'] === '/nonexistent/libvendor-pkcs11.so')!;
    expect(bad['loaded']).toBe(false);
    expect(
      report.problems.some((p) => p.message.includes('/nonexistent/libvendor-pkcs11.so') && p.suggestion.length > 0),
    ).toBe(true);
  });
});
