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
 *   scan, scan+1, … up to the first four anchors and tries each old occurrence
 *   (most recent first, at most MAX_CHAIN per anchor, REST_CHAIN in the rest job) shifted back to scan;
 *   the longest match wins, the alignment wins ties. So a match is found when
 *   it reaches an anchor; short ones (under ~12 bytes) only at the alignment,
 *   which is where bsdiff's loop uses them.
 * - In a member diffed against its previous version (`skipGaps`), no lookup
 *   is made while the alignment misses at most GAP_MISSES of the next
 *   GAP_SPAN bytes: bsdiff's loop would leave the alignment only for a match
 *   more than 8 bytes better over the same span, which nothing that short
 *   can be — it is a moved rel32 field, not a new place. The misses are
 *   counted in a sliding window (GapWindow), each byte once. Not in the rest
 *   job: there a tar header aligned to the wrong old header looks just like
 *   that, and a lookup finds the right one (+12 % patch size without it on
 *   the 100,000-files pair).
 *
 * The loop around the search (oldScore, the forward/backward extension and
 * overlap split, the diff/extra pieces) is bsdiff's, line for line, so patches
 * come out the size of bsdiff's — with two differences in the rest job: a new
 * place must beat the current alignment by more than REST_GAIN bytes, not 8
 * (see there), and mismatched stretches at the ends of matched pieces go
 * literal (see `trim` in diffScan). The index costs two hashing passes over
 * old and ~2 bytes per old byte (see buildIndex).
 *
 * This file imports nothing, so the worker entry (worker.ts) stays small.
 */

/** Bytes hashed per index entry: the shortest match the index finds (shorter ones only at the alignment). */
export const SEED = 8;
/** An alignment match this long is taken without asking the index. */
const GOOD = 32;
/** The alignment's window and misses below which no lookup is made (see search). */
const GAP_SPAN = 64;
const GAP_MISSES = 8;
/** Candidates examined per lookup in a member against its previous version (the match is almost always recent). */
const MAX_CHAIN = 24;
/**
 * Anchors held ahead of the scan. Four rather than two: on the easy pair's tar the patch is 0.7 % smaller
 * (2,198,244 -> 2,183,061 B; hard-1 and many-100000 within 0.1 %, patch stage time +2-8 %); eight gave
 * only 0.15 % more (bench, 2026-11-28).
 */
const ANCHORS = 4;
/**
 * Candidates per lookup in the rest job (headers, small and new files against every old byte nobody used):
 * there the right old file is one of many with the same 8-byte strings, and with 24 candidates it was
 * mostly missed (100,000-files pair: patch 1,225,340 B; with 128: 988,858 B; Debian bsdiff 876,237 B).
 */
const REST_CHAIN = 128;
/** bsdiff's rule: the loop leaves the current alignment for a match more than this many bytes better over the same span. */
const GAIN = 8;
/**
 * The same rule in the rest job (headers, small and new files against every old byte nobody used). Each new
 * place costs a control triple: 24 bytes, the seek nearly incompressible (~5 bytes after bzip2), more than
 * 9 literal bytes of text compress to. bsdiff's 8 makes it encode new text as ~12-byte scraps of unrelated old
 * files: on the 100,000-files pair Debian bsdiff's patch of the added files alone against old text is 618 kB,
 * bzip2 of them 470 kB. With 16 and the trim (diffScan) that pair's patch is 735,657 B (8 without trim:
 * 988,858 B; Debian bsdiff 876,237 B on the same tars), the hard pair's +0.14 %; 24 gives 696,983 B but the
 * hard pair +0.6 %; 8 with the trim is still larger than Debian bsdiff's on small pairs (test/release/engine).
 */
