/** A token without the mechanism a scheme needs: MECHANISM_UNSUPPORTED, naming what the token can do, before any PIN. */
import { isTufsignError } from '../../src/errors';
import type { OpenOptions } from '../../src/keystore/backend';
import { pkcs11Backend } from '../../src/keystore/pkcs11';
import { openSigner } from '../../src/keystore/registry';
import { describeSoftHsm, pinHandler, SoftHsmLab, SOFTHSM_MODULE, type TestToken } from '../helpers/softhsm';

describeSoftHsm('pkcs11 backend on SoftHSM2: unsupported mechanisms', () => {
  let lab: SoftHsmLab;
  let token: TestToken;
  const opts = (pin: string): OpenOptions & { secrets: ReturnType<typeof pinHandler> } => ({
    secrets: pinHandler(pin),
    baseDir: '/',
    env: {},
    pkcs11Module: SOFTHSM_MODULE,
  });

  beforeAll(() => {
    lab = SoftHsmLab.create();
    token = lab.addToken('tufsign-mech');
  });
  afterAll(() => lab.cleanup());

  test('a key whose signing mechanism the token no longer offers is refused before login, listing the schemes it can do', async () => {
    const gen = await pkcs11Backend.generate!({ scheme: 'ed25519', token: token.label, label: 'ed' }, opts(token.pin));
    // Same token folder, but the module now hides CKM_EDDSA (as many HSMs do).
    lab.reload();
    lab.writeConf(['CKM_EDDSA', 'CKM_EC_EDWARDS_KEY_PAIR_GEN']);
    const o = opts(token.pin);
    const err = await openSigner(gen.uri, o).catch((e: unknown) => e);
    expect(isTufsignError(err, 'MECHANISM_UNSUPPORTED')).toBe(true);
    if (!isTufsignError(err)) return;
    expect(err.details).toMatchObject({
      scheme: 'ed25519',
      supportedSchemes: ['ecdsa-sha2-nistp256', 'rsassa-pss-sha256'],
    });
    expect(o.secrets.requests).toHaveLength(0);
  });

  test('generate refuses a scheme the token cannot make, before login', async () => {
    const o = opts(token.pin);
    const err = await pkcs11Backend.generate!({ scheme: 'ed25519', token: token.label, label: 'ed2' }, o).catch(
      (e: unknown) => e,
    );
    expect(isTufsignError(err, 'MECHANISM_UNSUPPORTED')).toBe(true);
    expect(o.secrets.requests).toHaveLength(0);
  });

  test('RSA-PSS falls back to CKM_SHA256_RSA_PKCS_PSS when the token lacks CKM_RSA_PKCS_PSS', async () => {
    lab.reload();
    lab.writeConf(['CKM_RSA_PKCS_PSS']);
    const gen = await pkcs11Backend.generate!(
      { scheme: 'rsassa-pss-sha256', token: token.label, label: 'rsa' },
      opts(token.pin),
    );
    const signer = await openSigner(gen.uri, opts(token.pin));
    const data = Buffer.from('rsa data');
    expect(gen.publicKey.verify((await signer.sign(data)).signature, data)).toBe(true);
  });

  test('without CKM_ECDSA (SoftHSM has no CKM_ECDSA_SHA256 either) P-256 keys are refused', async () => {
    lab.reload();
    lab.writeConf(['CKM_ECDSA']);
    const err = await pkcs11Backend.generate!(
      { scheme: 'ecdsa-sha2-nistp256', token: token.label, label: 'ec' },
      opts(token.pin),
    ).catch((e: unknown) => e);
    expect(isTufsignError(err, 'MECHANISM_UNSUPPORTED')).toBe(true);
  });
});
