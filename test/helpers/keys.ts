/** TEST-ONLY deterministic keys (ed25519 from fixed seeds; ECDSA/RSA generated once per process). */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { PrivateKeySigner } from '../../src/keystore/file';
import type { Scheme } from '../../src/tuf/key';

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function ed25519FromSeed(seed: number): KeyObject {
  const raw = Buffer.alloc(32, seed);
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

const cache = new Map<string, KeyObject>();
export function testKey(scheme: Scheme, n: number): KeyObject {
  const id = `${scheme}:${n}`;
  let k = cache.get(id);
  if (k === undefined) {
    if (scheme === 'ed25519') k = ed25519FromSeed(n);
    else if (scheme === 'ecdsa-sha2-nistp256') k = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    else k = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    cache.set(id, k);
  }
  return k;
}

export function testSigner(scheme: Scheme, n: number): PrivateKeySigner {
  return new PrivateKeySigner(`memory:${scheme}-${n}`, testKey(scheme, n), scheme);
}
