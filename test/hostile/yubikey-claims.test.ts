/**
 * A YubiKey public key file is checked claim by claim against its certificates (#11, ADR 0004):
 * every edited field is refused by code and named; claims without certificates, or under a CA
 * tufsign does not trust, are kept and shown only as "unattested claims". Real device chains
 * (test/fixtures/yubikey-attestation, copied from shared/test-vectors) so the trust decisions are Yubico's own.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTufsignError, type TufsignError } from '../../src/errors';
import { parsePublicKeyFile, serializePublicKeyFile, type PublicKeyFile } from '../../src/keystore/public-key-file';
import { attestationToJson, verifyAttestationSync } from '../../src/keystore/yubikey/attestation';
import {
  ATTESTATION_FIELDS,
  assessKeyFileAttestation,
  checkKeyPolicy,
  ROOT_KEY_POLICY,
  verifyPublicKeyFileAttestation,
  viewAttestation,
} from '../../src/keystore/yubikey/claims';
import { resolveKeySpec } from '../../src/repository/key-specs';
import { keyholderOf } from '../../src/repository/requests';
import type { JsonObject } from '../../src/tuf/json';
import { keyFromPublicKeyObject } from '../../src/tuf/key';

const VECTORS = join(__dirname, '../fixtures/yubikey-attestation');
const dev = (serial: string, file: string): string =>
  readFileSync(join(VECTORS, 'devices', serial, `${serial}_${file}.pem`), 'utf8');
const NOW = new Date('2026-11-27T00:00:00Z');
const SERIAL = '18158855'; // firmware 5.4.3, slot 9c, PIN always, touch always, usb-a-keychain

function genuine(serial = SERIAL): PublicKeyFile {
  const facts = verifyAttestationSync({ keyCert: dev(serial, 'key_cert'), deviceCert: dev(serial, 'device_cert') });
  const key = keyFromPublicKeyObject(createPublicKey(dev(serial, 'pubkey')), 'ecdsa-sha2-nistp256');
  return {
    key,
    keyid: key.keyid(),
    uri: `yubikey:serial=${serial};slot=${facts.slot ?? '9c'}`,
    attestation: attestationToJson(facts),
  };
}

function caught(f: () => unknown): TufsignError {
  try {
    f();
  } catch (e) {
    if (isTufsignError(e)) return e;
    throw e;
  }
  throw new Error('expected a TufsignError');
}

const edit = (file: PublicKeyFile, field: string, value: unknown): PublicKeyFile => ({
  ...file,
  attestation: { ...file.attestation, [field]: value } as JsonObject,
});

describe('every claim of a YubiKey key file is checked against its certificates', () => {
  it('the genuine file (as key generate wrote it) is attested', () => {
    const a = assessKeyFileAttestation(genuine(), { now: NOW });
    expect(a?.status).toBe('attested');
    expect(attestationToJson((a as { facts: Parameters<typeof attestationToJson>[0] }).facts)).toEqual(
      genuine().attestation,
    );
  });

  // each edit is plausible on its own: the kind of value the field holds, but not what the certificate says
  const EDITS: [string, unknown][] = [
    ['serial', 99999999],
    ['slot', '9a'],
    ['firmware', '5.7.4'],
    ['formFactor', 'usb-c-nano'],
    ['pinPolicy', 'never'],
    ['touchPolicy', 'never'],
    ['root', 'CN=Yubico Attestation Root 1'],
    ['rootSha256', 'ab'.repeat(32)],
  ];
  it.each(EDITS)('an edited %s is refused with ATTESTATION_CLAIM_MISMATCH naming the field', (field, value) => {
    const e = caught(() => assessKeyFileAttestation(edit(genuine(), field, value), { now: NOW }));
    expect(e.code).toBe('ATTESTATION_CLAIM_MISMATCH');
    expect(e.details?.['field']).toBe(field);
    expect(e.path).toBe(`$.attestation.${field}`);
  });

  it('every field tufsign writes is covered by an edit test (certificates aside)', () => {
    const covered = new Set([...EDITS.map(([f]) => f), 'type', 'keyCert', 'deviceCert']);
    expect([...ATTESTATION_FIELDS].filter((f) => !covered.has(f))).toEqual([]);
  });

  it("the URI's serial and slot must be the attested ones", () => {
    for (const uri of ['yubikey:serial=18158856;slot=9c', 'yubikey:serial=18158855;slot=9a']) {
      const e = caught(() => assessKeyFileAttestation({ ...genuine(), uri }, { now: NOW }));
      expect(e.code).toBe('ATTESTATION_CLAIM_MISMATCH');
      expect(e.path).toBe('$.uri');
    }
  });

  it('another public key under this attestation is refused (field "key")', () => {
    const other = keyFromPublicKeyObject(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
      'ecdsa-sha2-nistp256',
    );
    const e = caught(() => assessKeyFileAttestation({ ...genuine(), key: other }, { now: NOW }));
    expect(e.code).toBe('ATTESTATION_CLAIM_MISMATCH');
    expect(e.details?.['field']).toBe('key');
  });

  it("another device's certificates under this file's claims are refused", () => {
    const foreign = genuine('15938791').attestation as JsonObject;
    const file = { ...genuine(), attestation: { ...genuine().attestation, keyCert: foreign['keyCert'] } as JsonObject };
    expect(caught(() => assessKeyFileAttestation(file, { now: NOW })).code).toBe('ATTESTATION_INVALID');
    const both = {
      ...genuine(),
      attestation: {
        ...genuine().attestation,
        keyCert: foreign['keyCert'],
        deviceCert: foreign['deviceCert'],
      } as JsonObject,
    };
    expect(caught(() => assessKeyFileAttestation(both, { now: NOW })).code).toBe('ATTESTATION_CLAIM_MISMATCH');
  });

  it('unknown fields, wrong types and a lone certificate are refused (a claim nobody can check is not kept)', () => {
    expect(caught(() => assessKeyFileAttestation(edit(genuine(), 'verified', true), { now: NOW })).code).toBe(
      'ATTESTATION_INVALID',
    );
    expect(caught(() => assessKeyFileAttestation(edit(genuine(), 'serial', '18158855'), { now: NOW })).code).toBe(
      'ATTESTATION_INVALID',
    );
    expect(caught(() => assessKeyFileAttestation(edit(genuine(), 'type', 'tpm'), { now: NOW })).code).toBe(
      'ATTESTATION_INVALID',
    );
    expect(caught(() => assessKeyFileAttestation(edit(genuine(), 'deviceCert', undefined), { now: NOW })).path).toBe(
      '$.attestation.deviceCert',
    );
  });

  it('certificate validity dates are checked at the given instant (expired, not yet valid)', () => {
    for (const now of [new Date('2053-01-01T00:00:00Z'), new Date('2015-01-01T00:00:00Z')]) {
      expect(caught(() => assessKeyFileAttestation(genuine(), { now })).code).toBe('ATTESTATION_EXPIRED');
    }
  });
});

describe('claims without proof are only ever "unattested claims"', () => {
  const claimsOnly = (): PublicKeyFile => {
    const g = genuine();
    const att = { ...g.attestation };
    delete att['keyCert'];
    delete att['deviceCert'];
    return { ...g, attestation: att };
  };

  it('a file with claims but no certificates: unattested, never meets the root-key policy', () => {
    const a = assessKeyFileAttestation(claimsOnly(), { now: NOW });
    expect(a?.status).toBe('unattested-claims');
    expect(checkKeyPolicy(claimsOnly(), ROOT_KEY_POLICY, NOW).ok).toBe(false);
    expect(caught(() => verifyPublicKeyFileAttestation(claimsOnly(), { now: NOW })).code).toBe('ATTESTATION_INVALID');
  });

  it('a chain to a CA tufsign does not trust: unattested here, ATTESTATION_UNTRUSTED for key attest', () => {
    const trust = { roots: [readFileSync(join(VECTORS, 'ca', 'yubico-attestation-root-1.pem'), 'utf8')], now: NOW };
    expect(assessKeyFileAttestation(genuine(), trust)?.status).toBe('unattested-claims');
    expect(caught(() => verifyPublicKeyFileAttestation(genuine(), trust)).code).toBe('ATTESTATION_UNTRUSTED');
  });

  it('claims-only files still cannot contradict their own URI', () => {
    const e = caught(() =>
      assessKeyFileAttestation({ ...claimsOnly(), uri: 'yubikey:serial=18158855;slot=9a' }, { now: NOW }),
    );
    expect(e.code).toBe('ATTESTATION_CLAIM_MISMATCH');
  });

  it('tufsign.json keeps the bare claims, and every view shows them as unattested claims, not as the device', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tufsign-claims-'));
    const path = join(dir, 'claims.pub.json');
    writeFileSync(
      path,
      serializePublicKeyFile({
        ...claimsOnly(),
        uri: undefined,
        attestation: { ...claimsOnly().attestation, serial: 99999999 },
      }),
    );
    const spec = await resolveKeySpec(path, {
      secrets: { getSecret: () => Promise.reject(new Error('no')) },
      baseDir: dir,
      env: {},
      now: NOW,
    });
    expect(spec.attestation?.['keyCert']).toBeUndefined();
    const kh = keyholderOf({ attestation: spec.attestation as JsonObject });
    expect(kh.attestation).toMatch(/^unattested claims: /);
    // an unattested serial never becomes the keyholder's device serial
    expect(kh.serial).toBeUndefined();
    expect(viewAttestation(spec.attestation)?.status).toBe('unattested-claims');
  });

  it('an attested key file is stored as verified facts and shown as attested with its device serial', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tufsign-claims-'));
    const path = join(dir, 'genuine.pub.json');
    writeFileSync(path, serializePublicKeyFile(genuine()));
    expect(parsePublicKeyFile(readFileSync(path), path).attestation).toEqual(genuine().attestation);
    const spec = await resolveKeySpec(path, {
      secrets: { getSecret: () => Promise.reject(new Error('no')) },
      baseDir: dir,
      env: {},
      now: NOW,
    });
    const kh = keyholderOf({ attestation: spec.attestation as JsonObject });
    expect(kh.attestation).toMatch(/^attested yubikey-piv: serial 18158855, firmware 5\.4\.3, slot 9c/);
    expect(kh.serial).toBe(SERIAL);
    // a tufsign.json edited afterwards falls back to "unattested claims"
    const tampered = { ...(spec.attestation as JsonObject), slot: '9a' };
    expect(keyholderOf({ attestation: tampered }).attestation).toMatch(/^unattested claims/);
  });

  it('an edited key file is refused where key files are read (init, rotation), naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tufsign-claims-'));
    const path = join(dir, 'edited.pub.json');
    writeFileSync(path, serializePublicKeyFile(edit(genuine(), 'slot', '9a')));
    let err: unknown;
    try {
      await resolveKeySpec(path, {
        secrets: { getSecret: () => Promise.reject(new Error('no')) },
        baseDir: dir,
        env: {},
        now: NOW,
      });
    } catch (e) {
      err = e;
    }
    expect(isTufsignError(err) && err.code).toBe('ATTESTATION_CLAIM_MISMATCH');
    expect(isTufsignError(err) && err.file).toBe(path);
  });
});
