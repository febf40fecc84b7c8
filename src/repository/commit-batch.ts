/**
 * Large commits (bulk `targets add`, thousands of bins) in the order
 * `commitFiles` gives — target and key files, then metadata, timestamp last —
 * each group written as one durable batch (`src/io/batch-write.ts`) before the
 * next starts, so a client never sees metadata whose files are not on disk.
 */
import { removeFilesQuietly, writeFilesAtomic } from '../io/batch-write';
import type { InMemoryFile } from './transaction';

/** From this many files on, one batch flush beats one fsync pair per file. */
export const BATCH_MIN_FILES = 64;

export function commitInBatches(
  ordered: readonly InMemoryFile[],
  rank: (path: string) => number,
  onProgress?: (done: number, total: number) => void,
): void {
  const groups = new Map<number, InMemoryFile[]>();
  for (const f of ordered) {
    const r = rank(f.path);
    const group = groups.get(r);
    if (group === undefined) groups.set(r, [f]);
    else group.push(f);
  }
  const created: string[] = [];
  let before = 0;
  try {
    for (const r of [...groups.keys()].sort((a, b) => a - b)) {
      const group = groups.get(r) ?? [];
      const offset = before;
      created.push(
        ...writeFilesAtomic(
          group.map((f) => (f.mode === undefined ? { path: f.path, data: f.data } : f)),
          onProgress === undefined ? undefined : (done) => onProgress(offset + done, ordered.length),
        ),
      );
      before += group.length;
    }
  } catch (e) {
    removeFilesQuietly(created);
    throw e;
  }
}
