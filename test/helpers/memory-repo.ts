/** In-process workspaces signed with TEST-ONLY seeded keys (no CLI, no key files): fast unit tests of repository use cases. */
import { join } from 'node:path';
import type { SigningContext } from '../../src/repository/context';
import { initRepository } from '../../src/repository/init';
import type { RoleKeySpec } from '../../src/repository/key-specs';
import { Workspace } from '../../src/repository/workspace';
import { parseConfiguredKeyRef } from '../../src/keystore/key-ref';
import { testSigner } from './keys';

export const MEMORY_NOW = new Date('2026-06-01T00:00:00Z');

/** A memory key (seeded ed25519) as a role key spec. */
export function memoryKey(n: number): RoleKeySpec {
  // The URI only names the key: memoryContext opens it in-process, nothing reads a registry.
  return { key: testSigner('ed25519', n).publicKey, ref: parseConfiguredKeyRef(`memory:ed25519-${n}`) };
}

export function memoryContext(now = MEMORY_NOW, opened: string[] = []): SigningContext {
  return {
    now,
    openSigner: ({ uri }) => {
      opened.push(uri);
      const n = Number(uri.split('-').pop());
      return Promise.resolve(testSigner('ed25519', n));
    },
  };
}

export async function memoryWorkspace(dir: string, consistentSnapshot = true): Promise<Workspace> {
  await initRepository(
    {
      dir: join(dir),
      name: 'unit',
      consistentSnapshot,
      expiry: {},
      roles: {
        root: { keys: [memoryKey(101)], threshold: 1 },
        targets: { keys: [memoryKey(102)], threshold: 1 },
        snapshot: { keys: [memoryKey(103)], threshold: 1 },
        timestamp: { keys: [memoryKey(104)], threshold: 1 },
      },
    },
    memoryContext(),
  );
  return Workspace.open(dir);
}
