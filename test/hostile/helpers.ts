/** Small signed repositories (non-consistent layout) for the hostile-input suites. */
import { createHash } from 'node:crypto';
import { stringifyPretty } from '../../src/tuf/json';
import { Metadata, MetaFile } from '../../src/tuf/metadata';
import { signWith, type TestRepo } from '../helpers/repo';

export const text = (md: Metadata): Buffer => Buffer.from(stringifyPretty(md.toJSON()));

/** Re-sign every role of `repo` and return its published files (`metadata/…`, `targets/hello.txt`, plus `extra`). */
export async function publish(
  repo: TestRepo,
  extra: Record<string, Uint8Array> = {},
): Promise<Record<string, Uint8Array>> {
  repo.root.signed.consistentSnapshot = false;
  repo.root.clearSignatures();
  await signWith(repo.root, repo.signers.root);
  repo.targets.clearSignatures();
  await signWith(repo.targets, [repo.signers.targets]);
  repo.snapshot.clearSignatures();
  await signWith(repo.snapshot, [repo.signers.snapshot]);
  const snapBytes = text(repo.snapshot);
  repo.timestamp.signed.snapshotMeta = new MetaFile(
    1,
    snapBytes.length,
    new Map([['sha256', createHash('sha256').update(snapBytes).digest('hex')]]),
  );
  repo.timestamp.clearSignatures();
  await signWith(repo.timestamp, [repo.signers.timestamp]);
  return {
    'metadata/1.root.json': text(repo.root),
    'metadata/timestamp.json': text(repo.timestamp),
    'metadata/snapshot.json': snapBytes,
    'metadata/targets.json': text(repo.targets),
    'targets/hello.txt': Buffer.from('hello\n'),
    ...extra,
  };
}
