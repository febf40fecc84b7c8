/**
 * The patch engine's own paths (src/release/bsdiff.ts, match.ts): the anchor
 * index, the streamed bzip2 of the diff/extra blocks, and the member pairing
 * cases a release meets — each patch applied by Debian bspatch and by a
 * stdlib Python bspatch.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bsdiff, type PatchResult } from '../../src/release/bsdiff';
import { bzip2, bzip2Join, bzip2Rle1Block, Rle1Stream, type Bzip2Block } from '../../src/release/bzip2';
import { buildIndex, reusing } from '../../src/release/match';
import { buildTar } from '../../src/release/build';
import { tarRegions } from '../../src/release/tar';
import { applyBoth, debianBsdiffSize, run, scratch, sha256sum, useBuiltWorker } from './helpers';

const tmp = scratch();
useBuiltWorker();

/** Deterministic bytes (xorshift). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}
const bytes = (r: (n: number) => number, n: number): Buffer => {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = r(256);
  return out;
};
const i32 = (a: Int32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Code-like bytes: a small vocabulary of tokens and call instructions with 16-bit targets. */
function codeLike(r: (n: number) => number, size: number): Buffer {
  const tokens = Array.from({ length: 200 }, () => bytes(r, 1 + r(6)));
  const out: Buffer[] = [];
  let n = 0;
  while (n < size) {
    const t = r(8) === 0 ? Buffer.from([0xe8, r(256), r(256), 0, 0]) : tokens[r(tokens.length)]!;
    out.push(t);
    n += t.length;
  }
  return Buffer.concat(out);
}

/** A rebuild of `code`: a block inserted at `at`, then every call target after it moved. */
function rebuilt(r: (n: number) => number, code: Buffer, at: number): Buffer {
  const out = Buffer.concat([code.subarray(0, at), bytes(r, 3000), code.subarray(at)]);
  for (let i = at; i < out.length - 5; i++)
    if (out[i] === 0xe8) out.writeUInt16LE((out.readUInt16LE(i + 1) + 41) & 0xffff, i + 1);
  return out;
}

function expectApplies(old: Uint8Array, nw: Uint8Array, r: PatchResult): void {
  const [deb, py] = applyBoth(old, r.patch, tmp());
  expect(sha256sum(deb)).toBe(sha256sum(nw));
  expect(sha256sum(py)).toBe(sha256sum(nw));
}

function tarOf(files: Record<string, Buffer | string>, mtime: number): Buffer {
  const root = tmp();
  for (const [p, d] of Object.entries(files)) {
    run('mkdir', ['-p', join(root, p, '..')]);
    writeFileSync(join(root, p), d);
  }
  return buildTar(root, mtime).tar;
}

async function tarPatch(old: Buffer, nw: Buffer, threads = 1): Promise<PatchResult> {
  return bsdiff(old, nw, { oldRegions: tarRegions(old), newRegions: tarRegions(nw), threads });
}

describe('streamed bzip2 (initial run-length coding here, blocks on the pool)', () => {
  /** Compress `data` written to an Rle1Stream in pieces of the given sizes (cycled). */
  function streamed(
    data: Uint8Array,
    pieces: number[],
  ): { z: Uint8Array; blocks: { length: number; input: number }[] } {
    const coded: Bzip2Block[] = [];
    const seen: { length: number; input: number }[] = [];
    const s = new Rle1Stream(
      (n) => new Uint8Array(n),
      (b) => {
        seen.push({ length: b.length, input: b.input });
        coded.push(bzip2Rle1Block(b));
      },
    );
    for (let at = 0, k = 0; at < data.length; k++) {
      const n = Math.min(pieces[k % pieces.length]!, data.length - at);
      s.write(data.subarray(at, at + n));
      at += n;
    }
    s.end();
    return { z: bzip2Join(coded), blocks: seen };
  }

  test('gives the bytes of bzip2 over the whole input, whatever the piece sizes; only coded blocks are held', () => {
    const r = rng(7);
    const runs = Buffer.concat(
      [3, 4, 5, 254, 255, 256, 259, 510, 511, 1000].map((n, i) => Buffer.alloc(n, i % 2 === 0 ? 0x61 : 0)),
    );
    // 5 MB of zeros: one bzip2 block spans far more input than it holds once run-length coded.
    const data = Buffer.concat([
      runs,
      Buffer.alloc(5_000_000),
      bytes(r, 400_000),
      runs,
      Buffer.alloc(700_000, 7),
      runs,
    ]);
    const whole = bzip2(data);
    for (const pieces of [[data.length], [1], [3, 250, 4096, 65_536, 7], [1 << 20]]) {
      if (pieces[0] === 1 && pieces.length === 1) {
        // Byte by byte on a shorter input (every run crosses a piece border).
        const short = data.subarray(0, 20_000);
        expect(Buffer.compare(Buffer.from(streamed(short, [1]).z), Buffer.from(bzip2(short)))).toBe(0);
        continue;
      }
      const { z, blocks } = streamed(data, pieces);
      expect(Buffer.compare(Buffer.from(z), Buffer.from(whole))).toBe(0);
      expect(blocks.reduce((s, b) => s + b.input, 0)).toBe(data.length);
      expect(Math.max(...blocks.map((b) => b.length))).toBeLessThanOrEqual(900_000);
      expect(Math.max(...blocks.map((b) => b.input))).toBeGreaterThan(2_000_000);
    }
    expect(sha256sum(run('bzip2', ['-dc'], whole))).toBe(sha256sum(data));
    expect(
      Buffer.compare(Buffer.from(streamed(new Uint8Array(0), [10]).z), Buffer.from(bzip2(new Uint8Array(0)))),
    ).toBe(0);
  });
});

