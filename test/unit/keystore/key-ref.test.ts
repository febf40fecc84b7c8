/** KeyRef: one parser for every key URI, and the rule that a URI read from an input file never picks a device or library. */
import { isTufsignError, type ErrorCode } from '../../../src/errors';
import {
  keyFilePath,
  parseKeyRef,
  parseKeyRefOf,
  tryParseKeyRef,
  type KeyRef,
  type KeyRefOrigin,
} from '../../../src/keystore/key-ref';
import { openSigner } from '../../../src/keystore/registry';

function codeOf(text: string, origin?: KeyRefOrigin): ErrorCode | 'ok' | 'other' {
  try {
    parseKeyRef(text, origin);
    return 'ok';
  } catch (e) {
    return isTufsignError(e) ? e.code : 'other';
  }
}

describe('parseKeyRef: valid URIs become typed references', () => {
  test('file: relative, absolute, percent-encoded and file:/// forms', () => {
    const rel = parseKeyRef('file:keys/root-1.pem');
    expect(rel).toMatchObject({ backend: 'file', uri: 'file:keys/root-1.pem', path: 'keys/root-1.pem' });
    expect(keyFilePath(parseKeyRefOf('file', 'file:keys/root-1.pem'), '/ws')).toBe('/ws/keys/root-1.pem');
    expect(keyFilePath(parseKeyRefOf('file', 'file:///etc/k.pem'), '/ws')).toBe('/etc/k.pem');
    expect(parseKeyRef('file:keys/my%20key.pem')).toMatchObject({ path: 'keys/my key.pem' });
  });

  test('pkcs11: carries the RFC 7512 attributes, parsed once', () => {
    const ref = parseKeyRef('pkcs11:token=ci;object=targets;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so');
    expect(ref.backend).toBe('pkcs11');
    if (ref.backend !== 'pkcs11') return;
    expect(ref.pkcs11).toMatchObject({ token: 'ci', object: 'targets', modulePath: '/usr/lib/softhsm/libsofthsm2.so' });
    expect(Buffer.from(ref.pkcs11.id ?? []).toString('hex')).toBe('01');
  });

  test('yubikey: serial and slot, serial optional', () => {
    expect(parseKeyRef('yubikey:serial=12345678;slot=9c')).toMatchObject({
      backend: 'yubikey',
      serial: 12345678,
      slot: 0x9c,
    });
    expect(parseKeyRef('yubikey:slot=9a')).toMatchObject({ backend: 'yubikey', serial: undefined, slot: 0x9a });
  });

  test('a plain string cannot be used where a KeyRef is wanted', () => {
    // @ts-expect-error: only parseKeyRef makes a KeyRef (checked by npm run typecheck)
    const forged: KeyRef = { backend: 'file', uri: 'file:x', path: 'x' };
    expect(forged.backend).toBe('file');
  });
});

describe('parseKeyRef: invalid URIs are refused with a code', () => {
  test.each([
    ['memory:root-1', 'KEY_URI_INVALID'],
    ['', 'KEY_URI_INVALID'],
    ['keys/root.pem', 'KEY_URI_INVALID'],
    ['FILE:keys/root.pem', 'KEY_URI_INVALID'],
    ['file:', 'KEY_URI_INVALID'],
    ['file:keys/%zz.pem', 'KEY_URI_INVALID'],
    ['file:keys/%00.pem', 'KEY_URI_INVALID'],
    ['pkcs11:token=a;token=b', 'KEY_URI_INVALID'],
    ['pkcs11:tokn=a', 'KEY_URI_INVALID'],
    ['pkcs11:token=a?pin-value=1234', 'SECRET_IN_ARGV'],
    ['yubikey:serial=12', 'KEY_URI_INVALID'],
    ['yubikey:serial=x;slot=9c', 'KEY_URI_INVALID'],
    ['yubikey:slot=9b', 'KEY_URI_INVALID'],
  ] as const)('%s → %s', (text, code) => {
    expect(codeOf(text)).toBe(code);
    expect(tryParseKeyRef(text)).toBeUndefined();
  });

  test('parseKeyRefOf refuses another backend', () => {
    expect(() => parseKeyRefOf('pkcs11', 'file:keys/a.pem')).toThrow(
      expect.objectContaining({ code: 'KEY_URI_INVALID' }) as Error,
    );
  });

  test('the library entry rejects (never throws synchronously) on bad text', async () => {
    await expect(
      openSigner('memory:root-1', {
        secrets: { getSecret: () => Promise.reject(new Error('no')) },
        baseDir: '/',
        env: {},
      }),
    ).rejects.toMatchObject({
      code: 'KEY_URI_INVALID',
    });
  });
});

describe("parseKeyRef(…, 'input'): nothing from an input file chooses a library, a device or a file elsewhere (#9)", () => {
  test.each([
    // a module path or name would dlopen code on this machine
    'pkcs11:token=ci;object=targets?module-path=/media/usb/evil.so',
    'pkcs11:token=ci;object=targets?module-name=evil',
    // a pin-source would read a file of the attacker's choosing
    'pkcs11:token=ci;object=targets?pin-source=file:/etc/shadow',
    // even a bare token URI would open a device
    'pkcs11:token=ci;object=targets',
    'yubikey:serial=12345678;slot=9c',
    // key files outside the folder they are resolved against
    'file:/etc/ssh/ssh_host_ed25519_key',
    'file:///home/user/.ssh/id_ed25519',
    'file:../outside.pem',
    'file:keys/../../outside.pem',
    'file:keys/%2e%2e/%2e%2e/outside.pem',
    'file:keys\\..\\..\\outside.pem',
  ])('%s is refused', (text) => {
    expect(codeOf(text, 'input')).toBe('KEY_URI_INVALID');
    // the same text typed by this machine's operator is a valid reference
    expect(codeOf(text, 'operator')).toBe('ok');
  });

  test('a relative key file inside the workspace is accepted', () => {
    expect(parseKeyRef('file:keys/targets-2.pem', 'input')).toMatchObject({
      backend: 'file',
      path: 'keys/targets-2.pem',
    });
  });
});
