/**
 * A bzip2 encoder (format of bzip2 1.0.x, 900 kB blocks), needed because the
 * BSDIFF40 patch format compresses its three blocks with bzip2 and Node has
 * no bzip2. The stages follow libbzip2's compress.c: initial run-length
 * coding, Burrows–Wheeler transform (rotations sorted with SA-IS), move-to-front
 * with RUNA/RUNB zero-run coding, and 2–6 Huffman tables chosen per 50-symbol
 * group with four refinement passes. Output is decoded by libbzip2 (Debian
 * `bspatch`, Python `bz2`, `bzip2 -d`).
 */
import { sortRotations } from './sais';

const BLOCK_MAX = 900_000 - 19; // libbzip2's nblockMAX at level 9
const GROUP = 50;
const MAX_CODE_LEN = 17;

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c;
  }
  return table;
})();

/**
 * The CRC after 255 copies of byte c, in four table lookups instead of 255
 * steps (long runs of zeros fill the diff block). The CRC step is linear over
 * GF(2) in (state, byte), so 255 steps are T(state) xor K(c): T is taken one
 * state byte at a time (four tables), K(c) is the run from state 0.
 */
let run255: { t: Int32Array; k: Int32Array } | undefined;
function crcRun255(crc: number, c: number): number {
  if (run255 === undefined) {
    const step = (state: number, byte: number, times: number): number => {
      for (let i = 0; i < times; i++) state = (state << 8) ^ CRC_TABLE[((state >>> 24) ^ byte) & 0xff]!;
      return state;
    };
    const t = new Int32Array(4 * 256);
    for (let j = 0; j < 4; j++) for (let v = 0; v < 256; v++) t[j * 256 + v] = step(v << (8 * j), 0, 255);
    const k = new Int32Array(256);
    for (let b = 0; b < 256; b++) k[b] = step(0, b, 255);
    run255 = { t, k };
  }
  const { t, k } = run255;
  return (
    t[crc & 0xff]! ^ t[256 + ((crc >>> 8) & 0xff)]! ^ t[512 + ((crc >>> 16) & 0xff)]! ^ t[768 + (crc >>> 24)]! ^ k[c]!
  );
}

/** The CRC after `run` copies of byte c. */
function crcRun(crc: number, c: number, run: number): number {
  if (run === 255) return crcRun255(crc, c);
  for (let k = 0; k < run; k++) crc = (crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ c) & 0xff]!;
  return crc;
}

/** RLE1: one run of 1–255 copies of c appended at block[blen] (four copies and a count from four on); the new length. */
function putRun(block: Uint8Array, blen: number, c: number, run: number): number {
  if (run < 4) {
    for (let k = 0; k < run; k++) block[blen++] = c;
    return blen;
  }
  block[blen] = c;
  block[blen + 1] = c;
  block[blen + 2] = c;
  block[blen + 3] = c;
  block[blen + 4] = run - 4;
  return blen + 5;
}

class BitWriter {
  private buf: Uint8Array;
  private len = 0;
  private acc = 0;
  private bits = 0;