describe('Rle1Stream.writeRepeat (runs of zeros from identical stretches, not computed byte by byte)', () => {
  test('gives the blocks of writing the same bytes one by one, across runs of 255 and block cuts', () => {
    const r = rng(19);
    const coded = (ops: ([number, number] | Buffer)[], repeat: (k: number) => boolean): string => {
      const out: string[] = [];
      const s = new Rle1Stream(
        (n) => new Uint8Array(n),
        (b) => out.push(`${sha256sum(Buffer.from(b.data.subarray(0, b.length)))}:${b.crc}:${b.input}`),
      );
      ops.forEach((op, k) => {
        if (Buffer.isBuffer(op)) s.write(op);
        else if (repeat(k)) s.writeRepeat(op[0], op[1]);
        else s.write(Buffer.alloc(op[1], op[0]));
      });
      s.end();
      return out.join(',');
    };
    const edge = [0, 1, 3, 4, 5, 254, 255, 256, 509, 510, 511, 765];
    for (let trial = 0; trial < 30; trial++) {
      const ops: ([number, number] | Buffer)[] = [];
      // The first trial cuts a block inside a long run: 890 kB of random bytes nearly fill one.
      if (trial === 0) ops.push(bytes(r, 890_000), [0, 3_000_000], [7, 3], [0, 255]);
      for (let i = 0, count = 1 + r(12); i < count; i++) {
        const c = r(3) === 0 ? r(256) : 0;
        const n = r(4) === 0 ? edge[r(edge.length)]! : r(2) === 0 ? r(2000) : r(200_000);
        ops.push([c, n]);
      }
      const plain = coded(ops, () => false);
      if (trial === 0) expect(plain.split(',').length).toBe(2);
      expect(coded(ops, (k) => k % 2 === 0)).toBe(plain);
      expect(coded(ops, () => true)).toBe(plain);
    }
  });
});

describe('anchor index', () => {
  test('built into reused memory, it equals a fresh one (larger, then smaller texts)', () => {
    const r = rng(3);
    const texts = [codeLike(r, 300_000), codeLike(r, 900_000), bytes(r, 50_000), Buffer.alloc(40_000), codeLike(r, 5)];
    const reuse = reusing((n) => new Int32Array(n));
    for (const t of texts) {
      const fresh = buildIndex(t);
      const again = buildIndex(t, reuse);
      expect(again.bits).toBe(fresh.bits);
      expect(Buffer.compare(i32(again.start), i32(fresh.start))).toBe(0);
      expect(Buffer.compare(i32(again.pos), i32(fresh.pos))).toBe(0);
      // Every slot lists its anchors in ascending order, and every anchor is a position of the text.
      let ordered = true;
      for (let s = 0; s + 1 < fresh.start.length; s++)
        for (let j = fresh.start[s]! + 1; j < fresh.start[s + 1]!; j++) ordered &&= fresh.pos[j]! > fresh.pos[j - 1]!;
      expect(ordered).toBe(true);
      expect(fresh.pos.every((p) => p >= 0 && p <= Math.max(0, t.length - 8))).toBe(true);
      expect(fresh.start[fresh.start.length - 1]).toBe(fresh.pos.length);
    }
    // A run of one byte keeps only its first position.
    expect(buildIndex(Buffer.alloc(40_000)).pos.length).toBeLessThanOrEqual(1);
  });
});

