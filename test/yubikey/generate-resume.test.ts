/**
 * `key generate --backend yubikey` after a kill (ADR 0007), in-process on the virtual card: the journal written
 * before GENERATE lets a re-run finish the key the killed run made — whether or not the device's answer was
 * recorded — and nothing else. A slot holding another key (imported, other policies, another public key, no
 * journal, a journal tufsign did not write) is refused with SLOT_IN_USE and left as it is. The kills through the
 * built CLI and pcscd are in test/e2e/yubikey-generate-rerun.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKeyRefOf } from '../../src/keystore/key-ref';
import { createYubiKeyBackend, type DeviceSource } from '../../src/keystore/yubikey';
import type { GenerateRequest } from '../../src/keystore/backend';
import { PivCard, createTestCa, type TestCa } from '../fixtures/piv/piv-card';
import { caught, recordingSecrets } from './helpers';

const MGMT = 'aabbccddeeff00112233445566778899aabbccddeeff0011';
let ca: TestCa;

beforeAll(async () => {
  ca = await createTestCa();
});

/** A card prepared like a production key (PIN and management key changed). */
function card(serial: number, version = '5.7.1'): PivCard {
  const c = new PivCard({ serial, version, ca, seed: `resume-${serial}` });
  c.setPin('271828', '31415926');
  c.setManagementKey(Buffer.from(MGMT, 'hex'));
  return c;
}

/** The card through a transport that dies (as the process would) right after the card answered `killAfterIns`. */
function source(c: PivCard, killAfterIns?: number): () => DeviceSource {
  return () => ({
    cards: () => {
      c.resetSession();
      return Promise.resolve([
        {
          label: 'memory',
          transport: {
            async transmit(apdu: Buffer): Promise<Buffer> {
              const answer = await c.transmit(apdu);
              if (apdu[1] === killAfterIns) throw new Error('killed');
              return answer;
            },
          },
          release: () => Promise.resolve(c.resetSession()),
        },
      ]);
    },
    close: () => Promise.resolve(),
  });
}

const backend = (c: PivCard, killAfterIns?: number) =>
  createYubiKeyBackend({ source: source(c, killAfterIns), attestationRoots: [ca.cert.toString('pem')] });

function request(dir: string, extra: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    scheme: 'ecdsa-sha2-nistp256',
    slot: '9c',
    pinPolicy: 'always',
    touchPolicy: 'always',
    journalDir: dir,
    ...extra,
  };
}

const opts = (secrets = recordingSecrets([], MGMT)) => ({ secrets, baseDir: '/', env: {} });
const journals = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('.tufsign-generate-yubikey-'));
const slotSpki = async (c: PivCard): Promise<string> => {
  const r = await backend(c).readPublicKey(parseKeyRefOf('yubikey', `yubikey:serial=${c.serial};slot=9c`), opts());
  return r.publicKey.keyObject().export({ format: 'der', type: 'spki' }).toString('base64');
};

