/**
 * BSDIFF40 patches, byte-compatible with bsdiff 4.x (Debian `bspatch`, Python
 * `bsdiff4`, which tufup clients use).
 *
 * The match search is bsdiff 4.3's, step for step, so patches come out about
 * the same size as Debian `bsdiff`'s; the index differs: 32-bit SA-IS suffix
 * arrays (linear time, 4 bytes per old byte) instead of qsufsort over two
 * 64-bit arrays (O(n log n), 16 bytes per old byte). Above 8 MiB the index and
 * the loop run on two threads (workers.ts), with fixed cuts so the output does
 * not depend on timing.
 *
 * Memory, n = old size, m = new size, nothing matched: old n + new m (inputs)
 * + suffix arrays 4n + SA-IS type bits n/8 (while building) + a shared copy of
 * the half the worker sorts n/2; then, after the index is released, diff and
 * extra blocks ≤ m + compressed output. About 5.7n + m, against bsdiff's
 * max(17n, 9n + m) + m (docs/adr/0005 has the tar-aware bound).
 */
import { suffixArray, MAX_SUFFIX_ARRAY_INPUT } from './sais';
import { diffCore, type IndexPart, type Op } from './diff-core';
import { diffInChunks, suffixArrayHalves } from './workers';
import { bzip2 } from './bzip2';
import type { ProgressCallback } from './progress';
import { TufsignError } from '../errors';

export const BSDIFF_MAGIC = 'BSDIFF40';

export interface PatchResult {
  patch: Uint8Array;
  /** Sizes of the three bzip2 blocks and of the raw blocks, for reports. */
  stats: { control: number; diff: number; extra: number; extraRaw: number; triples: number; indexThreads: number; diffThreads: number };
}

function offtOut(value: number, buf: Uint8Array, at: number): void {
  let y = Math.abs(value);
  for (let i = 0; i < 8; i++) {
    buf[at + i] = y % 256;
    y = Math.floor(y / 256);
  }
  if (value < 0) buf[at + 7]! |= 0x80;
}


/** A run of bytes of a file that was gathered into a contiguous work buffer. */
interface Piece {
  at: number;
  len: number;
}

