/**
 * YubiKey public key files through the built CLI (#11): `key attest` and `init --require-attested-root-keys`
 * refuse edited claims by code (every field is covered in test/hostile/yubikey-claims.test.ts), `key attest` takes the raw certificates an auditor holds and checks
 * their validity dates at TUFSIGN_NOW, and claims without certificates are shown as "unattested claims" in
 * `key list`, `status` and signing requests. Real YubiKey chains from test/fixtures/yubikey-attestation (no card needed).
 * Needs `npm run build` first.
 */
import { createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializePublicKeyFile, type PublicKeyFile } from '../../src/keystore/public-key-file';
import { attestationToJson, verifyAttestationSync } from '../../src/keystore/yubikey/attestation';
import type { JsonObject } from '../../src/tuf/json';
import { keyFromPublicKeyObject } from '../../src/tuf/key';
import { ROOT, runCli } from '../helpers/cli';

const DEVICE = join(__dirname, '../fixtures/yubikey-attestation/devices/18158855/18158855_');
const NOW = '2026-11-27T00:00:00Z';

describe('YubiKey key files through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tufsign-ykfiles-'));
  const run = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { cwd: dir, env: { TUFSIGN_NOW: NOW, ...env } });
  let genuine: PublicKeyFile;

  const write = (name: string, f: PublicKeyFile): string => {
    writeFileSync(join(dir, name), serializePublicKeyFile(f));
    return name;
  };
  const edited = (field: string, value: unknown): PublicKeyFile => ({
    ...genuine,
    attestation: { ...genuine.attestation, [field]: value } as JsonObject,
  });

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'commands'))) throw new Error('run `npm run build` first');
    const facts = verifyAttestationSync({
      keyCert: readFileSync(`${DEVICE}key_cert.pem`),
      deviceCert: readFileSync(`${DEVICE}device_cert.pem`),
    });
    const key = keyFromPublicKeyObject(createPublicKey(readFileSync(`${DEVICE}pubkey.pem`)), 'ecdsa-sha2-nistp256');
    genuine = {
      key,
      keyid: key.keyid(),
      uri: 'yubikey:serial=18158855;slot=9c',
      attestation: attestationToJson(facts),
    };
  });

  it('key attest accepts the genuine file and refuses each edited claim, naming the field', () => {
    expect(run(['key', 'attest', write('genuine.pub.json', genuine), '--policy', 'root', '--json']).status).toBe(0);
    const cases: [string, PublicKeyFile, string][] = [
      ['slot', edited('slot', '9a'), '$.attestation.slot'],
      ['root', edited('root', 'CN=Yubico Attestation Root 1'), '$.attestation.root'],
      ['uri', { ...genuine, uri: 'yubikey:serial=18158855;slot=9a' }, '$.uri'],
    ];
    for (const [name, file, path] of cases) {
      const r = run(['key', 'attest', write(`${name}.pub.json`, file), '--json']);
      expect(r.status).toBe(5);
      expect(r.json().error).toMatchObject({ code: 'ATTESTATION_CLAIM_MISMATCH', path, file: `${name}.pub.json` });
    }
  });

  it('key attest --key-cert/--device-cert: the raw certificates, the serial, and the validity dates', () => {
    const certs = ['--key-cert', `${DEVICE}key_cert.pem`, '--device-cert', `${DEVICE}device_cert.pem`];
    const ok = run(['key', 'attest', ...certs, '--serial', '18158855', '--json']);
    expect(ok.status).toBe(0);
    expect(ok.json()).toMatchObject({
      ok: true,
      keyid: genuine.keyid,
      facts: { serial: 18158855, slot: '9c', touchPolicy: 'always' },
    });
    expect(ok.json().chain).toEqual([
      'CN=YubiKey PIV Attestation 9c',
      'CN=Yubico PIV Attestation',
      'CN=Yubico PIV Root CA Serial 263751',
    ]);
    expect(run(['key', 'attest', ...certs, '--serial', '18158856', '--json']).json().error.code).toBe(
      'ATTESTATION_CLAIM_MISMATCH',
    );
    const late = run(['key', 'attest', ...certs, '--json'], { TUFSIGN_NOW: '2053-01-01T00:00:00Z' });
    expect(late.status).toBe(5);
    expect(late.json().error.code).toBe('ATTESTATION_EXPIRED');
  });

  it('init --require-attested-root-keys refuses an edited key file before anything is written', () => {
    const r = run([
      'init',
      'policy-repo',
      '--root-key',
      write('slot.pub.json', edited('slot', '9a')),
      '--require-attested-root-keys',
      '--yes',
      '--json',
    ]);
    expect(r.status).toBe(5);
    expect(r.json().error).toMatchObject({ code: 'ATTESTATION_CLAIM_MISMATCH', path: '$.attestation.slot' });
    expect(existsSync(join(dir, 'policy-repo'))).toBe(false);
  });

  it('claims without certificates are "unattested claims" in key list, status and the signing request', () => {
    const att = { ...genuine.attestation, serial: 99999999 } as JsonObject;
    delete att['keyCert'];
    delete att['deviceCert'];
    const claims = write('claims.pub.json', { key: genuine.key, keyid: genuine.keyid, attestation: att });
    expect(run(['init', 'ws', '--yes', '--json']).status).toBe(0);
    // threshold 2: the new key must sign, so a signing request names it
    const rot = run(['root', 'rotate', '-w', 'ws', '--add-key', claims, '--threshold', '2', '--yes', '--json']);
    expect(rot.status).toBe(0);
    const req = JSON.parse(readFileSync(join(dir, 'ws', 'root-v2.tufsign-request.json'), 'utf8')) as {
      keyholders: Record<string, { attestation?: string; serial?: string }>;
    };
    expect(req.keyholders[genuine.keyid]?.attestation).toMatch(/^unattested claims: serial 99999999/);
    expect(req.keyholders[genuine.keyid]?.serial).toBeUndefined();
    // threshold 1: applied at once; the key is in root, shown as unattested
    expect(run(['root', 'rotate', '-w', 'ws', '--add-key', claims, '--yes', '--json']).status).toBe(0);
    const list = run(['key', 'list', '-w', 'ws', '--json']).json() as {
      keys: { keyid: string; attestation: { status: string; summary: string } | null }[];
    };
    expect(list.keys.find((k) => k.keyid === genuine.keyid)?.attestation?.status).toBe('unattested-claims');
    expect(list.keys.filter((k) => k.attestation?.status === 'attested')).toEqual([]);
    const status = run(['status', 'ws', '--json']).json() as {
      roles: { role: string; keys: { keyid: string; attestation: string | null }[] }[];
    };
    const rootKeys = status.roles.find((r) => r.role === 'root')?.keys ?? [];
    expect(rootKeys.find((k) => k.keyid === genuine.keyid)?.attestation).toBe('unattested-claims');
  });

  it('under the root-key policy, a root key of another backend is refused at signing; nothing is written', () => {
    expect(run(['init', 'filekeys', '--yes', '--json']).status).toBe(0);
    const configPath = join(dir, 'filekeys', 'tufsign.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    config['root_key_policy'] = { require_attested_touch_always: true, attestation_roots: [] };
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const r = run(['sign', 'root', '--bump', '-w', 'filekeys', '--json']);
    expect(r.status).toBe(5);
    expect(r.json().error.code).toBe('POLICY_VIOLATION');
    expect(existsSync(join(dir, 'filekeys', 'metadata', '2.root.json'))).toBe(false);
  });
});
