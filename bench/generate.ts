/**
 * Deterministic (seeded) generators of release pairs for the release benchmark.
 *
 * - `easy`: the original pair — most of the new tar sits in unchanged members.
 * - `hard`: a rebuilt desktop application where most of the new tar's bytes are
 *   in MODIFIED members: native libraries recompiled (x86-like code whose call /
 *   jmp / RIP-relative rel32 fields all move after inserted and deleted
 *   functions, vtables and relocation tables of absolute addresses that shift),
 *   ICU-like and SQLite-like data files rewritten, a resource pack with an index
 *   of shifted offsets, media, ~5,000 small node_modules files with edits, a
 *   moved package folder and renamed files.
 * - `many`: 100,000 small files, a few percent edited, some added, removed and
 *   renamed.
 *
 * Nothing here is tuned to tufsign's matcher: the hard pair models what a
 * compiler and a build do (see docs/adr/0005 for why it is the headline pair).
 * The same seed always gives the same bytes.
 */
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(this.next(), i);
    for (; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

export interface FileSpec {
  data: Buffer;
  mode: number;
}
export type Tree = Map<string, FileSpec>;

export interface PairInfo {
  v1: string;
  v2: string;
  /** One line per kind of content, for RESULTS.md. */
  description: string[];
}

function writeTree(root: string, files: Tree, emptyDirs: string[] = []): void {
  rmSync(root, { recursive: true, force: true });
  const made = new Set<string>();
  for (const [p, f] of files) {
    const abs = join(root, p);
    const dir = join(abs, '..');
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    writeFileSync(abs, f.data, { mode: f.mode });
    chmodSync(abs, f.mode);
  }
  for (const d of emptyDirs) mkdirSync(join(root, d), { recursive: true });
}

/** A fixed vocabulary of ~6,000 pseudo-words built from syllables, chosen with a Zipf-like skew, like source text. */
const VOCABULARY = (() => {
  const rng = new Rng(7);
  const syl =
    'ka,ra,to,mi,ne,lo,su,de,fi,gu,ba,ce,po,qu,ri,sta,tre,vol,xen,ul,en,an,or,is,ut,ex,im,con,pro,ser,par,get,set,on,in,at'.split(
      ',',
    );
  const keywords =
    'return if else for while const let function class import export from new this await async true false null'.split(
      ' ',
    );
  const words = new Set<string>(keywords);
  while (words.size < 6000)
    words.add(
      Array.from({ length: 1 + rng.int(4) }, () => syl[rng.int(syl.length)]!).join('') +
        (rng.chance(0.2) ? String(rng.int(100)) : ''),
    );
  return [...words];
})();
const PUNCT = ['(', ')', '.', ', ', ' = ', ';', ' {', '}', '[', ']', ' + ', ' => ', '"', ': '];

export function text(rng: Rng, size: number): Buffer {
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    let line = '  '.repeat(rng.int(5));
    const count = 2 + rng.int(10);
    for (let k = 0; k < count; k++) {
      const r = rng.next() / 2 ** 32;
      line += VOCABULARY[Math.floor(r * r * r * VOCABULARY.length)]!;
      if (rng.chance(0.5)) line += PUNCT[rng.int(PUNCT.length)]!;
      else line += ' ';
      if (rng.chance(0.05)) line += String(rng.next() % 100000);
    }
    line += '\n';
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/** Machine-code-like bytes: a skewed choice among a fixed set of short tokens, plus some raw noise. */
function tokens(rng: Rng, size: number, dict: Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(size);
  let n = 0;
  while (n < size) {
    const r = rng.next() / 2 ** 32;
    if (r < 0.04) n += rng.bytes(4 + rng.int(12)).copy(out, n);
    else n += dict[Math.floor(r * r * r * dict.length)]!.copy(out, n);
  }
  return out;
}

// ------------------------------------------------------------------ easy pair

/** The original benchmark pair (bench before issue 15): sources, libraries, assets, one big executable. */
export function generateEasy(dir: string): PairInfo {
  const v1 = join(dir, 'v1');
  const v2 = join(dir, 'v2');
  const info: PairInfo = {
    v1,
    v2,
    description: [
      'v1: 2,500 Python-like sources, 40 library-like binaries (0.5–4 MB), 30 incompressible assets, one 60 MB executable.',
      'v2: ~5 % of sources edited, 3 libraries patched in place (pointers, a 64 KB insertion, a 100 KB section rewritten), 2 assets replaced, 6 files removed, 4 added, the 60 MB executable patched the same way (100 KB insertion, 3,000 pointers, 1 MB section). Most bytes of v2 are in unchanged members or are unchanged runs inside changed ones.',
    ],
  };
  if (existsSync(join(dir, 'generated-ok'))) return info;
  const rng = new Rng(20240601);
  const dict = Array.from({ length: 4096 }, () => rng.bytes(4 + rng.int(13)));
  const files: Tree = new Map();
  for (let i = 0; i < 2500; i++)
    files.set(`app/src/pkg${i % 40}/module_${i}.py`, { data: text(rng, 2000 + rng.int(18000)), mode: 0o644 });
  for (let i = 0; i < 40; i++)
    files.set(`app/lib/libmod${i}.so`, { data: tokens(rng, 500_000 + rng.int(3_500_000), dict), mode: 0o755 });
  for (let i = 0; i < 30; i++)
    files.set(`app/assets/img${i}.png`, { data: rng.bytes(200_000 + rng.int(1_300_000)), mode: 0o644 });
  files.set('app/bin/benchapp', { data: tokens(rng, 60_000_000, dict), mode: 0o755 });
  writeTree(v1, files, ['app/logs']);
  const edit = (d: Buffer): Buffer => {
    const at = rng.int(d.length);
    return Buffer.concat([
      d.subarray(0, at),
      text(rng, 50 + rng.int(500)),
      d.subarray(Math.min(d.length, at + rng.int(200))),
    ]);
  };
  const patchBinary = (d: Buffer, pointers: number, insert: number, replace: number): Buffer => {
    const b = Buffer.from(d);
    for (let i = 0; i < pointers; i++) b.writeUInt32LE(rng.next(), rng.int(b.length - 4));
    const at = rng.int(b.length);
    const r = rng.int(b.length - replace);
    tokens(rng, replace, dict).copy(b, r);
    return Buffer.concat([b.subarray(0, at), tokens(rng, insert, dict), b.subarray(at)]);
  };
  for (const [k, f] of files) if (k.endsWith('.py') && rng.int(20) === 0) f.data = edit(f.data);
  for (const i of [3, 17, 29])
    files.get(`app/lib/libmod${i}.so`)!.data = patchBinary(
      files.get(`app/lib/libmod${i}.so`)!.data,
      200,
      65_536,
      100_000,
    );
  for (const i of [2, 9])
    files.get(`app/assets/img${i}.png`)!.data = rng.bytes(files.get(`app/assets/img${i}.png`)!.data.length);
  for (const i of [11, 12, 13, 14, 15]) files.delete(`app/src/pkg${i % 40}/module_${i}.py`);
  files.delete('app/assets/img20.png');
  for (let i = 0; i < 3; i++) files.set(`app/src/new/feature_${i}.py`, { data: text(rng, 10_000), mode: 0o644 });
  files.set('app/lib/libnew.so', { data: tokens(rng, 1_000_000, dict), mode: 0o755 });
  files.get('app/bin/benchapp')!.data = patchBinary(files.get('app/bin/benchapp')!.data, 3000, 100_000, 1_000_000);
  writeTree(v2, files, ['app/logs']);
  writeFileSync(join(dir, 'generated-ok'), 'ok\n');
  return info;
}

// ------------------------------------------------------------------ hard pair: a compiler model

/** Where a rel32 field points. */
const CALL = 0;
const DATA = 1;

/** A compiled function: body bytes with rel32 fields to fill in at link time. */
interface Fn {
  body: Buffer;
  /** Triples (offset of the rel32 in body, kind CALL|DATA, target function id or data item). */
  fix: Int32Array;
}

interface Library {
  fns: Fn[];
  /** Function ids in layout order. */
  order: number[];
  /** rodata items (strings, constants) in layout order. */
  data: Buffer[];
  /** Vtables: lists of function ids, written as 64-bit absolute addresses. */
  vtables: number[][];
}

/** Instruction encodings without relocations (prefix + opcode + modrm/imm), skewed like real code. */
function instructionSet(rng: Rng): Buffer[] {
  const fixed = [
    [0x55],
    [0x5d],
    [0xc3],
    [0x90],
    [0x48, 0x89, 0xe5],
    [0x48, 0x83, 0xec, 0x20],
    [0x48, 0x83, 0xc4, 0x20],
    [0x31, 0xc0],
    [0x85, 0xc0],
    [0x48, 0x85, 0xff],
    [0x74, 0x08],
    [0x75, 0x0c],
    [0xeb, 0x05],
    [0x41, 0x54],
    [0x41, 0x5c],
    [0x53],
    [0x5b],
    [0x48, 0x89, 0xc7],
    [0x48, 0x8b, 0x45, 0xf8],
    [0x89, 0x45, 0xfc],
  ].map((a) => Buffer.from(a));
  const random = Array.from({ length: 600 }, () => {
    const b = rng.bytes(2 + rng.int(6));
    if (rng.chance(0.5)) b[0] = 0x48 + rng.int(8);
    return b;
  });
  return [...fixed, ...random];
}

function compileFunction(rng: Rng, isa: Buffer[], size: number, nFns: number, nData: number, self: number): Fn {
  // Zeroed: rel32 fields are only filled in at link time, and a field that rebuild() cuts in half keeps these
  // bytes in v2 (with allocUnsafe they were whatever the heap held, so v2 differed from one generation to the next).
  const body = Buffer.alloc(size + 16);
  const fix: number[] = [];
  let n = 0;
  // Prologue.
  body[n++] = 0x55;
  body[n++] = 0x48;
  body[n++] = 0x89;
  body[n++] = 0xe5;
  while (n < size) {
    const r = rng.next() / 2 ** 32;
    if (r < 0.07) {
      // call rel32 to a function, mostly nearby ones (locality of real call graphs).
      body[n++] = 0xe8;
      const near = rng.chance(0.7);
      const target = near ? Math.max(0, Math.min(nFns - 1, self + rng.int(200) - 100)) : rng.int(nFns);
      fix.push(n, CALL, target);
      n += 4;
    } else if (r < 0.11) {
      // lea/mov reg, [rip + disp32] to rodata.
      body[n++] = 0x48;
      body[n++] = rng.chance(0.5) ? 0x8d : 0x8b;
      body[n++] = 0x05 + 8 * rng.int(8);
      fix.push(n, DATA, rng.int(nData));
      n += 4;
    } else if (r < 0.14) {
      // jcc rel32 inside the function: relative, so it survives moves unchanged.
      body[n++] = 0x0f;
      body[n++] = 0x80 + rng.int(16);
      body.writeInt32LE(rng.int(400) - 200, n);
      n += 4;
    } else if (r < 0.17) {
      // mov eax, imm32 (constants).
      body[n++] = 0xb8 + rng.int(8);
      body.writeUInt32LE(rng.chance(0.5) ? rng.int(256) : rng.next(), n);
      n += 4;
    } else {
      const t = isa[Math.floor(r * r * isa.length)]!;
      n += t.copy(body, n);
    }
  }
  body[n++] = 0x5d;
  body[n++] = 0xc3;
  while (n % 16 !== 0) body[n++] = 0xcc;
  return { body: body.subarray(0, n), fix: Int32Array.from(fix) };
}

function newLibrary(rng: Rng, isa: Buffer[], codeBytes: number): Library {
  const nFns = Math.max(8, Math.round(codeBytes / 560));
  const nData = Math.max(8, Math.round(nFns / 2));
  const fns: Fn[] = [];
  for (let i = 0; i < nFns; i++)
    fns.push(compileFunction(rng, isa, 40 + rng.int(rng.chance(0.1) ? 4000 : 700), nFns, nData, i));
  const data = Array.from({ length: nData }, () =>
    rng.chance(0.6) ? text(rng, 8 + rng.int(80)) : rng.bytes(8 + rng.int(64)),
  );
  const vtables = Array.from({ length: Math.max(2, Math.round(nFns / 40)) }, () =>
    Array.from({ length: 3 + rng.int(20) }, () => rng.int(nFns)),
  );
  return { fns, order: fns.map((_, i) => i), data, vtables };
}

const IMAGE_BASE = 0x1_0000_0000;

/** Lay out and link: code, rodata, vtables, then a relocation table listing every absolute pointer. */
function link(lib: Library): Buffer {
  const addr = new Float64Array(lib.fns.length).fill(-1);
  let pc = 0x1000;
  for (const id of lib.order) {
    addr[id] = pc;
    pc += lib.fns[id]!.body.length;
  }
  const codeEnd = pc;
  const dataBase = Math.ceil(codeEnd / 4096) * 4096;
  const dataAt = new Float64Array(lib.data.length);
  let d = dataBase;
  lib.data.forEach((item, i) => {
    dataAt[i] = d;
    d += item.length;
  });
  const vtBase = Math.ceil(d / 8) * 8;
  const vtEntries = lib.vtables.reduce((s, v) => s + v.length, 0);
  const relocBase = vtBase + vtEntries * 8;
  const total = relocBase + vtEntries * 8 + 16;
  const out = Buffer.alloc(total);
  // A small ELF-like header with section offsets (they change when sizes change).
  out.write('\x7fELF', 0, 'latin1');
  out.writeUInt32LE(codeEnd, 16);
  out.writeUInt32LE(dataBase, 20);
  out.writeUInt32LE(vtBase, 24);
  out.writeUInt32LE(relocBase, 28);
  const live = (id: number): number => (addr[id]! >= 0 ? id : lib.order[id % lib.order.length]!);
  for (const id of lib.order) {
    const f = lib.fns[id]!;
    const at = addr[id]!;
    f.body.copy(out, at);
    for (let k = 0; k < f.fix.length; k += 3) {
      const off = f.fix[k]!;
      const target = f.fix[k + 1] === CALL ? addr[live(f.fix[k + 2]!)]! : dataAt[f.fix[k + 2]! % lib.data.length]!;
      out.writeInt32LE(target - (at + off + 4), at + off);
    }
  }
  lib.data.forEach((item, i) => item.copy(out, dataAt[i]));
  let v = vtBase;
  let r = relocBase;
  for (const vt of lib.vtables) {
    for (const id of vt) {
      out.writeBigUInt64LE(BigInt(IMAGE_BASE + addr[live(id)]!), v);
      out.writeBigUInt64LE(BigInt(v), r);
      v += 8;
      r += 8;
    }
  }
  return out;
}

/** The next build of a library: functions inserted, deleted and edited, rodata grown; everything relinked. */
function rebuild(rng: Rng, isa: Buffer[], lib: Library): Library {
  const fns = lib.fns.slice();
  const order: number[] = [];
  const nData = lib.data.length;
  for (const id of lib.order) {
    if (rng.chance(0.01)) continue; // deleted function
    if (rng.chance(0.015)) {
      // a new function before this one
      fns.push(compileFunction(rng, isa, 40 + rng.int(700), fns.length, nData, id));
      order.push(fns.length - 1);
    }
    if (rng.chance(0.04)) {
      // edited: the body changes in the middle (a few instructions added or removed)
      const f = fns[id]!;
      const g = compileFunction(rng, isa, 20 + rng.int(120), fns.length, nData, id);
      const cut = 4 + rng.int(Math.max(1, f.body.length - 8));
      const drop = rng.int(40);
      const body = Buffer.concat([
        f.body.subarray(0, cut),
        g.body.subarray(4, g.body.length - 2),
        f.body.subarray(Math.min(f.body.length, cut + drop)),
      ]);
      const fix: number[] = [];
      for (let k = 0; k < f.fix.length; k += 3) {
        const o = f.fix[k]!;
        if (o + 4 <= cut) fix.push(o, f.fix[k + 1]!, f.fix[k + 2]!);
        else if (o >= cut + drop) fix.push(o - drop + g.body.length - 6, f.fix[k + 1]!, f.fix[k + 2]!);
      }
      for (let k = 0; k < g.fix.length; k += 3) fix.push(g.fix[k]! - 4 + cut, g.fix[k + 1]!, g.fix[k + 2]!);
      // A field cut in half by the edit point is dropped: its bytes stay as they were.
      fns[id] = { body, fix: Int32Array.from(fix) };
    }
    order.push(id);
  }
  const data: Buffer[] = [];
  for (const item of lib.data) {
    if (rng.chance(0.02)) data.push(text(rng, 8 + rng.int(60)));
    data.push(rng.chance(0.01) ? text(rng, item.length) : item);
  }
  const vtables = lib.vtables.map((vt) => (rng.chance(0.1) ? [...vt, rng.int(fns.length)] : vt));
  return { fns, order, data: data.slice(0, Math.max(nData, data.length)), vtables };
}

/** ICU-like data: an offset table, then sorted variable-length records; a new version inserts, deletes and edits records. */
function icuData(rng: Rng, records: Buffer[]): Buffer {
  const head = Buffer.alloc(16 + 4 * records.length);
  head.write('ICUDATA1', 0, 'latin1');
  head.writeUInt32LE(records.length, 8);
  let off = head.length;
  records.forEach((r, i) => {
    head.writeUInt32LE(off, 16 + 4 * i);
    off += r.length;
  });
  void rng;
  return Buffer.concat([head, ...records]);
}

function icuRecords(rng: Rng, bytes: number): Buffer[] {
  const out: Buffer[] = [];
  let n = 0;
  while (n < bytes) {
    const key = text(rng, 6 + rng.int(20));
    const val = rng.chance(0.5) ? text(rng, 10 + rng.int(120)) : rng.bytes(4 + rng.int(60));
    const rec = Buffer.concat([Buffer.from([key.length, val.length & 0xff]), key, val]);
    out.push(rec);
    n += rec.length;
  }
  return out;
}

/** SQLite-like pages: 4 KiB pages of cells with a cell-pointer array. */
function dbPage(rng: Rng, pageNo: number): Buffer {
  const p = Buffer.alloc(4096);
  p[0] = 0x0d;
  let top = 4096;
  let cells = 0;
  while (top > 200) {
    const row = Buffer.concat([Buffer.from(`row${pageNo}-${cells}|`), text(rng, 20 + rng.int(100)), rng.bytes(8)]);
    if (top - row.length < 8 + 2 * (cells + 1)) break;
    top -= row.length;
    row.copy(p, top);
    p.writeUInt16BE(top, 8 + 2 * cells);
    cells++;
  }
  p.writeUInt16BE(cells, 3);
  p.writeUInt16BE(top, 5);
  return p;
}

function resourcePack(blobs: [string, Buffer][]): Buffer {
  const index = Buffer.concat(
    blobs.map(([name]) => Buffer.concat([Buffer.from(name.padEnd(32, '\0').slice(0, 32)), Buffer.alloc(8)])),
  );
  let off = 16 + index.length;
  blobs.forEach(([, b], i) => {
    index.writeUInt32LE(off, i * 40 + 32);
    index.writeUInt32LE(b.length, i * 40 + 36);
    off += b.length;
  });
  const head = Buffer.alloc(16);
  head.write('RESPACK1', 0, 'latin1');
  head.writeUInt32LE(blobs.length, 8);
  return Buffer.concat([head, index, ...blobs.map(([, b]) => b)]);
}

/**
 * A ~`scale` × 200 MB desktop application and its rebuild. With scale 1:
 * ~120 MB of native libraries, 25 MB ICU-like data, 20 MB resource pack,
 * 16 MB database, 20 MB media, ~5,000 node_modules files (~10 MB).
 */
export function generateHard(dir: string, scale: number, seed = 15_2026): PairInfo {
  const v1 = join(dir, 'v1');
  const v2 = join(dir, 'v2');
  const mb = (x: number): number => Math.round(x * scale * 1_000_000);
  const info: PairInfo = {
    v1,
    v2,
    description: [
      `scale ${scale} (1 = the issue's ~200 MB application); seed ${seed}.`,
      `native libraries (${fmtMb(mb(120))} MB in 12 files): x86-like code — functions of prologue/epilogue, common encodings, call rel32 (7 % of instructions, mostly to nearby functions), RIP-relative lea/mov disp32 to rodata (4 %), jcc rel32 inside functions, mov imm32 — then rodata, vtables of 64-bit absolute function addresses and a relocation table listing every pointer. v2 is a rebuild: per library 1 % of functions deleted, 1.5 % inserted, 4 % edited in the middle, 2 % rodata items inserted; then everything is re-linked, so after the first change every call/RIP-relative offset, vtable entry, relocation and section offset shifts.`,
      `ICU-like data (${fmtMb(mb(25))} MB): an offset table and sorted records; v2 inserts 1 %, deletes 1 % and rewrites 2 % of the records, so every offset after the first change moves.`,
      `resource pack (${fmtMb(mb(20))} MB): an index of (name, offset, length) and incompressible blobs; v2 replaces 5 % of the blobs with others of different sizes.`,
      `SQLite-like database (${fmtMb(mb(16))} MB of 4 KiB pages): v2 rewrites 15 % of pages and appends 5 % new ones.`,
      `media (${fmtMb(mb(20))} MB, incompressible, 4 files): one replaced in v2.`,
      `node_modules (${Math.round(5000 * Math.min(1, scale * 2))} small text files, ~2 KB each): 5 % edited, one package folder moved under @scope/, 20 files renamed, 1 % deleted, 1 % added.`,
    ],
  };
  if (existsSync(join(dir, 'generated-ok'))) return info;
  const rng = new Rng(seed);
  const isa = instructionSet(rng);
  const f1: Tree = new Map();
  const f2: Tree = new Map();

  // Native libraries: 12, sizes skewed (one big main library).
  const shares = [0.3, 0.15, 0.1, 0.08, 0.07, 0.06, 0.06, 0.05, 0.04, 0.03, 0.03, 0.03];
  shares.forEach((share, i) => {
    const name = i === 0 ? 'app/bin/desktopapp' : `app/lib/libmodule${i}.so`;
    const lib = newLibrary(rng, isa, mb(120) * share * 0.9);
    f1.set(name, { data: link(lib), mode: 0o755 });
    f2.set(name, { data: link(rebuild(rng, isa, lib)), mode: 0o755 });
  });

  // ICU-like data.
  const recs = icuRecords(rng, mb(25));
  f1.set('app/share/icudt74l.dat', { data: icuData(rng, recs), mode: 0o644 });
  const recs2: Buffer[] = [];
  for (const r of recs) {
    if (rng.chance(0.01)) continue;
    if (rng.chance(0.01)) recs2.push(icuRecords(rng, 1)[0]!);
    recs2.push(rng.chance(0.02) ? Buffer.concat([r.subarray(0, 2), text(rng, r.length - 2)]) : r);
  }
  f2.set('app/share/icudt74l.dat', { data: icuData(rng, recs2), mode: 0o644 });

  // Resource pack.
  const blobs: [string, Buffer][] = [];
  for (let n = 0, i = 0; n < mb(20); i++) {
    const b = rng.bytes(2000 + rng.int(60_000));
    blobs.push([`res/asset_${i}.bin`, b]);
    n += b.length;
  }
  f1.set('app/resources/resources.pak', { data: resourcePack(blobs), mode: 0o644 });
  f2.set('app/resources/resources.pak', {
    data: resourcePack(blobs.map(([n, b]) => [n, rng.chance(0.05) ? rng.bytes(2000 + rng.int(60_000)) : b])),
    mode: 0o644,
  });

  // Database.
  const pages = Array.from({ length: Math.round(mb(16) / 4096) }, (_, i) => dbPage(rng, i));
  f1.set('app/data/catalog.db', { data: Buffer.concat(pages), mode: 0o644 });
  const pages2 = pages.map((p, i) => (rng.chance(0.15) ? dbPage(rng, i) : p));
  for (let i = 0; i < pages.length * 0.05; i++) pages2.push(dbPage(rng, pages.length + i));
  f2.set('app/data/catalog.db', { data: Buffer.concat(pages2), mode: 0o644 });

  // Media.
  for (let i = 0; i < 4; i++) {
    const m = rng.bytes(mb(5));
    f1.set(`app/media/clip${i}.webm`, { data: m, mode: 0o644 });
    f2.set(`app/media/clip${i}.webm`, { data: i === 2 ? rng.bytes(mb(5)) : m, mode: 0o644 });
  }

  // node_modules.
  const nFiles = Math.round(5000 * Math.min(1, scale * 2));
  const pkgs = Math.max(10, Math.round(nFiles / 25));
  for (let i = 0; i < nFiles; i++) {
    const p = `app/resources/node_modules/pkg${i % pkgs}/lib/file${i}.js`;
    const d = text(rng, 200 + rng.int(3800));
    f1.set(p, { data: d, mode: 0o644 });
    if (rng.chance(0.01)) continue; // deleted
    let p2 = p;
    if (i % pkgs === 7)
      p2 = p.replace('/node_modules/pkg7/', '/node_modules/@scope/pkg7/'); // moved package
    else if (rng.chance(20 / nFiles)) p2 = p.replace(/file(\d+)\.js$/, 'renamed$1.js');
    let d2 = d;
    if (rng.chance(0.05)) {
      const at = rng.int(d.length);
      d2 = Buffer.concat([
        d.subarray(0, at),
        text(rng, 20 + rng.int(200)),
        d.subarray(Math.min(d.length, at + rng.int(100))),
      ]);
    }
    f2.set(p2, { data: d2, mode: 0o644 });
    if (rng.chance(0.01))
      f2.set(`app/resources/node_modules/pkg${i % pkgs}/lib/added${i}.js`, {
        data: text(rng, 200 + rng.int(3800)),
        mode: 0o644,
      });
  }

  writeTree(v1, f1, ['app/logs']);
  writeTree(v2, f2, ['app/logs']);
  writeFileSync(join(dir, 'generated-ok'), 'ok\n');
  return info;
}

function fmtMb(bytes: number): string {
  return (bytes / 1e6).toFixed(bytes < 10e6 ? 1 : 0);
}

// ------------------------------------------------------------------ many small files

export function generateMany(dir: string, count: number, seed = 100_000): PairInfo {
  const v1 = join(dir, 'v1');
  const v2 = join(dir, 'v2');
  const info: PairInfo = {
    v1,
    v2,
    description: [
      `${count.toLocaleString('en')} small files (100 B – 3 KB of text, in ${Math.round(count / 100)} folders); seed ${seed}.`,
      'v2: 3 % of files edited, 1 % deleted, 1 % added, 0.5 % renamed.',
    ],
  };
  if (existsSync(join(dir, 'generated-ok'))) return info;
  const rng = new Rng(seed);
  const f1: Tree = new Map();
  const f2: Tree = new Map();
  for (let i = 0; i < count; i++) {
    const p = `app/pkg${i % Math.round(count / 100)}/m${i}.js`;
    const d = text(rng, 100 + rng.int(2900));
    f1.set(p, { data: d, mode: 0o644 });
    if (rng.chance(0.01)) continue;
    const p2 = rng.chance(0.005) ? p.replace(/m(\d+)\.js$/, 'r$1.js') : p;
    let d2 = d;
    if (rng.chance(0.03)) {
      const at = rng.int(d.length);
      d2 = Buffer.concat([
        d.subarray(0, at),
        text(rng, 10 + rng.int(100)),
        d.subarray(Math.min(d.length, at + rng.int(50))),
      ]);
    }
    f2.set(p2, { data: d2, mode: 0o644 });
    if (rng.chance(0.01))
      f2.set(`app/pkg${i % Math.round(count / 100)}/new${i}.js`, { data: text(rng, 100 + rng.int(2900)), mode: 0o644 });
  }
  writeTree(v1, f1);
  writeTree(v2, f2);
  writeFileSync(join(dir, 'generated-ok'), 'ok\n');
  return info;
}

// ------------------------------------------------------------------ one large folder (streaming)

/**
 * One large bundle for the archive-only (streaming) measurement: `bytes` in
 * 4 MB files, alternating source-like text (compresses ~4×), code-like tokens
 * (~2×) and incompressible media. Written file by file, never held whole.
 */
export function generateLarge(dir: string, bytes: number, seed = 1_000): { dir: string; description: string } {
  const root = join(dir, 'bundle');
  const fileSize = 4_000_000;
  const files = Math.ceil(bytes / fileSize);
  const description = `${(files * fileSize).toLocaleString('en')} bytes in ${files} files of 4 MB: a third source-like text, a third machine-code-like tokens, a third incompressible media (four distinct 4 MB bodies per kind, each file a copy with 64 random words overwritten: repeats are 4 MB apart, far beyond gzip's 32 KiB window, so they do not help compression); seed ${seed}.`;
  if (existsSync(join(dir, 'generated-ok'))) return { dir: root, description };
  rmSync(root, { recursive: true, force: true });
  const rng = new Rng(seed);
  const dict = Array.from({ length: 4096 }, () => rng.bytes(4 + rng.int(13)));
  // A few distinct 4 MB bodies per kind, stamped per file: generating 1 GB of fresh text would take minutes.
  const bodies = [0, 1, 2].map((kind) =>
    Array.from({ length: 4 }, () =>
      kind === 0 ? text(rng, fileSize) : kind === 1 ? tokens(rng, fileSize, dict) : rng.bytes(fileSize),
    ),
  );
  for (let i = 0; i < files; i++) {
    const kind = i % 3;
    const body = Buffer.from(bodies[kind]![rng.int(4)]!);
    for (let k = 0; k < 64; k++) body.writeUInt32LE(rng.next(), rng.int(fileSize - 4));
    const sub = join(root, `part${i % 16}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `${['src', 'lib', 'media'][kind]}${i}.bin`), body);
  }
  writeFileSync(join(dir, 'generated-ok'), 'ok\n');
  return { dir: root, description };
}