  constructor(initial: number) {
    this.buf = new Uint8Array(Math.max(64, initial));
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Write the low `n` bits of `v` (n ≤ 24). */
  write(n: number, v: number): void {
    this.acc = (this.acc << n) | (v & ((1 << n) - 1));
    this.bits += n;
    if (this.bits >= 8) {
      this.ensure(4);
      while (this.bits >= 8) {
        this.bits -= 8;
        this.buf[this.len++] = (this.acc >>> this.bits) & 0xff;
      }
      this.acc &= (1 << this.bits) - 1;
    }
  }

  write32(v: number): void {
    this.write(16, (v >>> 16) & 0xffff);
    this.write(16, v & 0xffff);
  }

  /** Bits written so far. */
  bitLength(): number {
    return this.len * 8 + this.bits;
  }

  finish(): Uint8Array {
    if (this.bits > 0) this.write(8 - this.bits, 0);
    return this.buf.slice(0, this.len);
  }
}

/** Huffman code lengths (1..maxLen) for every symbol; zero frequencies still get a code, as bzip2 requires. */
function codeLengths(freq: Int32Array, alphaSize: number, maxLen: number, out: Uint8Array): void {
  const weight = new Float64Array(alphaSize);
  for (let i = 0; i < alphaSize; i++) weight[i] = freq[i] === 0 ? 1 : freq[i]!;
  for (;;) {
    // Huffman tree over (weight, node) with a simple sorted merge; alphaSize ≤ 258.
    const parent = new Int32Array(2 * alphaSize).fill(-1);
    const nodes: { w: number; id: number }[] = [];
    for (let i = 0; i < alphaSize; i++) nodes.push({ w: weight[i]!, id: i });
    nodes.sort((a, b) => a.w - b.w || a.id - b.id);
    const merged: { w: number; id: number }[] = [];
    let a = 0;
    let m = 0;
    let next = alphaSize;
    const take = (): { w: number; id: number } => {
      if (a < nodes.length && (m >= merged.length || nodes[a]!.w <= merged[m]!.w)) return nodes[a++]!;
      return merged[m++]!;
    };
    for (let k = 0; k < alphaSize - 1; k++) {
      const x = take();
      const y = take();
      parent[x.id] = next;
      parent[y.id] = next;
      merged.push({ w: x.w + y.w, id: next });
      next++;
    }
    let tooLong = false;
    for (let i = 0; i < alphaSize; i++) {
      let d = 0;
      for (let p = i; parent[p]! !== -1; p = parent[p]!) d++;
      out[i] = d;
      if (d > maxLen) tooLong = true;
    }
    if (!tooLong) return;
    for (let i = 0; i < alphaSize; i++) weight[i] = 1 + Math.floor(weight[i]! / 2);
  }
}

/** Reusable buffers so that a many-block stream does not allocate per block. */
class Workspace {
  readonly doubled: Uint8Array;
  readonly sa: Int32Array;
  readonly order: Int32Array;
  readonly mtf: Uint16Array;
  constructor(size: number) {
    this.doubled = new Uint8Array(2 * size);
    this.sa = new Int32Array(2 * size);
    this.order = new Int32Array(size);
    this.mtf = new Uint16Array(size + 1);
  }
}

/**
 * One workspace per thread, kept between blocks: a fresh one per block (~13 MB
 * at 900 kB) cost as much in zeroing and garbage collection as the MTF stage.
 */
let cachedWorkspace: Workspace | undefined;
function threadWorkspace(size: number): Workspace {
  if (cachedWorkspace !== undefined && cachedWorkspace.order.length >= size) return cachedWorkspace;
  const ws = new Workspace(size);
  if (size >= BLOCK_MAX) cachedWorkspace = ws; // only full-size ones: small streams keep small memory
  return ws;
}

function compressBlock(block: Uint8Array, n: number, crc: number, w: BitWriter, ws: Workspace): void {
  sortRotations(block, n, ws.doubled, ws.sa, ws.order);
  const order = ws.order;
  let origPtr = 0;
  const inUse = new Uint8Array(256);
  for (let i = 0; i < n; i++) inUse[block[i]!] = 1;
  const seqOf = new Int32Array(256);
  let nInUse = 0;
  for (let c = 0; c < 256; c++) if (inUse[c]) seqOf[c] = nInUse++;

  // Move-to-front over the BWT column, with RUNA/RUNB for zero runs.
  const alphaSize = nInUse + 2;
  const eob = nInUse + 1;
  const list = new Uint8Array(nInUse);
  for (let i = 0; i < nInUse; i++) list[i] = i;
  const mtf = ws.mtf;
  const freq = new Int32Array(alphaSize);
  let nMtf = 0;
  let zRun = 0;
  const flushRun = (): void => {
    zRun--;
    for (;;) {
      const sym = zRun & 1;
      mtf[nMtf++] = sym;
      freq[sym]!++;
      if (zRun < 2) break;
      zRun = (zRun - 2) >> 1;
    }
    zRun = 0;
  };
  for (let i = 0; i < n; i++) {
    const start = order[i]!;
    if (start === 0) origPtr = i;
    const c = seqOf[block[start === 0 ? n - 1 : start - 1]!]!;
    if (list[0] === c) {
      zRun++;
      continue;
    }
    if (zRun > 0) flushRun();
    // Move c to the front: near the front by hand, farther with memchr/memmove (random data averages ~nInUse/2).
    let j: number;
    if (list[1] === c) {
      j = 1;
      list[1] = list[0]!;
    } else {
      j = list.indexOf(c);
      list.copyWithin(1, 0, j);
    }
    list[0] = c;
    mtf[nMtf++] = j + 1;
    freq[j + 1]!++;
  }
  if (zRun > 0) flushRun();
  mtf[nMtf++] = eob;
  freq[eob]!++;

  // Huffman tables: an initial split by frequency, then four refinement passes.
  const nGroups = nMtf < 200 ? 2 : nMtf < 600 ? 3 : nMtf < 1200 ? 4 : nMtf < 2400 ? 5 : 6;
  const lens: Uint8Array[] = [];
  for (let t = 0; t < nGroups; t++) lens.push(new Uint8Array(alphaSize));
  {
    let nPart = nGroups;
    let remF = nMtf;
    let gs = 0;
    while (nPart > 0) {
      const tFreq = Math.floor(remF / nPart);
      let ge = gs - 1;
      let aFreq = 0;
      while (aFreq < tFreq && ge < alphaSize - 1) {
        ge++;
        aFreq += freq[ge]!;
      }
      if (ge > gs && nPart !== nGroups && nPart !== 1 && (nGroups - nPart) % 2 === 1) {
        aFreq -= freq[ge]!;
        ge--;
      }
      const len = lens[nPart - 1]!;
      for (let v = 0; v < alphaSize; v++) len[v] = v >= gs && v <= ge ? 0 : 15;
      nPart--;
      gs = ge + 1;
      remF -= aFreq;
    }
  }
  const nSelectors = Math.ceil(nMtf / GROUP);
  const selectors = new Uint8Array(nSelectors);
  const rfreq: Int32Array[] = [];
  for (let t = 0; t < nGroups; t++) rfreq.push(new Int32Array(alphaSize));
  const cost = new Int32Array(6);
  const packed = new Int32Array(3 * alphaSize);
  for (let iter = 0; iter < 4; iter++) {
    for (const f of rfreq) f.fill(0);
    // libbzip2's trick: two tables' code lengths in one int (a group costs < 2^16), three adds per symbol.
    for (let s = 0; s < alphaSize; s++) {
      for (let t = 0; t < 6; t += 2) {
        const lo = t < nGroups ? lens[t]![s]! : 0;
        const hi = t + 1 < nGroups ? lens[t + 1]![s]! : 0;
        packed[(t >> 1) * alphaSize + s] = lo | (hi << 16);
      }
    }
    for (let g = 0, gs = 0; gs < nMtf; g++, gs += GROUP) {
      const ge = Math.min(gs + GROUP, nMtf);
      let c01 = 0;
      let c23 = 0;
      let c45 = 0;
      for (let i = gs; i < ge; i++) {
        const s = mtf[i]!;
        c01 += packed[s]!;
        c23 += packed[alphaSize + s]!;
        c45 += packed[2 * alphaSize + s]!;
      }
      cost[0] = c01 & 0xffff;
      cost[1] = c01 >>> 16;
      cost[2] = c23 & 0xffff;
      cost[3] = c23 >>> 16;
      cost[4] = c45 & 0xffff;
      cost[5] = c45 >>> 16;
      let bt = 0;
      for (let t = 1; t < nGroups; t++) if (cost[t]! < cost[bt]!) bt = t;
      selectors[g] = bt;
      const rf = rfreq[bt]!;
      for (let i = gs; i < ge; i++) rf[mtf[i]!]!++;
    }
    for (let t = 0; t < nGroups; t++) codeLengths(rfreq[t]!, alphaSize, MAX_CODE_LEN, lens[t]!);
  }
  const codes: Int32Array[] = [];
  for (let t = 0; t < nGroups; t++) {
    const len = lens[t]!;
    const code = new Int32Array(alphaSize);
    let vec = 0;
    for (let l = 1; l <= 20; l++) {
      for (let i = 0; i < alphaSize; i++) if (len[i] === l) code[i] = vec++;
      vec <<= 1;
    }
    codes.push(code);
  }

  // Block header.
  w.write(24, 0x314159);
  w.write(24, 0x265359);
  w.write32(crc);
  w.write(1, 0);
  w.write(24, origPtr);
  let ranges = 0;
  for (let r = 0; r < 16; r++) for (let c = 0; c < 16; c++) if (inUse[r * 16 + c]) ranges |= 1 << (15 - r);
  w.write(16, ranges);
  for (let r = 0; r < 16; r++) {
    if (!(ranges & (1 << (15 - r)))) continue;
    let bits = 0;
    for (let c = 0; c < 16; c++) if (inUse[r * 16 + c]) bits |= 1 << (15 - c);
    w.write(16, bits);
  }
  w.write(3, nGroups);
  w.write(15, nSelectors);
  const selMtf = [0, 1, 2, 3, 4, 5].slice(0, nGroups);
  for (let i = 0; i < nSelectors; i++) {
    const s = selectors[i]!;
    const j = selMtf.indexOf(s);
    for (let k = 0; k < j; k++) w.write(1, 1);
    w.write(1, 0);
    selMtf.splice(j, 1);
    selMtf.unshift(s);
  }
  for (let t = 0; t < nGroups; t++) {
    const len = lens[t]!;
    let cur = len[0]!;
    w.write(5, cur);
    for (let i = 0; i < alphaSize; i++) {
      const l = len[i]!;
      while (cur < l) {
        w.write(2, 2);
        cur++;
      }
      while (cur > l) {
        w.write(2, 3);
        cur--;
      }
      w.write(1, 0);
    }
  }
  for (let g = 0, gs = 0; gs < nMtf; g++, gs += GROUP) {
    const ge = Math.min(gs + GROUP, nMtf);
    const t = selectors[g]!;
    const len = lens[t]!;
    const code = codes[t]!;
    for (let i = gs; i < ge; i++) {
      const s = mtf[i]!;
      w.write(len[s]!, code[s]!);
    }
  }
}

/** One compressed block: its bits (not byte-aligned in the stream) and its CRC. */
export interface Bzip2Block {
  bytes: Uint8Array;
  bits: number;
  crc: number;
}

/**
 * Where libbzip2 (level 9) ends each block: the initial run-length coding fills
 * a block until fewer than 5 slots are left, so the cuts depend on the input
 * only. Returns the input offsets that start each block, and the end.
 */
export function bzip2Cuts(data: Uint8Array): number[] {
  const cuts = [0];
  const n = data.length;
  let pos = 0;
  while (pos < n) {
    let blen = 0;
    while (pos < n && blen <= BLOCK_MAX - 5) {
      const c = data[pos]!;
      let run = 1;
      while (run < 255 && pos + run < n && data[pos + run] === c) run++;
      blen += run >= 4 ? 5 : run;
      pos += run;
    }
    cuts.push(pos);
  }
  return cuts;
}

/** Compress the block that holds data[from, to) (a pair of consecutive `bzip2Cuts`). */
export function bzip2Block(data: Uint8Array, from: number, to: number, ws?: Workspace): Bzip2Block {
  const block = new Uint8Array(Math.min(BLOCK_MAX, Math.ceil((to - from) * 1.25)) + 8);
  let blen = 0;
  let crc = -1;
  let pos = from;
  while (pos < to) {
    const c = data[pos]!;
    let run = 1;
    while (run < 255 && pos + run < to && data[pos + run] === c) run++;
    crc = crcRun(crc, c, run);
    blen = putRun(block, blen, c, run);
    pos += run;
  }
  return bzip2Rle1Block({ data: block, length: blen, crc: ~crc >>> 0, input: to - from }, ws);
}

/** A bzip2 stream from its blocks, in order: header, the blocks' bits back to back, the combined CRC. */
export function bzip2Join(blocks: readonly Bzip2Block[]): Uint8Array {
  const w = new BitWriter(blocks.reduce((s, b) => s + b.bytes.length, 0) + 32);
  w.write(8, 0x42);
  w.write(8, 0x5a);
  w.write(8, 0x68);
  w.write(8, 0x39);
  let combined = 0;
  for (const b of blocks) {
    const whole = b.bits >>> 3;
    for (let i = 0; i < whole; i++) w.write(8, b.bytes[i]!);
    const rest = b.bits & 7;
    if (rest > 0) w.write(rest, b.bytes[whole]! >>> (8 - rest));
    combined = (((combined << 1) | (combined >>> 31)) ^ b.crc) >>> 0;
  }
  w.write(24, 0x177245);
  w.write(24, 0x385090);
  w.write32(combined >>> 0);
  return w.finish();
}

/**
 * bzip2-compress `data` (level 9 framing) in this thread. The patch builder
 * compresses the blocks on worker threads instead (bsdiff.ts); the bytes are
 * the same.
 */
export function bzip2(data: Uint8Array): Uint8Array {
  const cuts = bzip2Cuts(data);
  let ws: Workspace | undefined;
  const blocks: Bzip2Block[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    ws ??= new Workspace(Math.min(BLOCK_MAX, Math.ceil(data.length * 1.25)) + 8);
    blocks.push(bzip2Block(data, cuts[i]!, cuts[i + 1]!, ws));
  }
  return bzip2Join(blocks);
}

/** A block after libbzip2's initial run-length coding (RLE1), ready for the Burrows–Wheeler stage. */
export interface Rle1Block {
  /** The RLE1 bytes are data[0, length). */
  data: Uint8Array;
  length: number;
  /** CRC of the block's input bytes, finished. */
  crc: number;
  /** Input bytes the block holds. */
  input: number;
}

/**
 * libbzip2's initial run-length coding as a stream: input is written in pieces
 * of any size, and each block goes to `emit` as soon as it is full, cut exactly
 * where `bzip2Cuts` cuts. So compressing the emitted blocks (`bzip2Rle1Block`)
 * and joining them gives the bytes of `bzip2` over the whole input, while only
 * the RLE1 form of a block (≤ 900 kB) is held — however far its runs of zeros
 * stretch it over the input. `alloc` gives each block its buffer.
 */
export class Rle1Stream {
  private block: Uint8Array | undefined;
  private blen = 0;
  private crc = -1;
  private input = 0;
  private c = -1;
  private run = 0;