const REST_GAIN = 16;
/**
 * Paired members: a new place that is far from the alignment (more than NEAR bytes of old away), does not
 * continue past its exact match (fewer than TAIL_MATCHES of the next TAIL bytes at its offset match), and
 * leaves an alignment that does not resume soon (fewer than TAIL_MATCHES of the next 2 × TAIL bytes) is a
 * coincidence — a string of common bytes found somewhere unrelated, inside rewritten data — and must beat
 * the alignment by more than FAR_GAIN bytes, not GAIN. A moved record or function continues at its offset
 * past its first changed field, or is near; an edited record of the same length is followed by the
 * alignment again (there a far match is what keeps its new bytes out of the diff block): those keep
 * bsdiff's rule. Such a triple's far seek costs ~4.5 bytes of compressed control for the 9–24 literal bytes
 * it saves; bzip2 codes those in fewer when there are many of them (a rewritten section of an executable),
 * in more when they are a few scraps. Measured (patch stage, 2026-11-28): easy pair 2,183,061 -> 2,144,171 B
 * (1.032x -> 1.013x Debian bsdiff's), hard-1 17,171,381 -> 16,637,086 B, 100,000-files pair unchanged (no
 * paired member). It loses where the rewritten bytes are few and alone: one easy library (2.5 MB, 165 kB
 * rewritten) diffed alone 72,379 -> 86,871 B (Debian bsdiff 67,973 B). ADR 0005.
 */
const FAR_GAIN = 24;
const NEAR = 4096;
const TAIL = 64;
const TAIL_MATCHES = 16;
/** A candidate this long ends the chain walk. */
const ENOUGH = 4096;

/**
 * Anchor positions of a text grouped by hash slot: the anchors of slot s are
 * pos[start[s] .. start[s+1]), ascending. Two 32-bit words per anchor (about
 * one old byte in four) instead of a link per byte: ~2 bytes per indexed byte.
 */
export interface HashIndex {
  bits: number;
  start: Int32Array;
  pos: Int32Array;
}

/** Low hash bits that must be zero at an anchor: one position in four is indexed. */
const ANCHOR_MASK = 3;
/** How far past `scan` a lookup looks for anchors. */
const ANCHOR_WINDOW = 24;

/** The hash of the 8 bytes whose little-endian words are `a` (bytes 0–3) and `b` (bytes 4–7). */
function mix(a: number, b: number): number {
  const h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b ^ (b >>> 15), 0x85ebca77);
  return (h ^ (h >>> 16)) >>> 0;
}

function hashAt(t: Uint8Array, i: number): number {
  return mix(
    t[i]! | (t[i + 1]! << 8) | (t[i + 2]! << 16) | (t[i + 3]! << 24),
    t[i + 4]! | (t[i + 5]! << 8) | (t[i + 6]! << 16) | (t[i + 7]! << 24),
  );
}

/** Head-table size for `n` positions: about one slot per position, 2^10 … 2^24. */
export function indexBits(n: number): number {
  let bits = 10;
  while (bits < 24 && 1 << bits < n) bits++;
  return bits;
}

/** A position that starts a run of SEED copies of the byte before it (only the run's first position is indexed). */
function inRun(t: Uint8Array, i: number): boolean {
  if (i === 0) return false;
  const c = t[i - 1];
  for (let k = 0; k < SEED; k++) if (t[i + k] !== c) return false;
  return true;
}

/**
 * One pass over the anchor positions of `text` (ascending). Without `fill`:
 * count them per group (top 8 bits of the slot) into `groups[g + 1]`. With it:
 * append each to its group, `pos` and `sub` (the slot's low bits) at
 * `fill[g]++`. One function with a flag rather than a callback: V8 inlines
 * nothing through a callback that sees two closures, and this loop runs at
 * every old byte.
 */
function anchorPass(
  text: Uint8Array,
  shift: number,
  low: number,
  groups: Int32Array,
  fill: Int32Array | null,
  pos: Int32Array,
  sub: Uint16Array,
): void {
  const last = text.length - SEED;
  if (last < 0) return;
  const lowMask = (1 << low) - 1;
  // Rolling little-endian words of bytes i..i+3 and i+4..i+7: two byte loads per position.
  let a = (text[0]! << 8) | (text[1]! << 16) | (text[2]! << 24);
  let b = (text[4]! << 8) | (text[5]! << 16) | (text[6]! << 24);
  for (let i = 0; i <= last; i++) {
    a = (a >>> 8) | (text[i + 3]! << 24);
    b = (b >>> 8) | (text[i + 7]! << 24);
    const h = mix(a, b);
    if ((h & ANCHOR_MASK) !== 0 || (text[i + SEED - 1] === text[i - 1] && inRun(text, i))) continue;
    const g = h >>> (shift + low);
    if (fill === null) groups[g + 1]!++;
    else {
      const k = fill[g]!++;
      pos[k] = i;
      sub[k] = (h >>> shift) & lowMask;
    }
  }
}

