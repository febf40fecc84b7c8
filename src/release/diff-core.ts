/**
 * bsdiff 4.3's match loop, kept free of imports so a worker thread can load
 * this file on its own (compiled `.js`, or the `.ts` transpiled under ts-jest;
 * see workers.ts).
 */

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

/** A suffix array over `text`, which starts at `base` in the indexed buffer. */
export interface IndexPart {
  text: Uint8Array;
  sa: Int32Array;
  base: number;
}

/** Longest match over all parts; the first part wins ties, so results do not depend on how parts were built. */
function searchParts(parts: IndexPart[], nw: Uint8Array, scan: number, result: { pos: number }, tmp: { pos: number }): number {
  let best = -1;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const len = search(p.sa, p.text, nw, scan, tmp);
    if (len > best) {
      best = len;
      result.pos = p.base + tmp.pos;
    }
  }
  return best;
}

/** One piece of the new file: `len` bytes either as old[oldStart..] + diff (add), or literal (extra, oldStart -1). */
export interface Op {
  newStart: number;
  len: number;
  oldStart: number;
}

/**
 * bsdiff 4.3's match loop over (old, nw) with a suffix array of old. Emits, in
 * new-file order, the approximate-match (add) and literal (extra) pieces.
 */
export function diffCore(old: Uint8Array, nw: Uint8Array, parts: IndexPart[], emit: (op: Op) => void, onScan?: (done: number) => void): void {
  const oldSize = old.length;
  const newSize = nw.length;
  const found = { pos: 0 };
  const tmp = { pos: 0 };
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
      len = searchParts(parts, nw, scan, found, tmp);
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
      const extra = scan - lenB - (lastScan + lenF);
      if (lenF > 0) emit({ newStart: lastScan, len: lenF, oldStart: lastPos });
      if (extra > 0) emit({ newStart: lastScan + lenF, len: extra, oldStart: -1 });
      lastScan = scan - lenB;
      lastPos = pos - lenB;
      lastOffset = pos - scan;
      if (onScan !== undefined && scan >= nextReport) {
        onScan(scan);
        nextReport = scan + (1 << 22);
      }
    }
  }
}


/**
 * Worker job: bsdiff's loop over `nw` (one part of the unmatched new bytes)
 * against the shared index; the pieces come back as (newStart, len, oldStart)
 * triples relative to `nw` and to the indexed buffer.
 */
export function diffJob(args: { old: Uint8Array; nw: Uint8Array; parts: IndexPart[] }): Int32Array {
  let out = new Int32Array(3 * 1024);
  let n = 0;
  diffCore(args.old, args.nw, args.parts, (op) => {
    if (n + 3 > out.length) {
      const next = new Int32Array(out.length * 2);
      next.set(out);
      out = next;
    }
    out[n++] = op.newStart;
    out[n++] = op.len;
    out[n++] = op.oldStart;
  });
  return out.slice(0, n);
}

/**
 * Take fixed-size chunks of `nw` off a shared counter until none are left, and
 * diff each on its own. Run by this thread and a worker at once: whoever takes
 * a chunk, its pieces depend only on the chunk, so the patch is the same.
 */
export function diffChunks(args: { old: Uint8Array; nw: Uint8Array; parts: IndexPart[]; chunk: number; counter: Int32Array }): { index: number[]; triples: Int32Array[] } {
  const count = Math.ceil(args.nw.length / args.chunk);
  const out = { index: [] as number[], triples: [] as Int32Array[] };
  for (;;) {
    const i = Atomics.add(args.counter, 0, 1);
    if (i >= count) return out;
    out.index.push(i);
    out.triples.push(diffChunk(args.old, args.nw, args.parts, i * args.chunk, Math.min(args.nw.length, (i + 1) * args.chunk)));
  }
}

/** Pieces of `nw[from, to)`, with newStart relative to `nw`. */
export function diffChunk(old: Uint8Array, nw: Uint8Array, parts: IndexPart[], from: number, to: number): Int32Array {
  const t = diffJob({ old, nw: nw.subarray(from, to), parts });
  for (let i = 0; i < t.length; i += 3) t[i]! += from;
  return t;
}