describe('pairing cases, applied by bspatch and Python', () => {
  const r = rng(11);
  const lib = codeLike(r, 200_000);
  const base: Record<string, Buffer | string> = {
    'lib/libcore.so': lib,
    'share/data.bin': bytes(r, 100_000),
    'README.txt': 'readme\n'.repeat(100),
  };

  test('identical trees: nothing literal, nothing but zeros to diff', async () => {
    const old = tarOf(base, 1);
    const nw = tarOf(base, 1);
    const p = await tarPatch(old, nw);
    expect(p.stats.extraRaw).toBe(0);
    expect(p.stats.identical).toBeGreaterThanOrEqual(300_000);
    expectApplies(old, nw, p);
    expect(p.patch.length).toBeLessThan(2_000);
  });

  test('identical members are confirmed byte for byte: same size and edges with another middle is not identical', async () => {
    const edges = (middle: Buffer): Buffer =>
      Buffer.concat([Buffer.alloc(40, 'head'), middle, Buffer.alloc(40, 'tail')]);
    const x = edges(bytes(r, 5_000));
    const y = edges(bytes(r, 5_000));
    const z = edges(bytes(r, 5_000));
    const old = tarOf({ 'a/x.bin': x, 'a/y.bin': y }, 1);
    // y under a new name is found (the second of two candidates); z has the same size and edges but no twin.
    const nw = tarOf({ 'b/moved.bin': y, 'b/z.bin': z }, 2);
    const p = await tarPatch(old, nw);
    expect(p.stats.identical).toBe(y.length);
    expectApplies(old, nw, p);
  });

  test('empty old file: the new one is all extra bytes; empty new file', async () => {
    const nw = tarOf(base, 1);
    const p = await bsdiff(new Uint8Array(0), nw);
    expect(p.stats.extraRaw).toBe(nw.length);
    expectApplies(new Uint8Array(0), nw, p);
    const back = await bsdiff(nw, new Uint8Array(0));
    expectApplies(nw, new Uint8Array(0), back);
  });

  test('a member changed beyond recognition (same path): its bytes go literal, the rest still matches', async () => {
    const old = tarOf(base, 1);
    const nw = tarOf({ ...base, 'share/data.bin': bytes(r, 100_000) }, 2);
    const p = await tarPatch(old, nw);
    expect(p.stats.paired).toBeGreaterThanOrEqual(100_000);
    expect(p.stats.extraRaw).toBeGreaterThan(90_000);
    expect(p.stats.identical).toBeGreaterThanOrEqual(200_000); // the library, matched whole
    expectApplies(old, nw, p);
  });

  test('a rebuilt library moved to another folder (same name) and one renamed: both diffed against their old bytes', async () => {
    const old = tarOf(base, 1);
    const moved = rebuilt(r, lib, 50_000);
    const renamedData = Buffer.from(base['share/data.bin'] as Buffer);
    renamedData[500] = renamedData[500]! ^ 0xff;
    const nw = tarOf(
      { 'lib64/libcore.so': moved, 'share/data-v2.bin': renamedData, 'README.txt': base['README.txt']! },
      2,
    );
    const p = await tarPatch(old, nw);
    expect(p.stats.paired).toBeGreaterThanOrEqual(moved.length); // paired by file name
    expect(p.stats.rest).toBeGreaterThanOrEqual(renamedData.length); // another name: the rest job finds it
    expectApplies(old, nw, p);
    // Far smaller than the changed bytes: both were matched against their previous versions.
    expect(p.patch.length).toBeLessThan((moved.length + renamedData.length) / 10);
  });

  test('several large members (index memory reused and grown): same bytes with 1 and 2 threads', async () => {
    const big = (n: number): Buffer => codeLike(r, n);
    // Each above one 2 MiB task chunk (an index shared by several tasks): larger, then smaller.
    const a = big(2_150_000);
    const b = big(2_300_000);
    const c = big(2_120_000);
    const old = tarOf({ 'a.so': a, 'b.so': b, 'c.so': c }, 1);
    const nw = tarOf({ 'a.so': rebuilt(r, a, 1000), 'b.so': rebuilt(r, b, 1_500_000), 'c.so': rebuilt(r, c, 10) }, 2);
    const one = await tarPatch(old, nw, 1);
    const two = await tarPatch(old, nw, 2);
    expect(two.stats.threads).toBe(2);
    expect(one.stats.paired).toBeGreaterThan(6_500_000);
    expect(sha256sum(two.patch)).toBe(sha256sum(one.patch));
    expectApplies(old, nw, two);
    expect(two.patch.length).toBeLessThan(nw.length / 20);
  });
});

