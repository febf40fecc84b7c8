/** Attestation against REAL YubiKey chains (test/fixtures/yubikey-attestation, copied from shared/test-vectors) and altered ones. */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isTufsignError } from '../../src/errors';
import { keyFromPublicKeyObject } from '../../src/tuf/key';
import { attestationToJson, verifyAttestation } from '../../src/keystore/yubikey/attestation';
import { ROOT_KEY_POLICY, checkKeyPolicy, verifyPublicKeyFileAttestation } from '../../src/keystore/yubikey/claims';
import { YUBICO_PIV_ROOTS } from '../../src/keystore/yubikey/yubico-ca';

const VECTORS = join(__dirname, '../fixtures/yubikey-attestation');
const dev = (serial: string, file: string): string =>
  readFileSync(join(VECTORS, 'devices', serial, `${serial}_${file}.pem`), 'utf8');
const ca = (name: string): string => readFileSync(join(VECTORS, 'ca', name), 'utf8');
const SERIALS = readdirSync(join(VECTORS, 'devices')).sort();

/** Expected facts, from PROVENANCE.md (openssl output). */
const EXPECTED: Record<string, { fw: string; pin: string; touch: string; ff?: string }> = {
  '10550341': { fw: '4.4.5', pin: 'always', touch: 'always' },
  '15938791': { fw: '5.2.7', pin: 'always', touch: 'always', ff: 'usb-c-keychain' },
  '18158855': { fw: '5.4.3', pin: 'always', touch: 'always', ff: 'usb-a-keychain' },
  '30000948': { fw: '5.7.2', pin: 'once', touch: 'never', ff: 'usb-c-bio' },
  '33064031': { fw: '5.7.4', pin: 'once', touch: 'cached', ff: 'usb-c-keychain' },
};

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    if (isTufsignError(e)) return e.code;
    throw e;
  }
}