  constructor(
    private readonly alloc: (bytes: number) => Uint8Array,
    private readonly emit: (block: Rle1Block) => void,
  ) {}

  write(data: Uint8Array): void {
    let c = this.c;
    let run = this.run;
    for (let i = 0; i < data.length; i++) {
      const x = data[i]!;
      if (x === c && run < 255) {
        run++;
        continue;
      }
      if (run > 0) this.flush(c, run);
      c = x;
      run = 1;
    }
    this.c = c;
    this.run = run;
  }

  /** Write `n` copies of byte `c`: the same as `write` of those bytes, without a per-byte pass. */
  writeRepeat(c: number, n: number): void {
    let run = this.run;
    if (this.c === c) {
      const more = Math.min(255 - run, n);
      run += more;
      n -= more;
    }
    if (n === 0) {
      this.run = run;
      return;
    }
    if (run > 0) this.flush(this.c, run);
    // As `write` does: full runs of 255 are coded, the last run stays open for what follows.
    const full = Math.floor((n - 1) / 255);
    for (let k = 0; k < full; k++) this.flush(c, 255);
    this.c = c;
    this.run = n - 255 * full;
  }

  /** The last, partial block (if any input is left). */
  end(): void {
    if (this.run > 0) this.flush(this.c, this.run);
    this.run = 0;
    this.c = -1;
    if (this.blen > 0) this.cut();
  }

  private flush(c: number, run: number): void {
    const block = (this.block ??= this.alloc(BLOCK_MAX + 8));
    this.crc = crcRun(this.crc, c, run);
    this.input += run;
    this.blen = putRun(block, this.blen, c, run);
    if (this.blen > BLOCK_MAX - 5) this.cut();
  }

  private cut(): void {
    this.emit({ data: this.block!, length: this.blen, crc: ~this.crc >>> 0, input: this.input });
    this.block = undefined;
    this.blen = 0;
    this.crc = -1;
    this.input = 0;
  }
}

/** Compress one block from `Rle1Stream` (the stages after RLE1), with `ws` or this thread's workspace. */
export function bzip2Rle1Block(b: Rle1Block, ws?: Workspace): Bzip2Block {
  const w = new BitWriter(Math.floor(b.length / 4) + 64);
  compressBlock(b.data, b.length, b.crc, w, ws ?? threadWorkspace(b.data.length));
  const bits = w.bitLength();
  return { bytes: w.finish(), bits, crc: b.crc };
}
