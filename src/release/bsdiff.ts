/**
 * BSDIFF40 patches, byte-compatible with bsdiff 4.x (Debian `bspatch`, Python
 * `bsdiff4`, which tufup clients use).
 *
 * The match search is bsdiff 4.3's, step for step, so patches come out the
 * same size as Debian `bsdiff`'s; only the index differs: a 32-bit SA-IS
 * suffix array (linear time, 4 bytes per old byte) instead of qsufsort over
 * two 64-bit arrays (O(n log n), 16 bytes per old byte).
 *
 * Memory, n = old size, m = new size: old n + new m (inputs) + suffix array 4n
 * + SA-IS type bytes n (freed before the search) + diff and extra buffers ≤ 2m
 * + compressed output. About 6n + 3m, against bsdiff's max(17n, 9n + m) + m.
 */
import { suffixArray, MAX_SUFFIX_ARRAY_INPUT } from './sais';
import { bzip2 } from './bzip2';
import type { ProgressCallback } from './progress';
import { TufsignError } from '../errors';

export const BSDIFF_MAGIC = 'BSDIFF40';

export interface PatchResult {
  patch: Uint8Array;
  /** Sizes of the three bzip2 blocks and of the raw blocks, for reports. */
  stats: { control: number; diff: number; extra: number; extraRaw: number; triples: number };
}

function matchLen(old: Uint8Array, oldStart: number, nw: Uint8Array, newStart: number): number {
  const max = Math.min(old.length - oldStart, nw.length - newStart);
  let i = 0;
  while (i < max && old[oldStart + i] === nw[newStart + i]) i++;
  return i;
}