/**
 * Build the index of `text`. Only anchor positions are indexed — those whose
 * 8-byte hash has its low two bits zero, one position in four on average,
 * chosen by content so the same bytes are anchors in old and new. Runs of one
 * repeated byte keep only their first position, so slots stay short.
 *
 * Placing anchors straight into a table the size of the text misses the cache
 * at every anchor; instead they are first grouped by the top 8 bits of their
 * slot (256 sequential streams), then each group is counting-sorted within its
 * own small range of slots. Peak ~3 bytes per text byte, 2 once built. `alloc`
 * lets the caller place the tables in shared memory.
 */
export function buildIndex(
  text: Uint8Array,
  alloc: (ints: number) => Int32Array = (n) => new Int32Array(n),
): HashIndex {
  const bits = indexBits(text.length >>> 2);
  const shift = 32 - bits;
  const slots = 1 << bits;
  const low = bits - 8;
  const lowMask = (1 << low) - 1;
  const groupStart = new Int32Array(257);
  anchorPass(text, shift, low, groupStart, null, groupStart, new Uint16Array(0));
  for (let g = 1; g <= 256; g++) groupStart[g]! += groupStart[g - 1]!;
  const count = groupStart[256]!;
  // One allocation for both tables, so a caller can hand the same memory to the next index.
  const table = alloc(slots + 1 + count);
  const start = table.subarray(0, slots + 1);
  const pos = table.subarray(slots + 1, slots + 1 + count);
  const sub = scratch16(count);
  anchorPass(text, shift, low, groupStart, groupStart.slice(0, 256), pos, sub);
  let biggest = 0;
  for (let g = 0; g < 256; g++) biggest = Math.max(biggest, groupStart[g + 1]! - groupStart[g]!);
  const tmpPos = new Int32Array(biggest);
  const tmpSub = new Uint16Array(biggest);
  const next = new Int32Array(1 << low);
  for (let g = 0; g < 256; g++) {
    const from = groupStart[g]!;
    const size = groupStart[g + 1]! - from;
    next.fill(0);
    for (let k = 0; k < size; k++) next[sub[from + k]!]!++;
    let at = from;
    for (let s = 0; s <= lowMask; s++) {
      const c = next[s]!;
      start[(g << low) + s] = at;
      next[s] = at;
      at += c;
    }
    tmpPos.set(pos.subarray(from, from + size));
    tmpSub.set(sub.subarray(from, from + size));
    for (let k = 0; k < size; k++) pos[next[tmpSub[k]!]!++] = tmpPos[k]!;
  }
  start[slots] = count;
  return { bits, start, pos };
}

/** This thread's scratch for slot numbers while an index is built: kept between builds (it only grows). */
let scratch: Uint16Array = new Uint16Array(0);
function scratch16(n: number): Uint16Array {
  if (scratch.length < n) scratch = new Uint16Array(Math.max(n, scratch.length * 2));
  return scratch;
}

/**
 * An `alloc` for `buildIndex` that hands out the same memory again while it
 * is large enough (one index at a time per reuser), so a thread that builds
 * many indexes does not leave a trail of dead tables for the collector.
 */
export function reusing(make: (ints: number) => Int32Array): (ints: number) => Int32Array {
  let kept: Int32Array | undefined;
  return (n) => {
    if (kept === undefined || kept.length < n) kept = make(Math.max(n, Math.floor((kept?.length ?? 0) * 1.5)));
    return kept.subarray(0, n);
  };
}

/**
 * The anchor lookups of one scan. bsdiff's loop searches at scan, scan+1, …
 * and each search uses the first ANCHORS anchors at or after scan, so consecutive
 * searches share anchors: each new position is hashed once, and each anchor's
 * candidates (the old positions in its slot whose byte equals the anchor's, from
 * the first MAX_CHAIN of the slot) are gathered once and kept while the anchor
 * is in the window. The answers are those of a fresh lookup at every scan.
 */
class Anchors {
  /** Up to ANCHORS anchors at or after the last scan: position, candidate count, candidates. */
  private readonly at = new Array<number>(ANCHORS).fill(0);
  private readonly count = new Array<number>(ANCHORS).fill(0);
  private readonly cands: Int32Array[];
  size = 0;
  /** Next new position to hash. */
  private next = 0;
  private readonly shift: number;