describe('a rewritten section of a large member (coincidental far matches, match.ts FAR_GAIN)', () => {
  test('short matches far away with nothing after them go literal: the patch is under 0.95x Debian bsdiff, and applies', async () => {
    const r = rng(5);
    // Executable-like bytes: tokens of a fixed dictionary, skewed, with some noise; v2 rewrites a quarter of them.
    const dict = Array.from({ length: 4096 }, () => bytes(r, 4 + r(13)));
    const tokens = (n: number): Buffer => {
      const out: Buffer[] = [];
      for (let k = 0; k < n;) {
        const x = r(1_000_000) / 1_000_000;
        const t = x < 0.04 ? bytes(r, 4 + r(12)) : dict[Math.floor(x * x * x * dict.length)]!;
        out.push(t);
        k += t.length;
      }
      return Buffer.concat(out).subarray(0, n);
    };
    const v1 = tokens(4_000_000);
    const at = 1_234_567;
    const v2 = Buffer.concat([v1.subarray(0, at), tokens(1_000_000), v1.subarray(at + 1_000_000)]);
    const old = tarOf({ 'bin/app': v1 }, 1);
    const nw = tarOf({ 'bin/app': v2 }, 2);
    const p = await tarPatch(old, nw, 1);
    expect(p.stats.paired).toBe(v2.length);
    expectApplies(old, nw, p);
    const refSize = debianBsdiffSize(old, nw, tmp());
    // bsdiff's rule takes every 9-byte match anywhere: ~50,000 triples whose far seeks cost more than the
    // literal tokens they replace (before FAR_GAIN: 0.985x Debian bsdiff here).
    expect(p.patch.length).toBeLessThan(refSize * 0.95);
  });
});

describe('matcher fuzz: random, repeated, shifted, empty and tiny inputs, applied by bspatch and Python', () => {
  const r = rng(2026);
  /** `src` with `count` random edits: inserted, deleted or overwritten runs of 1–40 bytes. */
  const edited = (src: Buffer, count: number): Buffer => {
    let out = Buffer.from(src);
    for (let k = 0; k < count; k++) {
      const at = r(out.length + 1);
      const n = 1 + r(40);
      const kind = r(3);
      if (kind === 0) out = Buffer.concat([out.subarray(0, at), bytes(r, n), out.subarray(at)]);
      else if (kind === 1) out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + n))]);
      else bytes(r, Math.min(n, out.length - at)).copy(out, at);
    }
    return out;
  };
  const periodic = (period: number, n: number): Buffer => {
    const unit = bytes(r, period);
    return Buffer.from(Array.from({ length: n }, (_, i) => unit[i % period]!));
  };
  /** Blocks of old picked at random places, some altered: chains longer than the lookup walks. */
  const picked = (old: Buffer, n: number): Buffer => {
    const parts: Buffer[] = [];
    for (let size = 0; size < n;) {
      const len = 1 + r(300);
      const at = r(Math.max(1, old.length - len));
      const part = Buffer.from(old.subarray(at, at + len));
      if (r(4) === 0 && part.length > 0) {
        const at = r(part.length);
        part[at] = part[at]! ^ 0x55;
      }
      parts.push(part);
      size += part.length;
    }
    return Buffer.concat(parts);
  };
  const code = codeLike(r, 120_000);
  const repeatedBlocks = Buffer.concat(Array.from({ length: 400 }, () => code.subarray(0, 64)));
  const cases: [string, Buffer, Buffer][] = [
    ['empty → empty', Buffer.alloc(0), Buffer.alloc(0)],
    ['empty → tiny', Buffer.alloc(0), bytes(r, 5)],
    ['tiny → empty', bytes(r, 3), Buffer.alloc(0)],
    ['one byte → same byte', Buffer.from([7]), Buffer.from([7])],
    ...Array.from({ length: 6 }, (_, i): [string, Buffer, Buffer] => [
      `tiny #${i}`,
      bytes(r, 1 + r(16)),
      bytes(r, 1 + r(16)),
    ]),
    ['random → unrelated random', bytes(r, 70_000), bytes(r, 50_000)],
    ['zeros → longer zeros', Buffer.alloc(50_000), Buffer.alloc(61_234)],
    ['period 3 → period 3 shifted by one', periodic(3, 40_000).subarray(1), periodic(3, 40_000)],
    ['period 7 → period 5', periodic(7, 30_000), periodic(5, 30_000)],
    ['shifted: prefix inserted, tail cut', code, Buffer.concat([bytes(r, 37), code.subarray(0, 100_000)])],
    ['code with 200 edits', code, edited(code, 200)],
    ['code rebuilt (moved call targets)', code, rebuilt(r, code, 60_000)],
    ['one block repeated 400 times → blocks picked from it', repeatedBlocks, picked(repeatedBlocks, 30_000)],
    ['blocks of code picked anywhere, some altered', code, picked(code, 90_000)],
    [
      'match running into the end of old',
      code.subarray(0, 50_000),
      Buffer.concat([code.subarray(10_000, 50_000), code.subarray(0, 60)]),
    ],
  ];

  test.each(cases)('%s', async (_name, old, nw) => {
    const p = await bsdiff(old, nw, { threads: 1 });
    expectApplies(old, nw, p);
  });

  test('same bytes with 1 and 2 threads on a mixed input above the worker threshold', async () => {
    // Old + new just above 1 MiB, where workers start (bsdiff.ts WORKERS_ABOVE).
    const old = Buffer.concat([code, bytes(r, 200_000), repeatedBlocks, code]);
    const nw = Buffer.concat([edited(code, 300), picked(old, 300_000), rebuilt(r, code, 1_000), bytes(r, 100_000)]);
    expect(old.length + nw.length).toBeGreaterThan(1 << 20);
    const one = await bsdiff(old, nw, { threads: 1 });
    const two = await bsdiff(old, nw, { threads: 2 });
    expect(two.stats.threads).toBe(2);
    expect(sha256sum(two.patch)).toBe(sha256sum(one.patch));
    expectApplies(old, nw, two);
  });

  test('patch size within 1.02× of Debian bsdiff on a rebuilt library with edits', async () => {
    const old = codeLike(r, 400_000);
    const nw = edited(rebuilt(r, old, 150_000), 100);
    const p = await bsdiff(old, nw, { threads: 1 });
    expectApplies(old, nw, p);
    const refSize = debianBsdiffSize(old, nw, tmp());
    expect(p.patch.length).toBeLessThanOrEqual(refSize * 1.02);
  });
});

