/**
 * Suffix array construction by induced sorting (SA-IS, Nong, Zhang & Chan 2009).
 *
 * Linear time, and the only memory beyond the 4-byte-per-position result is one
 * type bit per position plus bucket tables: the reduced problem is solved
 * inside the result array itself (names in its upper half, the recursive suffix
 * array in its lower half). bsdiff's qsufsort needs two 8-byte arrays per
 * position and O(n log n) time; this is where most of our speed and memory win
 * comes from (docs/adr/0005).
 *
 * The input has no terminator: a virtual sentinel, smaller than every symbol,
 * sits just past the end, so 200 MB inputs are never copied.
 */

type Text = Uint8Array | Int32Array;

/** Largest input we index: positions are 32-bit signed integers. */
export const MAX_SUFFIX_ARRAY_INPUT = 0x7fff_fff0;

/** Suffix array of `text` (symbols in `0..alphabet-1`), written into `sa` (length ≥ text.length). */
export function suffixArray(text: Uint8Array, sa?: Int32Array): Int32Array {
  const n = text.length;
  if (n > MAX_SUFFIX_ARRAY_INPUT) throw new RangeError(`input of ${n} bytes is too large for a 32-bit suffix array`);
  const out = sa ?? new Int32Array(n);
  if (out.length < n) throw new RangeError('suffix array buffer too small');
  sais(text, out.length === n ? out : out.subarray(0, n), n, 256);
  return out;
}

/** Worker entry (workers.ts): fill `sa` for `text`, both in shared memory. */
export function suffixArrayJob(args: { text: Uint8Array; sa: Int32Array }): null {
  suffixArray(args.text, args.sa);
  return null;
}

function bucketEnds(k: number, counts: Int32Array, bkt: Int32Array, end: boolean): void {
  let sum = 0;
  for (let c = 0; c < k; c++) {
    sum += counts[c]!;
    bkt[c] = end ? sum : sum - counts[c]!;
  }
}

/** Type bits are packed eight to a byte: n/8 bytes stay in cache far better than n. */
function sType(t: Uint8Array, i: number): number {
  return (t[i >>> 3]! >>> (i & 7)) & 1;
}

/**
 * Induced sorting: from the LMS suffixes at their buckets' ends, the L-type
 * suffixes in order (left to right from the buckets' starts), then the S-type
 * ones (right to left from the buckets' ends).
 */
function induce(
  text: Text,
  sa: Int32Array,
  t: Uint8Array,
  n: number,
  k: number,
  counts: Int32Array,
  bkt: Int32Array,
): void {
  bucketEnds(k, counts, bkt, false);
  // The virtual sentinel's predecessor (n-1) is always L-type and comes first.
  sa[bkt[text[n - 1]!]!++] = n - 1;
  for (let i = 0; i < n; i++) {
    const j = sa[i]! - 1;
    if (j >= 0 && sType(t, j) === 0) sa[bkt[text[j]!]!++] = j;
  }
  bucketEnds(k, counts, bkt, true);
  for (let i = n - 1; i >= 0; i--) {
    const j = sa[i]! - 1;
    if (j >= 0 && sType(t, j) === 1) sa[--bkt[text[j]!]!] = j;
  }
}

