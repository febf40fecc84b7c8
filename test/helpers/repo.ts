/** Build small signed repositories in memory for unit tests (fixed clock, deterministic ed25519 keys). */
import {
  Metadata,
  MetaFile,
  Role,
  Root,
  Signature,
  Snapshot,
  Targets,
  Timestamp,
  TargetFile,
  type Signed,
} from '../../src/tuf/metadata';
import type { PrivateKeySigner } from '../../src/keystore/file';
import { testSigner } from './keys';
import { parseThreshold } from '../../src/tuf/threshold';

export const NOW = new Date('2026-01-01T00:00:00Z');
export const LATER = new Date('2027-01-01T00:00:00Z');

export async function signWith<T extends Signed>(md: Metadata<T>, signers: PrivateKeySigner[]): Promise<Metadata<T>> {
  for (const s of signers) {
    const { keyid, signature } = await s.sign(md.signedBytes());
    md.addSignature(new Signature(keyid, Buffer.from(signature).toString('hex')));
  }
  return md;
}

export interface TestRepo {
  root: Metadata<Root>;
  targets: Metadata<Targets>;
  snapshot: Metadata<Snapshot>;
  timestamp: Metadata<Timestamp>;
  signers: {
    root: PrivateKeySigner[];
    targets: PrivateKeySigner;
    snapshot: PrivateKeySigner;
    timestamp: PrivateKeySigner;
  };
}

export async function buildTestRepo(rootKeys = 1, rootThreshold = 1): Promise<TestRepo> {
  const rootSigners = Array.from({ length: rootKeys }, (_, i) => testSigner('ed25519', 10 + i));
  const targets = testSigner('ed25519', 2);
  const snapshot = testSigner('ed25519', 3);
  const timestamp = testSigner('ed25519', 4);
  const root = new Root(
    1,
    LATER,
    new Map(),
    new Map([
      ['root', new Role([], parseThreshold(rootThreshold))],
      ['targets', new Role([], parseThreshold(1))],
      ['snapshot', new Role([], parseThreshold(1))],
      ['timestamp', new Role([], parseThreshold(1))],
    ]),
  );
  for (const s of rootSigners) root.addKey(s.publicKey, 'root');
  root.addKey(targets.publicKey, 'targets');
  root.addKey(snapshot.publicKey, 'snapshot');
  root.addKey(timestamp.publicKey, 'timestamp');
  const t = new Targets(1, LATER, new Map([['hello.txt', TargetFile.fromData(Buffer.from('hello\n'))]]));
  return {
    root: await signWith(new Metadata(root), rootSigners),
    targets: await signWith(new Metadata(t), [targets]),
    snapshot: await signWith(new Metadata(new Snapshot(1, LATER, new Map([['targets.json', new MetaFile(1)]]))), [
      snapshot,
    ]),
    timestamp: await signWith(new Metadata(new Timestamp(1, LATER, new MetaFile(1))), [timestamp]),
    signers: { root: rootSigners, targets, snapshot, timestamp },
  };
}

/** Deep-copy a metadata JSON object into plain mutable objects. */
export function mutableJson(md: Metadata): any {
  return JSON.parse(JSON.stringify(md.toJSON()));
}
