/**
 * The generic PKCS#11 backend on a second, independent module: Yubico's ykcs11
 * against the virtual PIV card (pcscd + vpcd). A key generated on the card by
 * tufsign's YubiKey backend is found, used and verified through pkcs11:.
 */
import { pkcs11Backend, closePkcs11 } from '../../src/keystore/pkcs11';
import { yubikeyBackend } from '../../src/keystore/yubikey';
import type { SecretsHandler } from '../../src/keystore/signer';
import { VirtualYubiKeyLab, describeWithVirtualCards, YKCS11 } from '../helpers/virtual-yubikey';
import { parseKeyRefOf } from '../../src/keystore/key-ref';

const SERIAL = 30000001;
const PIN = '123456';

describeWithVirtualCards(
  'pkcs11 backend through ykcs11 on a virtual YubiKey',
  () => {
    const lab = new VirtualYubiKeyLab();
    let pinRequests = 0;
    const secrets: SecretsHandler = {
      getSecret: (r) => {
        if (r.kind === 'pin') pinRequests++;
        return Promise.resolve(
          Buffer.from(
            r.kind === 'pin' ? PIN : '010203040506070801020304050607080102030405060708',
            r.kind === 'pin' ? 'utf8' : 'hex',
          ),
        );
      },
    };
    const env = { ...process.env, TUFSIGN_YUBIKEY_TEST_CA: '' };

    beforeAll(async () => {
      await lab.testCa();
      await lab.startPcscd();
      await lab.insert(0, { serial: SERIAL, version: '5.4.3', seed: 'ykcs11-e2e' });
    }, 30000);

    afterAll(async () => {
      closePkcs11({ finalize: true });
      await lab.teardown();
    });

    it('lists the card as a token with an ECDSA P-256 key that tufsign can use, and signs with it (DER, verified)', async () => {
      const generated = await yubikeyBackend.generate!(
        {
          scheme: 'ecdsa-sha2-nistp256',
          serial: SERIAL,
          slot: '9c',
          pinPolicy: 'once',
          touchPolicy: 'never',
          allowDefaultManagementKey: true,
        },
        { secrets, baseDir: lab.dir, env: { ...env, TUFSIGN_YUBIKEY_TEST_CA: lab.caCertFile } },
      );
      const report = await pkcs11Backend.listDevices!({ secrets, baseDir: lab.dir, env, pkcs11Module: YKCS11 });
      expect(report.available).toBe(true);
      const ykcs11 = report.devices.find((d: any) => d.module === YKCS11) as any;
      const keys = (ykcs11.slots as any[]).flatMap((s) => (s.token?.keys ?? []) as any[]);
      const match = keys.find((k) => k.keyid === generated.publicKey.keyid());
      expect(match).toBeDefined();
      const uri = String(match.uri);
      expect(uri).toMatch(/^pkcs11:/);

      const signer = await pkcs11Backend.open(parseKeyRefOf('pkcs11', uri), {
        secrets,
        baseDir: lab.dir,
        env,
        pkcs11Module: YKCS11,
        expectedKey: generated.publicKey,
      });
      const data = Buffer.from('{"_type":"root","version":1}');
      const { keyid, signature } = await signer.sign(data);
      expect(keyid).toBe(generated.publicKey.keyid());
      expect(Buffer.from(signature)[0]).toBe(0x30); // DER SEQUENCE, not raw r||s
      expect(generated.publicKey.verify(signature, data)).toBe(true);
      expect(pinRequests).toBeGreaterThanOrEqual(1);
      await signer.close?.();
    });
  },
  ['ykcs11'],
);
