/**
 * BSDIFF40 patches, byte-compatible with bsdiff 4.x (Debian `bspatch`, Python
 * `bsdiff4`, which tufup clients use).
 *
 * The work is cut by the tar's members (docs/adr/0005):
 * 1. member data that is byte-identical in both tars (any path) is matched
 *    whole, confirmed by comparison;
 * 2. every other new member of PAIR_MIN bytes or more that has a counterpart
 *    in the old tar (same path, else same file name elsewhere) is diffed
 *    against that counterpart only — a rebuilt library against its previous
 *    build — with an index of just that member;
 * 3. everything left (headers, small and new files) is diffed against the old
 *    bytes nobody else used, gathered into one buffer.
 * Each job runs bsdiff 4.3's loop over a hash index (match.ts); jobs over
 * FIXED chunks of the new bytes are spread over worker threads (workers.ts),
 * then the three blocks are bzip2-compressed block by block in parallel and
 * joined into one stream. Every cut is fixed by the input, so the patch bytes
 * do not depend on the thread count or on timing.
 */
import { Rle1Stream, bzip2Join, type Bzip2Block } from './bzip2';
import type { HashIndex } from './match';
import { Pool, defaultThreads } from './workers';
import type { ProgressCallback } from './progress';
import { TufsignError } from '../errors';
import { fromSlot, memorySource, type ByteSource, type Slot } from './source';

export const BSDIFF_MAGIC = 'BSDIFF40';

export interface PatchStats {
  control: number;
  diff: number;
  extra: number;
  extraRaw: number;
  triples: number;
  /** Bytes of the new tar matched by identical members, by member pairs, and left to the rest job. */
  identical: number;
  paired: number;
  rest: number;
  /** Threads used, and tasks a failed worker left to this thread. */
  threads: number;
  fallbacks: number;
}

export interface PatchResult {
  patch: Uint8Array;
  stats: PatchStats;
}

/** Where file data lives inside a tar, and the member's name (from the tar itself: only a pairing hint). */
export interface TarRegion {
  offset: number;
  size: number;
  path?: string | undefined;
}

export interface DiffOptions {
  /** Member data regions of old and new (from `tarRegions`); without them the whole files are diffed. */
  oldRegions?: TarRegion[] | undefined;
  newRegions?: TarRegion[] | undefined;
  onProgress?: ProgressCallback | undefined;
  /** Threads (default: every core). The patch bytes are the same for every value. */
  threads?: number | undefined;
  /** Test hook: workers exit abruptly after this many tasks (their work falls back to this thread). */
  failWorkersAfter?: number | undefined;
}

/**
 * The pieces of the new file, three numbers each: `len` bytes at newStart as
 * old[oldStart..] + diff, or literal bytes (oldStart -1). Flat typed storage:
 * a large release has hundreds of thousands of pieces.
 */