  constructor(
    private readonly index: HashIndex,
    private readonly old: Uint8Array,
    private readonly nw: Uint8Array,
    private readonly maxChain: number,
  ) {
    this.shift = 32 - index.bits;
    this.cands = Array.from({ length: ANCHORS }, () => new Int32Array(maxChain));
  }

  /** Bring the window to `scan`: drop anchors before it, hash on until ANCHORS anchors are held or past scan+ANCHOR_WINDOW. */
  advance(scan: number): void {
    if (this.next < scan) {
      this.size = 0;
      this.next = scan;
    }
    while (this.size > 0 && this.at[0]! < scan) this.shiftOut();
    const end = Math.min(this.nw.length - SEED, scan + ANCHOR_WINDOW);
    const nw = this.nw;
    while (this.size < ANCHORS && this.next <= end) {
      const a = this.next++;
      const h = hashAt(nw, a);
      if ((h & ANCHOR_MASK) !== 0) continue;
      const slot = h >>> this.shift;
      const { start, pos } = this.index;
      const lo = start[slot]!;
      const out = this.cands[this.size]!;
      let n = 0;
      const byte = nw[a];
      for (let j = start[slot + 1]! - 1, k = 0; j >= lo && k < this.maxChain; j--, k++) {
        const c = pos[j]!;
        if (this.old[c] === byte) out[n++] = c;
      }
      this.at[this.size] = a;
      this.count[this.size] = n;
      this.size++;
    }
  }

  anchor(k: number): number {
    return this.at[k]!;
  }
  candidates(k: number): Int32Array {
    return this.cands[k]!;
  }
  candidateCount(k: number): number {
    return this.count[k]!;
  }

  private shiftOut(): void {
    const c = this.cands[0]!;
    for (let k = 1; k < this.size; k++) {
      this.cands[k - 1] = this.cands[k]!;
      this.at[k - 1] = this.at[k]!;
      this.count[k - 1] = this.count[k]!;
    }
    this.cands[this.size - 1] = c;
    this.size--;
  }
}

function matchLen(old: Uint8Array, o: number, nw: Uint8Array, s: number): number {
  const max = Math.min(old.length - o, nw.length - s);
  let i = 0;
  while (i < max && old[o + i] === nw[s + i]) i++;
  return i;
}

/**
 * Mismatches of the alignment over nw[scan, scan + GAP_SPAN) (a position past
 * the end of old counts as one), kept as a sliding window: consecutive
 * queries at the same alignment and rising `scan` compare each byte once
 * instead of GAP_SPAN times. The count is exact, whatever the query order.
 */
class GapWindow {
  private offset = NaN;
  private from = 0;
  private to = 0;
  private count = 0;

  misses(old: Uint8Array, nw: Uint8Array, scan: number, offset: number): number {
    if (offset !== this.offset || scan < this.from || scan > this.to) {
      this.offset = offset;
      this.from = this.to = scan;
      this.count = 0;
    }
    const miss = (i: number): number => (i + offset >= old.length || old[i + offset] !== nw[i] ? 1 : 0);
    for (; this.from < scan; this.from++) this.count -= miss(this.from);
    for (const end = scan + GAP_SPAN; this.to < end; this.to++) this.count += miss(this.to);
    return this.count;
  }
}