describe('verifyAttestation with real YubiKey chains', () => {
  it('has the eight device sets', () => {
    expect(SERIALS).toHaveLength(8);
  });

  it.each(SERIALS)('device %s verifies to a Yubico root and the attested key equals the given key', async (serial) => {
    const publicKey = createPublicKey(dev(serial, 'pubkey'));
    const facts = await verifyAttestation({
      keyCert: dev(serial, 'key_cert'),
      deviceCert: dev(serial, 'device_cert'),
      publicKey,
      expectedSerial: Number(serial),
    });
    expect(facts.serial).toBe(Number(serial));
    const want = EXPECTED[serial];
    if (want !== undefined) {
      expect(facts.firmware).toBe(want.fw);
      expect(facts.pinPolicy).toBe(want.pin);
      expect(facts.touchPolicy).toBe(want.touch);
      expect(facts.formFactor).toBe(want.ff);
    }
    expect(facts.chain.length).toBeGreaterThanOrEqual(3);
  });

  it('the 5.7.4 device chains through the new PKI (Root 1, intermediate B 1, PIV Attestation B 1)', async () => {
    const facts = await verifyAttestation({
      keyCert: dev('33064031', 'key_cert'),
      deviceCert: dev('33064031', 'device_cert'),
    });
    expect(facts.root.subject).toBe('CN=Yubico Attestation Root 1');
    expect(facts.chain).toContain('CN=Yubico PIV Attestation B 1');
    expect(facts.slot).toBe('9a');
  });

  it('refuses another key (the attestation of device A with the public key of device B)', async () => {
    expect(
      await code(
        verifyAttestation({
          keyCert: dev('13078778', 'key_cert'),
          deviceCert: dev('13078778', 'device_cert'),
          publicKey: createPublicKey(dev('14470876', 'pubkey')),
        }),
      ),
    ).toBe('ATTESTATION_INVALID');
    const other = keyFromPublicKeyObject(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
      'ecdsa-sha2-nistp256',
    );
    expect(
      await code(
        verifyAttestation({
          keyCert: dev('18158855', 'key_cert'),
          deviceCert: dev('18158855', 'device_cert'),
          publicKey: other,
        }),
      ),
    ).toBe('ATTESTATION_INVALID');
  });

  it('refuses another serial than the enrolled one', async () => {
    expect(
      await code(
        verifyAttestation({
          keyCert: dev('18158855', 'key_cert'),
          deviceCert: dev('18158855', 'device_cert'),
          expectedSerial: 18158856,
        }),
      ),
    ).toBe('ATTESTATION_INVALID');
  });

  it('refuses a key certificate whose serial extension was edited (signature breaks)', async () => {
    const der = Buffer.from(dev('18158855', 'key_cert').replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const serialExt = Buffer.from('020401151507', 'hex');
    const at = der.indexOf(serialExt);
    expect(at).toBeGreaterThan(0);
    const edited = Buffer.from(der);
    edited[at + 5] = 0x08;
    expect(await code(verifyAttestation({ keyCert: edited, deviceCert: dev('18158855', 'device_cert') }))).toBe(
      'ATTESTATION_INVALID',
    );
  });

  it('refuses a broken signature (last byte of the key certificate flipped)', async () => {
    const der = Buffer.from(dev('15938791', 'key_cert').replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
    expect(await code(verifyAttestation({ keyCert: der, deviceCert: dev('15938791', 'device_cert') }))).toBe(
      'ATTESTATION_INVALID',
    );
  });

  it('refuses a device certificate that does not belong to the key certificate', async () => {
    expect(
      await code(
        verifyAttestation({ keyCert: dev('13078778', 'key_cert'), deviceCert: dev('18158855', 'device_cert') }),
      ),
    ).toBe('ATTESTATION_INVALID');
  });

  it('refuses the wrong CA: each set verifies only against its own root', async () => {
    const legacy = ca('yubico-piv-root-ca-serial-263751.pem');
    const root1 = ca('yubico-attestation-root-1.pem');
    expect(
      await code(
        verifyAttestation({
          keyCert: dev('33064031', 'key_cert'),
          deviceCert: dev('33064031', 'device_cert'),
          roots: [legacy],
        }),
      ),
    ).toBe('ATTESTATION_UNTRUSTED');
    expect(
      await code(
        verifyAttestation({
          keyCert: dev('18158855', 'key_cert'),
          deviceCert: dev('18158855', 'device_cert'),
          roots: [root1],
        }),
      ),
    ).toBe('ATTESTATION_UNTRUSTED');
    // without the (off-device) intermediates the new chain cannot be completed
    expect(
      await code(
        verifyAttestation({
          keyCert: dev('33064031', 'key_cert'),
          deviceCert: dev('33064031', 'device_cert'),
          intermediates: [],
        }),
      ),
    ).toBe('ATTESTATION_UNTRUSTED');
  });

  it('refuses a key certificate used as the device certificate (a slot key cannot vouch for other keys)', async () => {
    // deviceCert = a slot attestation: its issuer (the f9 cert) is not a trusted CA
    expect(
      await code(verifyAttestation({ keyCert: dev('13078778', 'key_cert'), deviceCert: dev('13078778', 'key_cert') })),
    ).toBe('ATTESTATION_INVALID');
  });

  it('bundles exactly the two Yubico roots', () => {
    expect(YUBICO_PIV_ROOTS).toHaveLength(2);
  });
});

describe('public key files and the root-key policy', () => {
  async function fileFor(serial: string, scheme: 'ecdsa-sha2-nistp256' | 'rsassa-pss-sha256' = 'ecdsa-sha2-nistp256') {
    const facts = await verifyAttestation({ keyCert: dev(serial, 'key_cert'), deviceCert: dev(serial, 'device_cert') });
    const key = keyFromPublicKeyObject(createPublicKey(dev(serial, 'pubkey')), scheme);
    return { key, keyid: key.keyid(), attestation: attestationToJson(facts) };
  }

  it('an attested touch-always key (Sigstore root keyholder) meets the root-key policy', async () => {
    const file = await fileFor('18158855');
    const r = checkKeyPolicy(file, ROOT_KEY_POLICY);
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(verifyPublicKeyFileAttestation(file, {}).serial).toBe(18158855);
  });

  it('a touch-never key, an unattested key, a swapped and an edited attestation are refused', async () => {
    const touchNever = checkKeyPolicy(await fileFor('30000948', 'rsassa-pss-sha256'), ROOT_KEY_POLICY);
    expect(touchNever.ok).toBe(false);
    expect(touchNever.facts?.touchPolicy).toBe('never');
    const file = await fileFor('18158855');
    const noAtt = { key: file.key, keyid: file.keyid };
    expect(checkKeyPolicy(noAtt, ROOT_KEY_POLICY).ok).toBe(false);
    // an edited claim or a swapped attestation is an error in the file, not a policy fact
    const edited = { ...file, attestation: { ...file.attestation, touchPolicy: 'never' } };
    expect(await code(Promise.resolve().then(() => checkKeyPolicy(edited, ROOT_KEY_POLICY)))).toBe(
      'ATTESTATION_CLAIM_MISMATCH',
    );
    const otherKey = await fileFor('15938791');
    const swapped = { ...otherKey, attestation: file.attestation };
    expect(await code(Promise.resolve().then(() => checkKeyPolicy(swapped, ROOT_KEY_POLICY)))).toBe(
      'ATTESTATION_CLAIM_MISMATCH',
    );
    const wrongSerial = checkKeyPolicy(file, { ...ROOT_KEY_POLICY, serials: [1] });
    expect(wrongSerial.ok).toBe(false);
  });
});
