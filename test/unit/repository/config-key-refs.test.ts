/**
 * tufsign.json key entries are parsed into KeyRefs once, when the config is read: the file's bytes round-trip
 * unchanged, a URI that does not parse keeps its error until its key is opened, and a secret in a URI is refused
 * at load as before.
 */
import { isTufsignError } from '../../../src/errors';
import {
  backendLabel,
  parseConfiguredKeyRef,
  usableKeyRef,
  type ConfiguredKeyRef,
} from '../../../src/keystore/key-ref';
import { parseConfig, serializeConfig } from '../../../src/repository/config';
import type { SigningContext } from '../../../src/repository/context';
import { openSignersFor } from '../../../src/repository/signing';
import { Role, Root, TOP_LEVEL_ROLES } from '../../../src/tuf/metadata';
import { testSigner } from '../../helpers/keys';
import { parseThreshold } from '../../../src/tuf/threshold';

function configBytes(keys: Record<string, unknown>): Uint8Array {
  const text = JSON.stringify(
    { format: 'tufsign-workspace', version: 1, name: 'unit', expiry: {}, min_validity: {}, keys },
    null,
    2,
  );
  return new TextEncoder().encode(text);
}

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isTufsignError(e) ? e.code : 'other';
  }
}

const HOSTILE: [string, string, string | undefined][] = [
  // text, its error code when used, the scheme it claims (for display)
  ['file:', 'KEY_URI_INVALID', 'file'],
  ['file:%zz', 'KEY_URI_INVALID', 'file'],
  ['file:a%00b', 'KEY_URI_INVALID', 'file'],
  ['yubikey:slot=zz', 'KEY_URI_INVALID', 'yubikey'],
  ['yubikey:serial=1e3;slot=9c', 'KEY_URI_INVALID', 'yubikey'],
  ['pkcs11:token=%zz', 'KEY_URI_INVALID', 'pkcs11'],
  ['pkcs11:token=a;token=b', 'KEY_URI_INVALID', 'pkcs11'],
  ['memory:root-1', 'KEY_URI_INVALID', undefined],
  ['', 'KEY_URI_INVALID', undefined],
  ['FILE:keys/a.pem', 'KEY_URI_INVALID', undefined],
  [`file:${'a/'.repeat(50_000)}k.pem`, 'ok', 'file'],
];

describe('parseConfiguredKeyRef: one parse at load, the error kept until the key is used', () => {
  test.each(HOSTILE)('%j', (text, code, scheme) => {
    const ref = parseConfiguredKeyRef(text);
    expect(ref.uri).toBe(text);
    expect(codeOf(() => usableKeyRef(ref))).toBe(code);
    expect(backendLabel(ref)).toBe(scheme ?? 'unknown');
  });

  test('valid URIs are KeyRefs, usable as they are', () => {
    for (const text of ['file:keys/root-1.pem', 'yubikey:serial=12345678;slot=9c', 'pkcs11:token=ci;object=targets']) {
      const ref = parseConfiguredKeyRef(text);
      expect(ref.backend).toBe(text.slice(0, text.indexOf(':')));
      expect(usableKeyRef(ref)).toBe(ref);
    }
  });
});

describe('tufsign.json keys: parsed at load, written back byte for byte', () => {
  const keys = {
    a: { uri: 'file:keys/my%20root.pem', owner: 'alice', offline: true },
    b: { uri: 'yubikey:serial=12345678;slot=9c' },
    c: { uri: 'pkcs11:token=ci;object=targets?module-path=/usr/lib/softhsm/libsofthsm2.so' },
    d: { uri: 'not-a-uri' },
    e: { owner: 'carol' },
  };

  test('entries carry KeyRefs; serializing gives the same bytes', () => {
    const once = serializeConfig(parseConfig(configBytes(keys), 'tufsign.json'));
    const config = parseConfig(new TextEncoder().encode(once), 'tufsign.json');
    expect(serializeConfig(config)).toBe(once);
    expect(config.keys.get('a')?.ref).toMatchObject({ backend: 'file', path: 'keys/my root.pem' });
    expect(config.keys.get('b')?.ref).toMatchObject({ backend: 'yubikey', serial: 12345678, slot: 0x9c });
    expect(config.keys.get('c')?.ref?.backend).toBe('pkcs11');
    expect(config.keys.get('d')?.ref?.backend).toBeUndefined();
    expect(config.keys.get('e')?.ref).toBeUndefined();
    expect(JSON.parse(once).keys).toEqual(keys);
  });

  test('a URI carrying a PIN is still refused when the config is read', () => {
    const bytes = configBytes({ a: { uri: 'pkcs11:token=ci;object=k?pin-value=1234' } });
    expect(codeOf(() => parseConfig(bytes, 'tufsign.json'))).toBe('SECRET_IN_ARGV');
  });

  test('a bad URI fails only the run that opens its key, with KEY_URI_INVALID', async () => {
    const good = testSigner('ed25519', 1);
    const bad = testSigner('ed25519', 2);
    const roles = new Map(TOP_LEVEL_ROLES.map((r) => [r, new Role([], parseThreshold(1))]));
    const root = new Root(1, new Date('2030-01-01T00:00:00Z'), new Map(), roles);
    root.addKey(good.publicKey, 'timestamp');
    root.addKey(bad.publicKey, 'snapshot');
    const config = parseConfig(
      configBytes({
        [good.publicKey.keyid()]: { uri: 'file:keys/good.pem' },
        [bad.publicKey.keyid()]: { uri: 'file:%zz' },
      }),
      'tufsign.json',
    );
    const opened: ConfiguredKeyRef[] = [];
    const ctx: SigningContext = {
      now: new Date(0),
      openSigner: (ref) => {
        opened.push(ref);
        try {
          usableKeyRef(ref);
        } catch (e) {
          return Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
        return Promise.resolve(good);
      },
    };
    await openSignersFor(root, ['timestamp'], config, ctx);
    expect(opened.map((r) => r.uri)).toEqual(['file:keys/good.pem']);
    const failed = await openSignersFor(root, ['snapshot'], config, ctx).then(
      () => 'ok',
      (e: unknown) => (isTufsignError(e) ? e.code : 'other'),
    );
    expect(failed).toBe('KEY_URI_INVALID');
  });
});
