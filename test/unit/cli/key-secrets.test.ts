/**
 * Which secret an offline key may use (ADR 0011): a key FILE marked offline never takes the online secret and,
 * with nobody at a terminal, stops before it is opened; a device key marked offline (root on a YubiKey or a token,
 * the default since root is offline) asks for its PIN through the usual sources.
 */
import { secretsForKey, OFFLINE_PASSPHRASE_ENV } from '../../../src/cli/key-secrets';
import type { Prompter } from '../../../src/cli/prompter';
import type { SecretRequest, SecretsHandler } from '../../../src/keystore/signer';
import { TufsignError } from '../../../src/errors';

const noTerminal: Prompter = {
  interactive: false,
  secret: () => Promise.reject(new Error('no prompt expected')),
  confirm: () => Promise.reject(new Error('no prompt expected')),
  input: () => Promise.reject(new Error('no prompt expected')),
  select: () => Promise.reject(new Error('no prompt expected')),
};

/** The online handler: records what it was asked for and answers with a marker per kind. */
function onlineHandler(): SecretsHandler & { asked: SecretRequest[] } {
  const asked: SecretRequest[] = [];
  return {
    asked,
    getSecret(req) {
      asked.push(req);
      return Promise.resolve(Buffer.from(`online-${req.kind}`));
    },
  };
}

const KEYID = 'ab'.repeat(32);

function context(uri: string, env: NodeJS.ProcessEnv, base: SecretsHandler) {
  return {
    keyid: KEYID,
    role: 'root',
    uri,
    entry: { uri, offline: true },
    perKey: [],
    env,
    prompter: noTerminal,
    base,
  };
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof TufsignError ? e.code : 'not a TufsignError';
  }
  return undefined;
}

describe('secrets of offline keys', () => {
  test('an offline key file without its own secret and without a terminal stops before it is opened', () => {
    const base = onlineHandler();
    expect(codeOf(() => secretsForKey(context('file:offline-keys/root-1.pem', {}, base)))).toBe(
      'OFFLINE_KEY_UNAVAILABLE',
    );
    expect(base.asked).toHaveLength(0);
  });

  test('an offline key file takes the offline passphrase, never the online one', async () => {
    const base = onlineHandler();
    const h = secretsForKey(context('file:offline-keys/root-1.pem', { [OFFLINE_PASSPHRASE_ENV]: 'offline-pw' }, base));
    const got = await h.getSecret({ kind: 'passphrase', label: 'file:offline-keys/root-1.pem' });
    expect(got.toString()).toBe('offline-pw');
    expect(base.asked).toHaveLength(0);
  });

  test.each(['yubikey:serial=12345678;slot=9c', 'pkcs11:token=root;object=root-1'])(
    'an offline device key (%s) asks for its PIN through the usual sources',
    async (uri) => {
      const base = onlineHandler();
      const h = secretsForKey(context(uri, {}, base));
      const pin = await h.getSecret({ kind: 'pin', label: uri });
      expect(pin.toString()).toBe('online-pin');
      expect(base.asked.map((r) => r.kind)).toEqual(['pin']);
    },
  );
});