class Pieces {
  private data = new Float64Array(3 * 1024);
  count = 0;
  push(newStart: number, len: number, oldStart: number): void {
    if (3 * this.count + 3 > this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    const at = 3 * this.count++;
    this.data[at] = newStart;
    this.data[at + 1] = len;
    this.data[at + 2] = oldStart;
  }
  /** Sort by newStart (pieces tile the new file, so newStart is unique). */
  sort(): void {
    const order = Uint32Array.from({ length: this.count }, (_, i) => i).sort(
      (a, b) => this.data[3 * a]! - this.data[3 * b]!,
    );
    const sorted = new Float64Array(3 * this.count);
    for (let i = 0; i < order.length; i++) sorted.set(this.data.subarray(3 * order[i]!, 3 * order[i]! + 3), 3 * i);
    this.data = sorted;
  }
  newStart(i: number): number {
    return this.data[3 * i]!;
  }
  len(i: number): number {
    return this.data[3 * i + 1]!;
  }
  oldStart(i: number): number {
    return this.data[3 * i + 2]!;
  }
}

const EXACT_MIN = 64;
/** New members at least this large are diffed against their own previous version. */
const PAIR_MIN = 64 << 10;
/** Fixed chunk of new bytes per task: small enough to balance threads, large enough that chunk borders cost nothing measurable. */
const CHUNK = 2 << 20;
/** Bytes compared at a time when confirming identical members. */
const COMPARE = 1 << 20;
const WORKERS_ABOVE = 1 << 20;

function offtOut(value: number, buf: Uint8Array, at: number): void {
  let y = Math.abs(value);
  for (let i = 0; i < 8; i++) {
    buf[at + i] = y % 256;
    y = Math.floor(y / 256);
  }
  if (value < 0) buf[at + 7]! |= 0x80;
}

/** Runs of a file gathered into one contiguous buffer, and the way back to file positions. */
class Gathered {
  readonly starts: number[] = [];
  readonly pieces: { at: number; len: number }[] = [];
  size = 0;
  add(at: number, len: number): void {
    if (len <= 0) return;
    const last = this.pieces[this.pieces.length - 1];
    if (last !== undefined && last.at + last.len === at) last.len += len;
    else {
      this.starts.push(this.size);
      this.pieces.push({ at, len });
    }
    this.size += len;
  }
  gather(src: ByteSource, shared: boolean, slot: Slot): Uint8Array {
    const out = fromSlot(slot, this.size, shared);
    for (let i = 0; i < this.pieces.length; i++) {
      const { at, len } = this.pieces[i]!;
      const start = this.starts[i]!;
      const got = src.view(at, len, out.subarray(start, start + len));
      if (got.byteOffset !== out.byteOffset + start || got.buffer !== out.buffer) out.set(got, start);
    }
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

/**
 * A diff job: new bytes to explain, old bytes to explain them with (loaded only when the job runs, and dropped
 * when it is done: with file sources the tars are never held whole), and how to map both back to the files.
 */
interface Job {
  /** bytes of new the job explains */
  size: number;
  load: (slots: JobSlots) => { old: Uint8Array; nw: Uint8Array };
  /** A member against its previous version (match.ts skips lookups where the alignment holds). */
  paired: boolean;
  emit: (newStart: number, len: number, oldStart: number) => void;
}

/** Where a job's bytes are loaded: reused by the next job that runs in the same place. */
interface JobSlots {
  old: Slot;
  nw: Slot;
}
const newSlots = (): JobSlots => ({ old: {}, nw: {} });

const baseName = (p: string | undefined): string => (p === undefined ? '' : p.slice(p.lastIndexOf('/') + 1));

/**
 * Build a BSDIFF40 patch that turns `old` into `nw`. Buffers in shared memory
 * (`SharedArrayBuffer`) are read by the workers in place; others are copied
 * once. Files (`FileSource`) are read a job's members at a time.
 */
export async function bsdiff(
  oldIn: Uint8Array | ByteSource,
  nwIn: Uint8Array | ByteSource,
  options: DiffOptions = {},
): Promise<PatchResult> {
  const onProgress = options.onProgress;
  // Starting workers costs more than a small patch: below WORKERS_ABOVE new bytes, stay on this thread (same bytes).
  const threads = nwIn.length + oldIn.length < WORKERS_ABOVE ? 1 : (options.threads ?? defaultThreads());
  const pool = new Pool(threads, { failAfter: options.failWorkersAfter });
  try {
    const shared = pool.size > 1;
    const old = oldIn instanceof Uint8Array ? memorySource(oldIn, shared) : oldIn;
    const nw = nwIn instanceof Uint8Array ? memorySource(nwIn, shared) : nwIn;
    const ops = new Pieces();
    const push = (newStart: number, len: number, oldStart: number): void => ops.push(newStart, len, oldStart);
    const { jobs, identical, paired, rest } = planJobs(old, nw, options, shared, push);
    const total = jobs.reduce((s, j) => s + j.size, 0);
    let done = 0;
    onProgress?.({ stage: 'patch-diff', done: 0, total });
    await runJobs(pool, jobs, (bytes) => {
      done += bytes;
      onProgress?.({ stage: 'patch-diff', done, total });
    });
    const result = await assemble(pool, old, nw, ops, onProgress);
    Object.assign(result.stats, { identical, paired, rest, threads: pool.size, fallbacks: pool.fallbacks });
    return result;
  } finally {
    pool.close();
  }
}

/** Steps 1–3 of the header comment: identical members to `push`, the rest as jobs. */
function planJobs(
  old: ByteSource,
  nw: ByteSource,
  options: DiffOptions,
  shared: boolean,
  push: Job['emit'],
): { jobs: Job[]; identical: number; paired: number; rest: number } {
  const oldRegions = options.oldRegions;
  const newRegions = options.newRegions;
  const oldRest = new Gathered();
  const newRest = new Gathered();
  const jobs: Job[] = [];
  let identical = 0;
  let paired = 0;
  if (oldRegions === undefined || newRegions === undefined) {
    oldRest.add(0, old.length);
    newRest.add(0, nw.length);
  } else {
    // 1. Identical members: candidates by a number hashed from (size, first and last 32 bytes), confirmed by size
    // and byte for byte. The first confirmed candidate in old's order is taken, as with an exact key: a candidate
    // another key collided into is never confirmed (its bytes differ), so the same member is found.
    const edge = new Uint8Array(32);
    const mix = (src: ByteSource, at: number, k: number, h: number): number => {
      const v = src.view(at, k, edge);
      for (let i = 0; i < k; i++) h = Math.imul(h ^ v[i]!, 0x01000193);
      return h;
    };
    const keyOf = (src: ByteSource, r: TarRegion): number => {
      const k = Math.min(32, r.size);
      const h = mix(src, r.offset + r.size - k, k, mix(src, r.offset, k, 0x811c9dc5 ^ r.size));
      return (h ^ (h >>> 15)) & 0x3fffffff; // a small integer: the map's fastest key
    };
    const scratchOld = new Uint8Array(COMPARE);
    const scratchNew = new Uint8Array(COMPARE);
    const sameBytes = (o: TarRegion, r: TarRegion): boolean => {
      for (let at = 0; at < r.size; at += COMPARE) {
        const n = Math.min(COMPARE, r.size - at);
        if (Buffer.compare(old.view(o.offset + at, n, scratchOld), nw.view(r.offset + at, n, scratchNew)) !== 0)
          return false;
      }
      return true;
    };
    const byKey = new Map<number, TarRegion[]>();
    for (const r of oldRegions) {
      if (r.size < EXACT_MIN) continue;
      const k = keyOf(old, r);
      const list = byKey.get(k);
      if (list === undefined) byKey.set(k, [r]);
      else list.push(r);
    }
    const used = new Set<TarRegion>();
    const leftNew: TarRegion[] = [];
    for (const r of newRegions) {
      const match =
        r.size < EXACT_MIN ? undefined : byKey.get(keyOf(nw, r))?.find((c) => c.size === r.size && sameBytes(c, r));
      if (match === undefined) {
        leftNew.push(r);
        continue;
      }
      push(r.offset, r.size, match.offset);
      used.add(match);
      identical += r.size;
    }
    // 2. Pairs: a changed member against its previous version (same path, else same file name), unused old members only.
    const oldByPath = new Map<string, TarRegion>();
    const oldByName = new Map<string, TarRegion[]>();
    for (const r of oldRegions) {
      if (used.has(r) || r.size < PAIR_MIN / 4) continue;
      if (r.path !== undefined) oldByPath.set(r.path, r);
      const list = oldByName.get(baseName(r.path));
      if (list === undefined) oldByName.set(baseName(r.path), [r]);
      else list.push(r);
    }
    const pairedNew = new Set<TarRegion>();
    for (const r of leftNew) {
      if (r.size < PAIR_MIN || r.path === undefined) continue;
      let o = oldByPath.get(r.path);
      if (o !== undefined && used.has(o)) o = undefined;
      o ??= oldByName.get(baseName(r.path))?.find((c) => !used.has(c));
      if (o === undefined) continue;
      used.add(o);
      pairedNew.add(r);
      paired += r.size;
      const ob = o.offset;
      const nb = r.offset;
      const oldSize = o.size;
      jobs.push({
        paired: true,
        size: r.size,
        load: (slots) => ({
          old: old.slice(ob, oldSize, shared, slots.old),
          nw: nw.slice(nb, r.size, shared, slots.nw),
        }),
        emit: (n, len, os) => push(n + nb, len, os < 0 ? -1 : os + ob),
      });
    }
    // 3. The rest: every byte of new not covered above, against every byte of old nobody used.
    const left = new Set(leftNew);
    const covered = newRegions.filter((r) => !left.has(r) || pairedNew.has(r));
    let pos = 0;
    for (const r of covered) {
      newRest.add(pos, r.offset - pos);
      pos = r.offset + r.size;
    }
    newRest.add(pos, nw.length - pos);
    pos = 0;
    for (const r of [...used].sort((a, b) => a.offset - b.offset)) {
      if (r.offset < pos) continue;
      oldRest.add(pos, r.offset - pos);
      pos = r.offset + r.size;
    }
    oldRest.add(pos, old.length - pos);
  }
  if (newRest.size > 0) {
    const whole = oldRest.pieces.length === 1 && oldRest.size === old.length;
    const wholeNew = newRest.pieces.length === 1 && newRest.size === nw.length;
    jobs.push({
      paired: false,
      size: newRest.size,
      load: (slots) => ({
        old: whole ? old.slice(0, old.length, shared, slots.old) : oldRest.gather(old, shared, slots.old),
        nw: wholeNew ? nw.slice(0, nw.length, shared, slots.nw) : newRest.gather(nw, shared, slots.nw),
      }),
      emit: (n, len, os) => mapGathered(newRest, oldRest, n, len, os, push),
    });
  }
  return { jobs, identical, paired, rest: newRest.size };
}

/** A piece found in gathered buffers, back in file positions, split where gathered pieces meet. */
function mapGathered(
  newRest: Gathered,
  oldRest: Gathered,
  newStart: number,
  len: number,
  oldStart: number,
  push: Job['emit'],
): void {
  let np = newStart;
  let op = oldStart;
  let left = len;
  while (left > 0) {
    const ni = newRest.find(np);
    const nPiece = newRest.pieces[ni]!;
    let take = Math.min(left, newRest.starts[ni]! + nPiece.len - np);
    let o = -1;
    if (op >= 0) {
      const oi = oldRest.find(op);
      const oPiece = oldRest.pieces[oi]!;
      take = Math.min(take, oldRest.starts[oi]! + oPiece.len - op);
      o = oPiece.at + (op - oldRest.starts[oi]!);
      op += take;
    }
    push(nPiece.at + (np - newRest.starts[ni]!), take, o);
    np += take;
    left -= take;
  }
}

/**
 * Run every job: a job of at most CHUNK new bytes is one task (the worker
 * builds its small index itself); a larger one gets its index built once in
 * shared memory, then one task per fixed chunk. Large jobs go one at a time
 * (two large indexes alive: the next one is built while this one's chunks
 * run), small ones alongside, largest first.
 */
async function runJobs(pool: Pool, jobs: Job[], progress: (bytes: number) => void): Promise<void> {
  const results = new Map<Job, Int32Array[]>();
  const large = jobs.filter((j) => j.size > CHUNK);
  // Largest first, so the last task to finish is a small one (the order of results does not depend on it).
  const small = jobs.filter((j) => j.size <= CHUNK).sort((a, b) => b.size - a.size);
  const runLarge = async (): Promise<void> => {
    // At most two large indexes alive: the next job's is built while this job's chunks run, so no thread
    // waits for an index. Each is built into the memory of the one two jobs before (done by then) when it fits.
    const spare: (Int32Array | undefined)[] = [undefined, undefined];
    // A large job's bytes are loaded when its index is built, into the memory of the job two before (done by then).
    const slots = [newSlots(), newSlots()];
    const indexOf = (k: number): Promise<{ index: HashIndex; old: Uint8Array; nw: Uint8Array }> => {
      const bytes = large[k]!.load(slots[k % 2]!);
      return pool.run({ kind: 'index', text: bytes.old, into: spare[k % 2] }, true).then((r) => {
        const index = r as HashIndex;
        spare[k % 2] = new Int32Array(index.start.buffer);
        return { index, ...bytes };
      });
    };
    let pending = large.length > 0 ? indexOf(0) : undefined;
    // The chunks of the job before, still running while this job's are queued behind them: a thread that is
    // done with the last chunks of one job goes on to the next job's instead of waiting for the others.
    let running: Promise<void> | undefined;
    for (let k = 0; k < large.length; k++) {
      const job = large[k]!;
      const { index, old, nw } = await pending!;
      const chunks: Promise<Int32Array>[] = [];
      for (let from = 0; from < nw.length; from += CHUNK) {
        const to = Math.min(nw.length, from + CHUNK);
        chunks.push(
          pool.run({ kind: 'diff', old, index, nw, from, to, skipGaps: job.paired }).then((r) => {
            progress(to - from);
            return r as Int32Array;
          }),
        );
      }
      const done = Promise.all(chunks).then((r) => void results.set(job, r));
      // A failure surfaces at an await below; this only keeps it from also being unhandled meanwhile.
      done.catch(() => undefined);
      // Once the job before is done, its index and bytes memory takes the next job's, whose index is queued
      // ahead of this job's chunks: one thread builds it while the others diff, so it is ready in time.
      await running;
      running = done;
      pending = k + 1 < large.length ? indexOf(k + 1) : undefined;
      pending?.catch(() => undefined);
    }
    await running;
  };
  const runSmall = async (): Promise<void> => {
    // Keep every thread busy without holding every small index at once.
    let next = 0;
    const lane = async (): Promise<void> => {
      // Each lane loads its jobs into the same memory (largest first: it is allocated once).
      const slots = newSlots();
      while (next < small.length) {
        const job = small[next++]!;
        const { old, nw } = job.load(slots);
        results.set(job, [
          (await pool.run({
            kind: 'diff',
            old,
            index: null,
            nw,
            from: 0,
            to: nw.length,
            skipGaps: job.paired,
          })) as Int32Array,
        ]);
        progress(nw.length);
      }
    };
    await Promise.all(Array.from({ length: pool.size }, lane));
  };
  await Promise.all([runLarge(), runSmall()]);
  for (const job of jobs)
    for (const t of results.get(job)!) for (let i = 0; i < t.length; i += 3) job.emit(t[i]!, t[i + 1]!, t[i + 2]!);
}

/** Bytes produced per step of a streamed block. */
const PIECE = 256 << 10;

/**
 * Writes `n` bytes of a block to `out`, the next ones each call; `scratch`
 * (≥ n bytes) is for bytes that must be computed first.
 */
type Producer = (n: number, out: Rle1Stream, scratch: Uint8Array) => void;

/**
 * bzip2 of a block of `total` bytes that `produce` writes piece by piece: the
 * pieces go through bzip2's initial run-length coding here (Rle1Stream, which
 * cuts blocks exactly where libbzip2 does), and each coded block (≤ 900 kB) is
 * compressed on the pool, at most two per thread in flight, its buffer reused
 * when done. So neither the block nor its bzip2 input is ever held whole, and
 * the bytes are those of compressing the whole block at once.
 */
async function bzip2Streamed(
  pool: Pool,
  total: number,
  produce: Producer,
  alloc: (n: number) => Uint8Array,
  report: (done: number) => void,
): Promise<Uint8Array> {
  const blocks: Promise<Bzip2Block>[] = [];
  const free: Uint8Array[] = [];
  let done = 0;
  const stream = new Rle1Stream(
    (n) => free.pop() ?? alloc(n),
    (block) => {
      const compressed = pool.run({ kind: 'bzip2-rle1', block }).then((b) => {
        free.push(block.data);
        done += block.input;
        report(done);
        return b as Bzip2Block;
      });
      // A failure surfaces through the awaits below; this only keeps it from also being unhandled.
      compressed.catch(() => undefined);
      blocks.push(compressed);
    },
  );
  const scratch = new Uint8Array(Math.min(total, PIECE));
  let waited = 0;
  for (let produced = 0; produced < total;) {
    const n = Math.min(PIECE, total - produced);
    produce(n, stream, scratch);
    produced += n;
    while (blocks.length - waited > 2 * pool.size) await blocks[waited++];
  }
  stream.end();
  return bzip2Join(await Promise.all(blocks));
}

/** A matched stretch at least this long is first compared whole (native memcmp): equal means zeros to write. */
const ZERO_CHECK = 64;

/**
 * Writes the diff block (matched pieces: new − old, bytewise) or the extra
 * block (literal pieces) piece by piece, so the blocks are never held whole.
 * A matched stretch whose old and new bytes are equal (identical members, long
 * unchanged runs) goes to the run-length stage as a run of zeros without
 * being computed byte by byte.
 */
function blockWriter(ops: Pieces, old: ByteSource, nw: ByteSource, matched: boolean): Producer {
  let k = 0;
  let off = 0;
  // Where file sources are read into (a take is at most one PIECE).
  const newBytes = new Uint8Array(PIECE);
  const oldBytes = matched ? new Uint8Array(PIECE) : newBytes;
  return (n, out, scratch) => {
    let d = 0;
    for (let left = n; left > 0;) {
      if (off === ops.len(k) || matched !== ops.oldStart(k) >= 0) {
        k++;
        off = 0;
        continue;
      }
      const take = Math.min(ops.len(k) - off, left);
      const ns = ops.newStart(k) + off;
      const n = nw.view(ns, take, newBytes);
      if (!matched) {
        scratch.set(n, d);
        d += take;
      } else {
        const o = old.view(ops.oldStart(k) + off, take, oldBytes);
        if (take >= ZERO_CHECK && Buffer.compare(n, o) === 0) {
          out.write(scratch.subarray(0, d));
          d = 0;
          out.writeRepeat(0, take);
        } else {
          for (let i = 0; i < take; i++) scratch[d + i] = (n[i]! - o[i]!) & 0xff;
          d += take;
        }
      }
      left -= take;
      off += take;
    }
    out.write(scratch.subarray(0, d));
  };
}

/** Turn pieces into control triples and the diff/extra blocks, compressed as they are produced. */
async function assemble(
  pool: Pool,
  old: ByteSource,
  nw: ByteSource,
  ops: Pieces,
  onProgress: ProgressCallback | undefined,
): Promise<PatchResult> {
  ops.sort();
  const triples: number[] = [];
  let addLen = 0;
  let extraLen = 0;
  let open = false;
  let oldPos = 0;
  let dbLen = 0;
  let ebLen = 0;
  let expect = 0;
  for (let k = 0; k < ops.count; k++) {
    const len = ops.len(k);
    const oldStart = ops.oldStart(k);
    if (ops.newStart(k) !== expect)
      throw new TufsignError('INTERNAL', `patch pieces do not tile the new file at ${expect}`);
    expect += len;
    if (oldStart < 0) {
      if (!open) {
        open = true;
        addLen = 0;
        extraLen = 0;
      }
      extraLen += len;
      ebLen += len;
      continue;
    }
    dbLen += len;
    if (open && extraLen === 0 && oldStart === oldPos) {
      addLen += len;
      oldPos += len;
      continue;
    }
    if (open) triples.push(addLen, extraLen, oldStart - oldPos);
    else if (oldStart !== 0) triples.push(0, 0, oldStart);
    open = true;
    addLen = len;
    extraLen = 0;
    oldPos = oldStart + len;
  }
  if (expect !== nw.length) throw new TufsignError('INTERNAL', 'patch pieces do not cover the new file');
  if (open) triples.push(addLen, extraLen, 0);

  const alloc = (n: number): Uint8Array =>
    pool.size > 1 ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint8Array(n);
  const total = triples.length * 8 + dbLen + ebLen;
  // Bytes compressed so far in each of the three streams.
  const done = [0, 0, 0];
  const report =
    (k: number) =>
    (d: number): void => {
      done[k] = d;
      onProgress?.({ stage: 'patch-compress', done: done[0]! + done[1]! + done[2]!, total });
    };
  let nextTriple = 0;
  const writeControl: Producer = (n, out, scratch) => {
    for (let at = 0; at < n; at += 8) offtOut(triples[nextTriple++]!, scratch, at);
    out.write(scratch.subarray(0, n));
  };
  // The three streams at once: the pool always has blocks to hand out, instead of a thread idling while the
  // last block of one stream finishes before the next stream starts. Each stream's blocks stay in order.
  const [zc, zd, ze] = await Promise.all([
    bzip2Streamed(pool, triples.length * 8, writeControl, alloc, report(0)),
    bzip2Streamed(pool, dbLen, blockWriter(ops, old, nw, true), alloc, report(1)),
    bzip2Streamed(pool, ebLen, blockWriter(ops, old, nw, false), alloc, report(2)),
  ]);

  const patch = new Uint8Array(32 + zc.length + zd.length + ze.length);
  patch.set(Buffer.from(BSDIFF_MAGIC, 'latin1'), 0);
  offtOut(zc.length, patch, 8);
  offtOut(zd.length, patch, 16);
  offtOut(nw.length, patch, 24);
  patch.set(zc, 32);
  patch.set(zd, 32 + zc.length);
  patch.set(ze, 32 + zc.length + zd.length);
  return {
    patch,
    stats: {
      control: zc.length,
      diff: zd.length,
      extra: ze.length,
      extraRaw: ebLen,
      triples: triples.length / 3,
      identical: 0,
      paired: 0,
      rest: 0,
      threads: 1,
      fallbacks: 0,
    },
  };
}
