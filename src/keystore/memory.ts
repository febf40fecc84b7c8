/** `memory:` keys for tests: private keys registered in-process, never on disk. */
import type { KeyObject } from 'node:crypto';
import { TufsignError } from '../errors';
import type { KeyBackend } from './backend';
import { PrivateKeySigner } from './file';

const registry = new Map<string, KeyObject>();

export function registerMemoryKey(name: string, privateKey: KeyObject): string {
  registry.set(name, privateKey);
  return `memory:${name}`;
}

export const memoryBackend: KeyBackend = {
  open(uri) {
    const key = registry.get(uri.slice('memory:'.length));
    if (key === undefined) return Promise.reject(new TufsignError('KEY_NOT_FOUND', `no in-memory key ${uri}`, { rule: 'memory keys exist only in tests' }));
    return Promise.resolve(new PrivateKeySigner(uri, key));
  },
};
