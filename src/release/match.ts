/**
 * bsdiff 4.3's match loop over a hash index instead of a suffix array.
 *
 * bsdiff asks, at almost every byte of the new file, for the longest match of
 * new[scan..] anywhere in old, by binary search in a suffix array: ~log2(n)
 * cache misses per byte, and the array itself takes O(n log n) (qsufsort) or
 * a memory-latency-bound linear pass (SA-IS) to build. Here:
 *
 * - The longest match is looked for first where bsdiff's loop already is: at
 *   the current alignment (scan + lastOffset). In recompiled code that is
 *   where the next match almost always is (the bytes between two moved rel32
 *   fields), and it costs one comparison in cache.
 * - Only when that alignment gives less than GOOD bytes is the index asked.
 *   It holds anchor positions of old (an 8-byte hash with two zero bits: one
 *   position in four, picked by content); a lookup hashes the new bytes at
 *   scan, scan+1, … up to the first two anchors and tries each old occurrence
 *   (most recent first, at most MAX_CHAIN per anchor) shifted back to scan;
 *   the longest match wins, the alignment wins ties. So a match is found when
 *   it reaches an anchor; short ones (under ~12 bytes) only at the alignment,
 *   which is where bsdiff's loop uses them.
 *
 * The loop around the search (oldScore, the forward/backward extension and
 * overlap split, the diff/extra pieces) is bsdiff's, line for line, so patches
 * come out the size of bsdiff's. The index costs one pass over old, 4 bytes
 * per old byte for the chain links and a head table of about one slot per
 * four old bytes.
 *
 * This file imports nothing, so the worker entry (worker.ts) stays small.
 */

/** Bytes hashed per index entry: the shortest match the index finds (shorter ones only at the alignment). */
export const SEED = 8;
/** An alignment match this long is taken without asking the index. */
const GOOD = 32;
/** Candidates examined per lookup. */
const MAX_CHAIN = 24;
/** A candidate this long ends the chain walk. */
const ENOUGH = 4096;

/** Chained hash index over every position of `text` (head table + one link per position). */
export interface HashIndex {
  bits: number;
  head: Int32Array;
  prev: Int32Array;
}

/** Low hash bits that must be zero at an anchor: one position in four is indexed. */
const ANCHOR_MASK = 3;
/** How far past `scan` a lookup looks for anchors. */
const ANCHOR_WINDOW = 24;

function hashAt(t: Uint8Array, i: number): number {
  const a = t[i]! | (t[i + 1]! << 8) | (t[i + 2]! << 16) | (t[i + 3]! << 24);
  const b = t[i + 4]! | (t[i + 5]! << 8) | (t[i + 6]! << 16) | (t[i + 7]! << 24);
  const h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b ^ (b >>> 15), 0x85ebca77);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Head-table size for `n` positions: about one slot per position, 2^10 … 2^24. */
export function indexBits(n: number): number {
  let bits = 10;
  while (bits < 24 && 1 << bits < n) bits++;
  return bits;
}

/**
 * Build the index of `text`. Only anchor positions are indexed — those whose
 * 8-byte hash has its low two bits zero, one position in four on average,
 * chosen by content so the same bytes are anchors in old and new — which
 * makes the index four times cheaper to build and to hold. `alloc` lets the
 * caller place the tables in shared memory. Runs of one repeated byte keep
 * only their first position, so chains stay short.
 */
export function buildIndex(
  text: Uint8Array,
  alloc: (ints: number) => Int32Array = (n) => new Int32Array(n),
): HashIndex {
  const n = text.length;
  const bits = indexBits(n >>> 2);
  const shift = 32 - bits;
  const head = alloc(1 << bits).fill(-1);
  const prev = alloc(Math.max(1, n));
  const last = n - SEED;
  for (let i = 0; i <= last; i++) {
    const h = hashAt(text, i);
    if ((h & ANCHOR_MASK) !== 0) continue;
    if (i > 0 && text[i + SEED - 1] === text[i - 1] && isRun(text, i)) continue;
    const slot = h >>> shift;
    prev[i] = head[slot]!;
    head[slot] = i;
  }
  return { bits, head, prev };
}

function isRun(t: Uint8Array, i: number): boolean {
  const c = t[i - 1];
  for (let k = 0; k < SEED; k++) if (t[i + k] !== c) return false;
  return true;
}