/** Map positions of a gathered buffer back to the file it was gathered from. */
class Gathered {
  readonly starts: number[] = [];
  readonly pieces: Piece[] = [];
  size = 0;
  add(at: number, len: number): void {
    if (len <= 0) return;
    const last = this.pieces[this.pieces.length - 1];
    if (last !== undefined && last.at + last.len === at) {
      last.len += len;
    } else {
      this.starts.push(this.size);
      this.pieces.push({ at, len });
    }
    this.size += len;
  }
  /** `shared`: allocate in shared memory, so a worker thread can read it without a copy. */
  gather(src: Uint8Array, shared: boolean): Uint8Array {
    if (this.pieces.length === 1 && this.pieces[0]!.at === 0 && this.size === src.length) return src;
    const out = shared ? new Uint8Array(new SharedArrayBuffer(this.size)) : new Uint8Array(this.size);
    for (let i = 0; i < this.pieces.length; i++) out.set(src.subarray(this.pieces[i]!.at, this.pieces[i]!.at + this.pieces[i]!.len), this.starts[i]);
    return out;
  }
  /** Index of the piece holding gathered position p. */
  find(p: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= p) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Where file data lives inside a tar: `[offset, offset+size)` per member. */
export interface TarRegion {
  offset: number;
  size: number;
}

export interface DiffOptions {
  /** Member data regions of old and new (from `tarRegions`); without them the whole files are diffed. */
  oldRegions?: TarRegion[] | undefined;
  newRegions?: TarRegion[] | undefined;
  onProgress?: ProgressCallback | undefined;
  /** Index and search in two halves on two threads when more than this many bytes are left to diff (default 8 MiB). */
  parallelAbove?: number | undefined;
}

const EXACT_MIN = 64;
const PARALLEL_ABOVE = 8 << 20;
// Small enough to balance two threads, large enough that cut matches cost nothing measurable.
const DIFF_CHUNK = 1 << 20;

/**
 * Build a BSDIFF40 patch that turns `old` into `nw`.
 *
 * Member data that is byte-identical in both tars (same content, any path) is
 * matched directly; only the remaining old bytes are indexed and only the
 * remaining new bytes are searched with bsdiff's loop. For a release where
 * most files did not change, this indexes a small fraction of the old tar.
 */
export async function bsdiff(old: Uint8Array, nw: Uint8Array, options: DiffOptions = {}): Promise<PatchResult> {
  const onProgress = options.onProgress;
  const ops: Op[] = [];
  const oldRest = new Gathered();
  const newRest = new Gathered();

  if (options.oldRegions !== undefined && options.newRegions !== undefined) {
    // Index old members by (size, first/last bytes) → candidates; confirm byte-equality.
    const byKey = new Map<string, TarRegion[]>();
    const keyOf = (buf: Uint8Array, r: TarRegion): string => `${r.size}:${Buffer.from(buf.buffer, buf.byteOffset + r.offset, Math.min(32, r.size)).toString('hex')}:${Buffer.from(buf.buffer, buf.byteOffset + r.offset + r.size - Math.min(32, r.size), Math.min(32, r.size)).toString('hex')}`;
    for (const r of options.oldRegions) {
      if (r.size < EXACT_MIN) continue;
      const k = keyOf(old, r);
      const list = byKey.get(k);
      if (list === undefined) byKey.set(k, [r]);
      else list.push(r);
    }
    const usedOld: TarRegion[] = [];
    let newPos = 0;
    for (const r of options.newRegions) {
      if (r.size < EXACT_MIN) continue;
      const cands = byKey.get(keyOf(nw, r));
      const match = cands?.find((c) => Buffer.compare(old.subarray(c.offset, c.offset + c.size), nw.subarray(r.offset, r.offset + r.size)) === 0);
      if (match === undefined) continue;
      newRest.add(newPos, r.offset - newPos);
      ops.push({ newStart: r.offset, len: r.size, oldStart: match.offset });
      usedOld.push(match);
      newPos = r.offset + r.size;
    }
    newRest.add(newPos, nw.length - newPos);
    usedOld.sort((a, b) => a.offset - b.offset);
    let oldPos = 0;
    for (const r of usedOld) {
      if (r.offset < oldPos) continue; // the same old member matched twice
      oldRest.add(oldPos, r.offset - oldPos);
      oldPos = r.offset + r.size;
    }
    oldRest.add(oldPos, old.length - oldPos);
  } else {
    oldRest.add(0, old.length);
    newRest.add(0, nw.length);
  }

  const threads = await searchRest(old, nw, oldRest, newRest, ops, options);
  // The index and gathered buffers are unreachable from here, so they can be freed before the blocks are built.
  const result = assemble(old, nw, ops, onProgress);
  Object.assign(result.stats, threads);
  return result;
}

/**
 * Index the unmatched old bytes, run bsdiff's loop over the unmatched new
 * bytes, and append the pieces found (in file positions) to `ops`. Returns how
 * many threads each step used.
 */
async function searchRest(old: Uint8Array, nw: Uint8Array, oldRest: Gathered, newRest: Gathered, ops: Op[], options: DiffOptions): Promise<{ indexThreads: number; diffThreads: number }> {
  const onProgress = options.onProgress;
  const threshold = options.parallelAbove ?? PARALLEL_ABOVE;
  const parallel = oldRest.size > threshold;
  const pool = oldRest.gather(old, parallel);
  const rest = newRest.gather(nw, parallel);
  if (pool.length > MAX_SUFFIX_ARRAY_INPUT) {
    throw new TufsignError('RELEASE_INVALID', `the changed part of the previous release is ${pool.length} bytes; patches support at most ${MAX_SUFFIX_ARRAY_INPUT}`, {
      suggestion: 'publish this release without a patch (--no-patch)',
    });
  }
  onProgress?.({ stage: 'patch-index', done: 0, total: pool.length });
  // Two halves: matches cannot cross the cut, which costs a few bytes of patch at most; the
  // halves are fixed by the input, so the patch does not depend on threads or timing.
  let parts: IndexPart[];
  let indexThreads = 1;
  if (parallel) {
    const cut = pool.length >>> 1;
    const built = await suffixArrayHalves(pool, cut);
    const [sa1, sa2] = built.sa;
    indexThreads = built.threads;
    parts = [
      { text: pool.subarray(0, cut), sa: sa1, base: 0 },
      { text: pool.subarray(cut), sa: sa2, base: cut },
    ];
  } else parts = [{ text: pool, sa: suffixArray(pool), base: 0 }];
  onProgress?.({ stage: 'patch-index', done: pool.length, total: pool.length });

  // Map each piece found in the gathered buffers back to file positions, splitting at piece borders.
  const mapOp = (op: Op): void => {
    let np = op.newStart;
    let op2 = op.oldStart;
    let left = op.len;
    while (left > 0) {
      const ni = newRest.find(np);
      const nPiece = newRest.pieces[ni]!;
      let take = Math.min(left, newRest.starts[ni]! + nPiece.len - np);
      let oldStart = -1;
      if (op2 >= 0) {
        const oi = oldRest.find(op2);
        const oPiece = oldRest.pieces[oi]!;
        take = Math.min(take, oldRest.starts[oi]! + oPiece.len - op2);
        oldStart = oPiece.at + (op2 - oldRest.starts[oi]!);
        op2 += take;
      }
      ops.push({ newStart: nPiece.at + (np - newRest.starts[ni]!), len: take, oldStart });
      np += take;
      left -= take;
    }
  };
  // The loop over the new bytes in fixed chunks on two threads (matches cannot cross a chunk
  // border, the same small trade-off as the index), when every buffer is already shared.
  let diffThreads = 1;
  onProgress?.({ stage: 'patch-diff', done: 0, total: rest.length });
  if (parallel && pool.buffer instanceof SharedArrayBuffer && rest.buffer instanceof SharedArrayBuffer && rest.length > threshold) {
    const chunks = await diffInChunks(pool, rest, parts, DIFF_CHUNK);
    diffThreads = chunks.threads;
    for (const t of chunks.triples) for (let i = 0; i < t.length; i += 3) mapOp({ newStart: t[i]!, len: t[i + 1]!, oldStart: t[i + 2]! });
  } else diffCore(pool, rest, parts, mapOp, (done) => onProgress?.({ stage: 'patch-diff', done, total: rest.length }));
  onProgress?.({ stage: 'patch-diff', done: rest.length, total: rest.length });
  return { indexThreads, diffThreads };
}

/** Turn pieces into control triples and the diff/extra blocks, then compress. */
function assemble(old: Uint8Array, nw: Uint8Array, ops: Op[], onProgress: ProgressCallback | undefined): PatchResult {
  ops.sort((a, b) => a.newStart - b.newStart);
  const triples: number[] = [];
  let addLen = 0;
  let extraLen = 0;
  let open = false;
  let oldPos = 0;
  let dbLen = 0;
  let ebLen = 0;
  let expect = 0;
  for (const op of ops) {
    if (op.newStart !== expect) throw new TufsignError('INTERNAL', `patch pieces do not tile the new file at ${expect}`);
    expect += op.len;
    if (op.oldStart < 0) {
      if (!open) {
        open = true;
        addLen = 0;
        extraLen = 0;
      }
      extraLen += op.len;
      ebLen += op.len;
      continue;
    }
    dbLen += op.len;
    if (open && extraLen === 0 && op.oldStart === oldPos) {
      addLen += op.len;
      oldPos += op.len;
      continue;
    }
    if (open) triples.push(addLen, extraLen, op.oldStart - oldPos);
    else if (op.oldStart !== 0) triples.push(0, 0, op.oldStart);
    open = true;
    addLen = op.len;
    extraLen = 0;
    oldPos = op.oldStart + op.len;
  }
  if (expect !== nw.length) throw new TufsignError('INTERNAL', 'patch pieces do not cover the new file');
  if (open) triples.push(addLen, extraLen, 0);

  const ctrl = new Uint8Array(triples.length * 8);
  for (let i = 0; i < triples.length; i++) offtOut(triples[i]!, ctrl, i * 8);
  const total = ctrl.length + dbLen + ebLen;
  let compressed = 0;
  const report = (done: number): void => onProgress?.({ stage: 'patch-compress', done: compressed + done, total });
  const zc = bzip2(ctrl, report);
  compressed += ctrl.length;
  // Build each block just before compressing it, so only one is held at a time.
  const db = new Uint8Array(dbLen);
  let d = 0;
  for (const op of ops) {
    if (op.oldStart < 0) continue;
    for (let i = 0; i < op.len; i++) db[d + i] = (nw[op.newStart + i]! - old[op.oldStart + i]!) & 0xff;
    d += op.len;
  }
  const zd = bzip2(db, report);
  compressed += dbLen;
  const eb = new Uint8Array(ebLen);
  let e = 0;
  for (const op of ops) {
    if (op.oldStart >= 0) continue;
    eb.set(nw.subarray(op.newStart, op.newStart + op.len), e);
    e += op.len;
  }
  const ze = bzip2(eb, report);

  const patch = new Uint8Array(32 + zc.length + zd.length + ze.length);
  patch.set(Buffer.from(BSDIFF_MAGIC, 'latin1'), 0);
  offtOut(zc.length, patch, 8);
  offtOut(zd.length, patch, 16);
  offtOut(nw.length, patch, 24);
  patch.set(zc, 32);
  patch.set(zd, 32 + zc.length);
  patch.set(ze, 32 + zc.length + zd.length);
  return { patch, stats: { control: zc.length, diff: zd.length, extra: ze.length, extraRaw: ebLen, triples: triples.length / 3, indexThreads: 1, diffThreads: 1 } };
}
