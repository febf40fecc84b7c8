/**
 * The jobs a worker thread runs, also run in this thread when there is no
 * worker (one thread, or a worker failed). Each result is a function of the
 * task alone, so the patch never depends on which thread ran what.
 * Imports only import-free modules, so the worker entry stays small.
 */
import { buildIndex, diffRange, reusing, type HashIndex } from './match';
import { bzip2Block, bzip2Rle1Block, type Bzip2Block, type Rle1Block } from './bzip2';

export type Task =
  /** Build the hash index of `text` in shared memory (in `into` when it is large enough), for the chunks of a large job. */
  | { kind: 'index'; text: Uint8Array; into?: Int32Array | undefined }
  /** bsdiff's loop over nw[from, to) against old; `index` is built here when not given (small jobs). */
  | {
      kind: 'diff';
      old: Uint8Array;
      index: HashIndex | null;
      nw: Uint8Array;
      from: number;
      to: number;
      /** A member against its previous version: skip lookups where the alignment holds (match.ts). */
      skipGaps: boolean;
    }
  /** One bzip2 block of data[from, to). */
  | { kind: 'bzip2'; data: Uint8Array; from: number; to: number }
  /** One bzip2 block already through its initial run-length coding (bzip2.ts Rle1Stream). */
  | { kind: 'bzip2-rle1'; block: Rle1Block };

export type TaskResult = HashIndex | Int32Array | Bzip2Block;

const shared = (n: number): Int32Array => new Int32Array(new SharedArrayBuffer(4 * n));
/** Small jobs' indexes, built here one at a time: the same memory each time. */
const localIndex = reusing((n) => new Int32Array(n));

export function runTask(task: Task): TaskResult {
  switch (task.kind) {
    case 'index':
      return buildIndex(task.text, (n) =>
        task.into !== undefined && task.into.length >= n ? task.into.subarray(0, n) : shared(n),
      );
    case 'diff':
      return diffRange(
        task.old,
        task.index ?? buildIndex(task.old, localIndex),
        task.nw,
        task.from,
        task.to,
        task.skipGaps,
      );
    case 'bzip2':
      return bzip2Block(task.data, task.from, task.to);
    case 'bzip2-rle1':
      return bzip2Rle1Block(task.block);
  }
}