describe('yubikey key generate re-run after a kill (in-process)', () => {
  it('killed before GENERATE reached the card: the journal is there, the slot empty; the re-run makes the key', async () => {
    const c = card(1001);
    const dir = mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'));
    // dies on the GENERATE command itself: the card never saw it complete
    const dying = createYubiKeyBackend({
      source: () => ({
        cards: () =>
          Promise.resolve([
            {
              label: 'memory',
              transport: {
                transmit: (apdu: Buffer) => (apdu[1] === 0x47 ? Promise.reject(new Error('killed')) : c.transmit(apdu)),
              },
              release: () => Promise.resolve(c.resetSession()),
            },
          ]),
        close: () => Promise.resolve(),
      }),
      attestationRoots: [ca.cert.toString('pem')],
    });
    await expect(dying.generate!(request(dir), opts())).rejects.toThrow('killed');
    expect(journals(dir)).toEqual(['.tufsign-generate-yubikey-1001-9c.json']);
    expect(await backend(c).resumeGenerate!(request(dir), opts())).toBeUndefined();
    const made = await backend(c).generate!(request(dir), opts());
    expect(made.resumed).toBeUndefined();
    expect(made.journal).toBe(join(dir, '.tufsign-generate-yubikey-1001-9c.json'));
  });

  it('killed after the card made the key, before its answer was journalled: found, checked, management key asked', async () => {
    const c = card(1002);
    const dir = mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'));
    await expect(backend(c, 0x47).generate!(request(dir), opts())).rejects.toThrow('killed');
    const j = JSON.parse(readFileSync(join(dir, '.tufsign-generate-yubikey-1002-9c.json'), 'utf8'));
    expect(j.publicKey).toBeUndefined();
    const secrets = recordingSecrets([], MGMT);
    const again = await backend(c).resumeGenerate!(request(dir), opts(secrets));
    expect(again?.resumed).toBe(true);
    expect(again?.uri).toBe('yubikey:serial=1002;slot=9c');
    expect(again?.attestation?.['serial']).toBe(1002);
    expect(again?.publicKey.keyObject().export({ format: 'der', type: 'spki' }).toString('base64')).toBe(
      await slotSpki(c),
    );
    // the management key is the operator's proof for a key whose answer was never seen
    expect(secrets.asked.map((a) => a.kind)).toEqual(['management-key']);
    // re-run with other options: not this journal's request
    const other = await caught(backend(c).resumeGenerate!(request(dir, { touchPolicy: 'never' }), opts()));
    expect(other.code).toBe('SLOT_IN_USE');
    expect(other.file).toBe(join(dir, '.tufsign-generate-yubikey-1002-9c.json'));
  });

  it('killed after the answer was journalled (during attestation): the same key, no secret asked', async () => {
    const c = card(1003);
    const dir = mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'));
    await expect(backend(c, 0xf9).generate!(request(dir), opts())).rejects.toThrow('killed');
    const j = JSON.parse(readFileSync(join(dir, '.tufsign-generate-yubikey-1003-9c.json'), 'utf8'));
    expect(j.publicKey).toBe(await slotSpki(c));
    const secrets = recordingSecrets();
    const again = await backend(c).resumeGenerate!(request(dir), opts(secrets));
    expect(again?.resumed).toBe(true);
    expect(secrets.asked).toEqual([]);
  });

  it('a finished run: the public key file already holds the slot key, so the re-run reports it and makes nothing', async () => {
    const c = card(1004);
    const dir = mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'));
    const made = await backend(c).generate!(request(dir), opts());
    const again = await backend(c).resumeGenerate!(
      request(mkdtempSync(join(tmpdir(), 'tufsign-ykresume-')), { recordedKey: made.publicKey }),
      opts(recordingSecrets()),
    );
    expect(again).toMatchObject({ uri: made.uri, resumed: true });
    expect(again?.journal).toBeUndefined();
  });

  describe('someone else’s key is refused and kept (SLOT_IN_USE)', () => {
    const refused = async (c: PivCard, dir: string, extra: Partial<GenerateRequest> = {}) => {
      const before = await slotSpki(c);
      const e = await caught(backend(c).resumeGenerate!(request(dir, extra), opts()));
      expect(e.code).toBe('SLOT_IN_USE');
      expect(await slotSpki(c)).toBe(before);
      return e;
    };
    /** A journal as a run killed just after GENERATE leaves it (no public key recorded). */
    const journalOnly = (dir: string, serial: number, extra: Record<string, unknown> = {}) =>
      writeFileSync(
        join(dir, `.tufsign-generate-yubikey-${serial}-9c.json`),
        JSON.stringify({
          _type: 'tufsign-yubikey-generate',
          serial,
          slot: '9c',
          scheme: 'ecdsa-sha2-nistp256',
          pinPolicy: 'always',
          touchPolicy: 'always',
          started: '2026-11-27T00:00:00.000Z',
          ...extra,
        }),
      );

    it('no journal: a key generated by another run or tool', async () => {
      const c = card(2001);
      await backend(c).generate!(request(mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'))), opts());
      await refused(c, mkdtempSync(join(tmpdir(), 'tufsign-ykresume-')));
    });

    it('a journal without a public key, but the slot holds an imported key', async () => {
      const c = card(2002);
      c.importKey(0x9c, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 3, 2);
      const dir = mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'));
      journalOnly(dir, 2002);
      expect((await refused(c, dir)).message).toContain('imported');
    });

    it('a journal without a public key, but the key there has other policies or another algorithm', async () => {
      const c = card(2003);
      await backend(c).generate!(
        request(mkdtempSync(join(tmpdir(), 'tufsign-ykresume-')), { touchPolicy: 'never' }),
        opts(),
      );
      const dir = mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'));
      journalOnly(dir, 2003);
      expect((await refused(c, dir)).message).toContain('policies');
      journalOnly(dir, 2003, { scheme: 'rsassa-pss-sha256' });
      await refused(c, dir, { scheme: 'rsassa-pss-sha256' });
    });

    it('a journal whose public key is not the one in the slot', async () => {
      const c = card(2004);
      const other = card(2099);
      await backend(other).generate!(request(mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'))), opts());
      await backend(c).generate!(request(mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'))), opts());
      const dir = mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'));
      journalOnly(dir, 2004, { publicKey: await slotSpki(other) });
      expect((await refused(c, dir)).path).toBe('$.publicKey');
    });

    it('a journal tufsign did not write (wrong type, bad field, not JSON, a symlink) names the file and field', async () => {
      const c = card(2005);
      await backend(c).generate!(request(mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'))), opts());
      const dir = mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'));
      const path = join(dir, '.tufsign-generate-yubikey-2005-9c.json');
      journalOnly(dir, 2005, { _type: 'other' });
      expect(await refused(c, dir)).toMatchObject({ file: path, path: '$._type' });
      journalOnly(dir, 2005, { pinPolicy: 'sometimes' });
      expect(await refused(c, dir)).toMatchObject({ file: path, path: '$.pinPolicy' });
      writeFileSync(path, '{"_type": "tufsign-yubikey-generate", "serial": 2005,');
      expect(await refused(c, dir)).toMatchObject({ file: path, path: '$' });
      const real = join(dir, 'elsewhere.json');
      journalOnly(dir, 2005);
      writeFileSync(real, readFileSync(path));
      rmSync(path);
      symlinkSync(real, path);
      expect(await refused(c, dir)).toMatchObject({ file: path, path: '$' });
    });

    it('an empty slot with a stray journal: a fresh key, and the journal is rewritten as this run’s', async () => {
      const c = card(2006);
      const dir = mkdtempSync(join(tmpdir(), 'tufsign-ykresume-'));
      journalOnly(dir, 2006, { scheme: 'rsassa-pss-sha256', publicKey: 'AAAA' });
      expect(await backend(c).resumeGenerate!(request(dir), opts())).toBeUndefined();
      const made = await backend(c).generate!(request(dir), opts());
      const j = JSON.parse(readFileSync(join(dir, '.tufsign-generate-yubikey-2006-9c.json'), 'utf8'));
      expect(j).toMatchObject({ scheme: 'ecdsa-sha2-nistp256', publicKey: await slotSpki(c) });
      expect(made.resumed).toBeUndefined();
    });
  });
});