/** Longest match of nw[scan..] in old: the alignment first, then the anchors' candidates. */
function search(
  anchors: Anchors,
  old: Uint8Array,
  nw: Uint8Array,
  scan: number,
  aligned: number,
  result: { pos: number },
  gap: GapWindow | null,
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
  // bsdiff's loop leaves the alignment only for a match more than 8 bytes better than the alignment does
  // over the same span; if the alignment misses at most 8 of the next GAP_SPAN bytes, nothing that short
  // qualifies: this is a moved rel32 field, not a new place. Skip the lookup.
  if (
    gap !== null &&
    bestPos >= 0 &&
    scan + GAP_SPAN <= nw.length &&
    gap.misses(old, nw, scan, aligned - scan) <= GAP_MISSES
  ) {
    result.pos = bestPos;
    return best;
  }
  // The first two anchors at or after scan: an old position c matching at anchor a proposes c - (a - scan).
  anchors.advance(scan);
  for (let k = 0; k < anchors.size; k++) {
    const back = anchors.anchor(k) - scan;
    const cands = anchors.candidates(k);
    const n = anchors.candidateCount(k);
    for (let j = 0; j < n; j++) {
      const start = cands[j]! - back;
      // Cheap rejects: the match must go past the best so far.
      if (
        start < 0 ||
        start === bestPos ||
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
 * A match of `len` bytes at old[pos..] for nw[scan..] that is a coincidence rather than moved data: far from
 * the alignment, its offset matches fewer than TAIL_MATCHES of the TAIL bytes after the exact match, and the
 * alignment itself fewer than TAIL_MATCHES of the next 2 × TAIL bytes (see FAR_GAIN).
 */
function coincidental(
  old: Uint8Array,
  nw: Uint8Array,
  scan: number,
  len: number,
  pos: number,
  offset: number,
): boolean {
  if (Math.abs(pos - (scan + offset)) <= NEAR) return false;
  const end = Math.min(nw.length - scan, old.length - pos, len + TAIL);
  let m = 0;
  for (let i = len; i < end; i++) if (old[pos + i] === nw[scan + i]) m++;
  if (m >= TAIL_MATCHES) return false;
  // The alignment resumes soon (an edited record of the same length): leave it as bsdiff does.
  const a = scan + offset;
  const aend = Math.min(nw.length - scan, old.length - a, 2 * TAIL);
  let k = 0;
  for (let i = Math.max(0, -a); i < aend; i++) if (old[a + i] === nw[scan + i]) k++;
  return k < TAIL_MATCHES;
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
  skipGaps = false,
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
  const anchors = new Anchors(index, old, nw, skipGaps ? MAX_CHAIN : REST_CHAIN);
  const gap = skipGaps ? new GapWindow() : null;
  const gain = skipGaps ? GAIN : REST_GAIN;
  // Paired members only (the rest job has its own REST_GAIN and trim): see FAR_GAIN.
  const farGain = skipGaps ? FAR_GAIN : 0;
  const trim = !skipGaps;
  while (scan < newSize) {
    let oldScore = 0;
    let scsc = (scan += len);
    for (; scan < newSize; scan++) {
      len = search(anchors, old, nw, scan, scan + lastOffset, found, gap);
      pos = found.pos;
      for (; scsc < scan + len; scsc++)
        if (scsc + lastOffset < oldSize && old[scsc + lastOffset] === nw[scsc]) oldScore++;
      if (
        (len === oldScore && len !== 0) ||
        (len > oldScore + gain &&
          (farGain === 0 || len > oldScore + farGain || !coincidental(old, nw, scan, len, pos, lastOffset)))
      )
        break;
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
      // Rest job: the split above can leave a stretch that neither place matches (text inserted into an edited
      // file, between two long matches through tar headers, which bsdiff's extension rule accepts because the
      // headers around it match well) inside a matched piece, as nonzero diff bytes. Cut, from the new piece's
      // head and the last piece's tail, the stretch where mismatches outnumber matches most: it goes literal.
      if (trim) {
        let t = 0;
        let low = 0;
        let cut = 0;
        for (let i = 0; i < lenB; i++) {
          t += old[pos - lenB + i] === nw[scan - lenB + i] ? 1 : -1;
          if (t < low) {
            low = t;
            cut = i + 1;
          }
        }
        lenB -= cut;
        t = 0;
        low = 0;
        cut = 0;
        for (let i = 1; i <= lenF; i++) {
          t += old[lastPos + lenF - i] === nw[lastScan + lenF - i] ? 1 : -1;
          if (t < low) {
            low = t;
            cut = i;
          }
        }
        lenF -= cut;
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
export function diffRange(
  old: Uint8Array,
  index: HashIndex,
  nw: Uint8Array,
  from: number,
  to: number,
  skipGaps = false,
): Int32Array {
  let out = new Int32Array(3 * 256);
  let n = 0;
  diffScan(
    old,
    index,
    nw.subarray(from, to),
    (newStart, len, oldStart) => {
      if (n + 3 > out.length) {
        const next = new Int32Array(out.length * 2);
        next.set(out);
        out = next;
      }
      out[n++] = newStart + from;
      out[n++] = len;
      out[n++] = oldStart;
    },
    skipGaps,
  );
  return out.slice(0, n);
}