function matchLen(old: Uint8Array, o: number, nw: Uint8Array, s: number): number {
  const max = Math.min(old.length - o, nw.length - s);
  let i = 0;
  while (i < max && old[o + i] === nw[s + i]) i++;
  return i;
}

/** Longest match of nw[scan..] in old: the alignment first, then the index. */
function search(
  index: HashIndex,
  old: Uint8Array,
  nw: Uint8Array,
  scan: number,
  aligned: number,
  result: { pos: number },
): number {
  let best = 0;
  let bestPos = -1;
  if (aligned >= 0 && aligned < old.length) {
    best = matchLen(old, aligned, nw, scan);
    bestPos = aligned;
    if (best >= GOOD) {
      result.pos = bestPos;
      return best;
    }
  }
  // The first two anchors at or after scan: an old position c matching at anchor a proposes c - (a - scan).
  const prev = index.prev;
  const shift = 32 - index.bits;
  const end = Math.min(nw.length - SEED, scan + ANCHOR_WINDOW);
  let anchors = 0;
  for (let a = scan; a <= end && anchors < 2; a++) {
    const h = hashAt(nw, a);
    if ((h & ANCHOR_MASK) !== 0) continue;
    anchors++;
    const back = a - scan;
    let c = index.head[h >>> shift]!;
    for (let k = 0; c >= 0 && k < MAX_CHAIN; k++, c = prev[c]!) {
      const start = c - back;
      // Cheap rejects: the match must reach the anchor, and go past the best so far.
      if (
        start < 0 ||
        start === bestPos ||
        old[c] !== nw[a] ||
        (best > 0 && (start + best >= old.length || old[start + best] !== nw[scan + best]))
      )
        continue;
      const len = matchLen(old, start, nw, scan);
      if (len > best) {
        best = len;
        bestPos = start;
        if (len >= ENOUGH) break;
      }
    }
    if (best >= ENOUGH) break;
  }
  result.pos = Math.max(0, bestPos);
  return best;
}

/**
 * bsdiff 4.3's loop: emit pieces of `nw` as (newStart, len, oldStart) into
 * `out` (oldStart -1 for literal bytes). Pieces tile nw in order.
 */
export function diffScan(
  old: Uint8Array,
  index: HashIndex,
  nw: Uint8Array,
  emit: (newStart: number, len: number, oldStart: number) => void,
): void {
  const oldSize = old.length;
  const newSize = nw.length;
  let scan = 0;
  let len = 0;
  let pos = 0;
  let lastScan = 0;
  let lastPos = 0;
  let lastOffset = 0;
  const found = { pos: 0 };
  while (scan < newSize) {
    let oldScore = 0;
    let scsc = (scan += len);
    for (; scan < newSize; scan++) {
      len = search(index, old, nw, scan, scan + lastOffset, found);
      pos = found.pos;
      for (; scsc < scan + len; scsc++)
        if (scsc + lastOffset < oldSize && old[scsc + lastOffset] === nw[scsc]) oldScore++;
      if ((len === oldScore && len !== 0) || len > oldScore + 8) break;
      if (scan + lastOffset < oldSize && old[scan + lastOffset] === nw[scan]) oldScore--;
    }
    if (len !== oldScore || scan === newSize) {
      let s = 0;
      let sf = 0;
      let lenF = 0;
      for (let i = 0; lastScan + i < scan && lastPos + i < oldSize;) {
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
      const extra = scan - lenB - (lastScan + lenF);
      if (lenF > 0) emit(lastScan, lenF, lastPos);
      if (extra > 0) emit(lastScan + lenF, extra, -1);
      lastScan = scan - lenB;
      lastPos = pos - lenB;
      lastOffset = pos - scan;
    }
  }
}

/** Pieces of nw[from, to) as (newStart, len, oldStart) triples, newStart relative to `nw`. */
export function diffRange(old: Uint8Array, index: HashIndex, nw: Uint8Array, from: number, to: number): Int32Array {
  let out = new Int32Array(3 * 256);
  let n = 0;
  diffScan(old, index, nw.subarray(from, to), (newStart, len, oldStart) => {
    if (n + 3 > out.length) {
      const next = new Int32Array(out.length * 2);
      next.set(out);
      out = next;
    }
    out[n++] = newStart + from;
    out[n++] = len;
    out[n++] = oldStart;
  });
  return out.slice(0, n);
}