function sais(text: Text, sa: Int32Array, n: number, k: number): void {
  if (n === 0) return;
  if (n === 1) {
    sa[0] = 0;
    return;
  }
  // Bit i of t is 1 for S-type suffixes, 0 for L-type; the suffix before the sentinel is L.
  const t = new Uint8Array((n + 7) >>> 3);
  let next = 0;
  for (let i = n - 2; i >= 0; i--) {
    const a = text[i]!;
    const b = text[i + 1]!;
    next = a < b || (a === b && next === 1) ? 1 : 0;
    if (next === 1) t[i >>> 3]! |= 1 << (i & 7);
  }
  const isLms = (i: number): boolean => i > 0 && sType(t, i) === 1 && sType(t, i - 1) === 0;

  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) counts[text[i]!]!++;
  const bkt = new Int32Array(k);

  // Stage 1: sort the LMS substrings by induction.
  sa.fill(-1, 0, n);
  bucketEnds(k, counts, bkt, true);
  for (let i = 1; i < n; i++) if (isLms(i)) sa[--bkt[text[i]!]!] = i;
  induce(text, sa, t, n, k, counts, bkt);

  let n1 = 0;
  for (let i = 0; i < n; i++) {
    const p = sa[i]!;
    if (isLms(p)) sa[n1++] = p;
  }
  // Name the LMS substrings; equal substrings get equal names.
  sa.fill(-1, n1, n);
  let name = 0;
  let prev = -1;
  for (let i = 0; i < n1; i++) {
    const pos = sa[i]!;
    let diff = false;
    if (prev === -1) diff = true;
    else {
      for (let d = 0; ; d++) {
        if (pos + d === n || prev + d === n) {
          diff = true;
          break;
        }
        if (text[pos + d] !== text[prev + d] || sType(t, pos + d) !== sType(t, prev + d)) {
          diff = true;
          break;
        }
        if (d > 0 && (isLms(pos + d) || isLms(prev + d))) break;
      }
    }
    if (diff) {
      name++;
      prev = pos;
    }
    sa[n1 + (pos >> 1)] = name - 1;
  }
  for (let i = n - 1, j = n - 1; i >= n1; i--) if (sa[i]! >= 0) sa[j--] = sa[i]!;

  // Stage 2: solve the reduced problem (recursively if names repeat).
  const sa1 = sa.subarray(0, n1);
  const s1 = sa.subarray(n - n1, n);
  if (name < n1) sais(s1, sa1, n1, name);
  else for (let i = 0; i < n1; i++) sa1[s1[i]!] = i;

  // Stage 3: induce the full order from the sorted LMS suffixes.
  for (let i = 1, j = 0; i < n; i++) if (isLms(i)) s1[j++] = i;
  for (let i = 0; i < n1; i++) sa1[i] = s1[sa1[i]!]!;
  sa.fill(-1, n1, n);
  bucketEnds(k, counts, bkt, true);
  for (let i = n1 - 1; i >= 0; i--) {
    const j = sa[i]!;
    sa[i] = -1;
    sa[--bkt[text[j]!]!] = j;
  }
  induce(text, sa, t, n, k, counts, bkt);
}

/**
 * Used by the bzip2 encoder: sort the cyclic rotations of `block[0, n)` into
 * `out`. When the block is primitive (not a repetition of a shorter string),
 * its least rotation R is a Lyndon word, and the rotations of a Lyndon word
 * sort exactly as its suffixes do — so one suffix array over R (n symbols)
 * replaces the suffixes of block+block (2n). Otherwise the doubled block is
 * sorted. Both give the same order (rotations of a primitive block are
 * distinct), so the output does not depend on the path.
 */
export function sortRotations(
  block: Uint8Array,
  n: number,
  doubled: Uint8Array,
  sa: Int32Array,
  out: Int32Array,
): void {
  const k = leastRotation(block, n);
  if (n > 1 && isPrimitive(block, k, n, sa.subarray(n, 2 * n))) {
    doubled.set(block.subarray(k, n), 0);
    doubled.set(block.subarray(0, k), n - k);
    const view = sa.subarray(0, n);
    sais(doubled.subarray(0, n), view, n, 256);
    for (let i = 0; i < n; i++) {
      const p = view[i]! + k;
      out[i] = p >= n ? p - n : p;
    }
    return;
  }
  doubled.set(block.subarray(0, n), 0);
  doubled.set(block.subarray(0, n), n);
  const view = sa.subarray(0, 2 * n);
  sais(doubled.subarray(0, 2 * n), view, 2 * n, 256);
  let j = 0;
  for (let i = 0; i < 2 * n; i++) {
    const p = view[i]!;
    if (p < n) out[j++] = p;
  }
}

/** Start of the lexicographically least rotation of s[0, n) (the two-pointer minimum-expression algorithm, O(n)). */
function leastRotation(s: Uint8Array, n: number): number {
  let i = 0;
  let j = 1;
  let k = 0;
  while (i < n && j < n && k < n) {
    const a = s[i + k < n ? i + k : i + k - n]!;
    const b = s[j + k < n ? j + k : j + k - n]!;
    if (a === b) {
      k++;
      continue;
    }
    if (a > b) i += k + 1;
    else j += k + 1;
    if (i === j) j++;
    k = 0;
  }
  return Math.min(i, j) % Math.max(1, n);
}

/** Whether the rotation of s starting at k (hence s) is not a power of a shorter string; `fail` is scratch of n ints (KMP failure function). */
function isPrimitive(s: Uint8Array, k: number, n: number, fail: Int32Array): boolean {
  const at = (i: number): number => s[i + k < n ? i + k : i + k - n]!;
  fail[0] = 0;
  let len = 0;
  for (let i = 1; i < n; i++) {
    while (len > 0 && at(i) !== at(len)) len = fail[len - 1]!;
    if (at(i) === at(len)) len++;
    fail[i] = len;
  }
  const period = n - fail[n - 1]!;
  return period === n || n % period !== 0;
}