/** -1, 0 or 1 as memcmp(old+o, new+s, min(len)) compares. */
function compareAt(old: Uint8Array, o: number, nw: Uint8Array, s: number): number {
  const max = Math.min(old.length - o, nw.length - s);
  for (let i = 0; i < max; i++) {
    const a = old[o + i]!;
    const b = nw[s + i]!;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

/**
 * bsdiff's `search`: binary search in the suffix array for the longest match
 * of new[scan..]. Index k of bsdiff's I[] (which has the empty suffix first)
 * is sa[k-1] here, and I[0] = n.
 */
function search(sa: Int32Array, old: Uint8Array, nw: Uint8Array, scan: number, result: { pos: number }): number {
  const n = old.length;
  const at = (k: number): number => (k === 0 ? n : sa[k - 1]!);
  let st = 0;
  let en = n;
  while (en - st >= 2) {
    const x = st + ((en - st) >> 1);
    if (compareAt(old, at(x), nw, scan) < 0) st = x;
    else en = x;
  }
  const ps = at(st);
  const pe = at(en);
  const x = matchLen(old, ps, nw, scan);
  const y = matchLen(old, pe, nw, scan);
  if (x > y) {
    result.pos = ps;
    return x;
  }
  result.pos = pe;
  return y;
}

function offtOut(value: number, buf: Uint8Array, at: number): void {
  let y = Math.abs(value);
  for (let i = 0; i < 8; i++) {
    buf[at + i] = y % 256;
    y = Math.floor(y / 256);
  }
  if (value < 0) buf[at + 7]! |= 0x80;
}

/** Build a BSDIFF40 patch that turns `old` into `nw`. */
export function bsdiff(old: Uint8Array, nw: Uint8Array, onProgress?: ProgressCallback): PatchResult {
  if (old.length > MAX_SUFFIX_ARRAY_INPUT) {
    throw new TufsignError('RELEASE_INVALID', `the previous release's tar is ${old.length} bytes; patches support at most ${MAX_SUFFIX_ARRAY_INPUT}`, {
      suggestion: 'publish this release without a patch (--no-patch)',
    });
  }
  const oldSize = old.length;
  const newSize = nw.length;
  onProgress?.({ stage: 'patch-index', done: 0, total: oldSize });
  const sa = suffixArray(old);
  onProgress?.({ stage: 'patch-index', done: oldSize, total: oldSize });

  const db = new Uint8Array(newSize);
  const eb = new Uint8Array(newSize);
  let dbLen = 0;
  let ebLen = 0;
  let ctrl = new Uint8Array(24 * 1024);
  let ctrlLen = 0;
  const pushCtrl = (a: number, b: number, c: number): void => {
    if (ctrlLen + 24 > ctrl.length) {
      const next = new Uint8Array(ctrl.length * 2);
      next.set(ctrl);
      ctrl = next;
    }
    offtOut(a, ctrl, ctrlLen);
    offtOut(b, ctrl, ctrlLen + 8);
    offtOut(c, ctrl, ctrlLen + 16);
    ctrlLen += 24;
  };

  const found = { pos: 0 };
  let scan = 0;
  let len = 0;
  let pos = 0;
  let lastScan = 0;
  let lastPos = 0;
  let lastOffset = 0;
  let nextReport = 0;
  while (scan < newSize) {
    let oldScore = 0;
    let scsc = (scan += len);
    for (; scan < newSize; scan++) {
      len = search(sa, old, nw, scan, found);
      pos = found.pos;
      for (; scsc < scan + len; scsc++) if (scsc + lastOffset < oldSize && old[scsc + lastOffset] === nw[scsc]) oldScore++;
      if ((len === oldScore && len !== 0) || len > oldScore + 8) break;
      if (scan + lastOffset < oldSize && old[scan + lastOffset] === nw[scan]) oldScore--;
    }
    if (len !== oldScore || scan === newSize) {
      let s = 0;
      let sf = 0;
      let lenF = 0;
      for (let i = 0; lastScan + i < scan && lastPos + i < oldSize; ) {
        if (old[lastPos + i] === nw[lastScan + i]) s++;
        i++;
        if (s * 2 - i > sf * 2 - lenF) {
          sf = s;
          lenF = i;
        }
      }
      let lenB = 0;
      if (scan < newSize) {
        s = 0;
        let sb = 0;
        for (let i = 1; scan >= lastScan + i && pos >= i; i++) {
          if (old[pos - i] === nw[scan - i]) s++;
          if (s * 2 - i > sb * 2 - lenB) {
            sb = s;
            lenB = i;
          }
        }
      }
      if (lastScan + lenF > scan - lenB) {
        const overlap = lastScan + lenF - (scan - lenB);
        s = 0;
        let ss = 0;
        let lenS = 0;
        for (let i = 0; i < overlap; i++) {
          if (nw[lastScan + lenF - overlap + i] === old[lastPos + lenF - overlap + i]) s++;
          if (nw[scan - lenB + i] === old[pos - lenB + i]) s--;
          if (s > ss) {
            ss = s;
            lenS = i + 1;
          }
        }
        lenF += lenS - overlap;
        lenB -= lenS;
      }
      for (let i = 0; i < lenF; i++) db[dbLen + i] = (nw[lastScan + i]! - old[lastPos + i]!) & 0xff;
      const extra = scan - lenB - (lastScan + lenF);
      eb.set(nw.subarray(lastScan + lenF, lastScan + lenF + extra), ebLen);
      dbLen += lenF;
      ebLen += extra;
      pushCtrl(lenF, extra, pos - lenB - (lastPos + lenF));
      lastScan = scan - lenB;
      lastPos = pos - lenB;
      lastOffset = pos - scan;
      if (onProgress !== undefined && scan >= nextReport) {
        onProgress({ stage: 'patch-diff', done: scan, total: newSize });
        nextReport = scan + (1 << 22);
      }
    }
  }
  onProgress?.({ stage: 'patch-diff', done: newSize, total: newSize });

  const total = ctrlLen + dbLen + ebLen;
  let compressed = 0;
  const report = (done: number): void => onProgress?.({ stage: 'patch-compress', done: compressed + done, total });
  const zc = bzip2(ctrl.subarray(0, ctrlLen), report);
  compressed += ctrlLen;
  const zd = bzip2(db.subarray(0, dbLen), report);
  compressed += dbLen;
  const ze = bzip2(eb.subarray(0, ebLen), report);

  const patch = new Uint8Array(32 + zc.length + zd.length + ze.length);
  patch.set(Buffer.from(BSDIFF_MAGIC, 'latin1'), 0);
  offtOut(zc.length, patch, 8);
  offtOut(zd.length, patch, 16);
  offtOut(newSize, patch, 24);
  patch.set(zc, 32);
  patch.set(zd, 32 + zc.length);
  patch.set(ze, 32 + zc.length + zd.length);
  return { patch, stats: { control: zc.length, diff: zd.length, extra: ze.length, extraRaw: ebLen, triples: ctrlLen / 24 } };
}