describe('many small text files (the rest job: headers, edited, added, renamed files)', () => {
  const r = rng(100);
  const words = Array.from({ length: 3000 }, () =>
    Array.from({ length: 2 + r(7) }, () => String.fromCharCode(97 + r(26))).join(''),
  );
  /** Source-like text: lines of words from a skewed vocabulary, with punctuation. */
  const text = (n: number): string => {
    let s = '';
    while (s.length < n) {
      const x = r(1_000_000) / 1_000_000;
      s += words[Math.floor(x * x * x * words.length)]! + [' ', '(', ');\n', ', ', ' = '][r(5)]!;
    }
    return s.slice(0, n);
  };
  const files: Record<string, string> = {};
  for (let i = 0; i < 1500; i++) files[`app/pkg${i % 15}/m${i}.js`] = text(100 + r(2900));
  const next: Record<string, string> = {};
  for (const [p, d] of Object.entries(files)) {
    if (r(100) === 0) continue; // deleted
    const at = r(d.length);
    next[r(200) === 0 ? p.replace('/m', '/r') : p] =
      r(100) < 3 ? d.slice(0, at) + text(10 + r(100)) + d.slice(at + r(50)) : d;
    if (r(100) < 2) next[p.replace('/m', '/new')] = text(100 + r(2900)); // added
  }
  const old = tarOf(files, 1);
  const nw = tarOf(next, 2);

  test('patch no larger than Debian bsdiff on the same tars; same bytes with 1 and 2 threads; bspatch and Python rebuild it', async () => {
    const one = await tarPatch(old, nw, 1);
    const two = await tarPatch(old, nw, 2);
    expect(two.stats.threads).toBe(2);
    expect(sha256sum(two.patch)).toBe(sha256sum(one.patch));
    expect(one.stats.rest).toBeGreaterThan(1500 * 512); // headers and the changed files go to the rest job
    expectApplies(old, nw, one);
    const refSize = debianBsdiffSize(old, nw, tmp());
    expect(one.patch.length).toBeLessThanOrEqual(refSize);
  });
});
