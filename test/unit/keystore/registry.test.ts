import { TufsignError } from '../../../src/errors';
import { parseKeyRef } from '../../../src/keystore/key-ref';
import { BACKENDS } from '../../../src/keystore/registry';
import { backendOfUri } from '../../../src/keystore/signer';

describe('key backend registry', () => {
  it('ships exactly the file, pkcs11 and yubikey backends', () => {
    expect(Object.keys(BACKENDS).sort()).toEqual(['file', 'pkcs11', 'yubikey']);
    expect(backendOfUri('file:keys/a.pem')).toBe('file');
    expect(backendOfUri('yubikey:serial=1;slot=9c')).toBe('yubikey');
  });

  it('refuses a memory: URI: in-process keys exist only in tests, never in a shipped configuration', () => {
    expect(backendOfUri('memory:root-1')).toBeUndefined();
    let err: unknown;
    try {
      parseKeyRef('memory:root-1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TufsignError);
    expect((err as TufsignError).code).toBe('KEY_URI_INVALID');
  });
});
