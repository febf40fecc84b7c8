/**
 * The patch engine's own paths (src/release/bsdiff.ts, match.ts): the anchor
 * index, the streamed bzip2 of the diff/extra blocks, and the member pairing
 * cases a release meets — each patch applied by Debian bspatch and by a
 * stdlib Python bspatch.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bsdiff, type PatchResult } from '../../src/release/bsdiff';
import { bzip2, bzip2Join, bzip2Rle1Block, Rle1Stream, type Bzip2Block } from '../../src/release/bzip2';
import { buildIndex, reusing } from '../../src/release/match';
import { buildTar } from '../../src/release/build';
import { tarRegions } from '../../src/release/tar';
import { PY_BSPATCH, run, scratch, sha256sum, useBuiltWorker } from './helpers';

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

function applyBoth(old: Uint8Array, patch: Uint8Array): [Buffer, Buffer] {
  const d = tmp();
  writeFileSync(join(d, 'old'), old);
  writeFileSync(join(d, 'p'), patch);
  run('bspatch', [join(d, 'old'), join(d, 'deb'), join(d, 'p')]);
  run('python3', ['-c', PY_BSPATCH, join(d, 'old'), join(d, 'p'), join(d, 'py')]);
  return [readFileSync(join(d, 'deb')), readFileSync(join(d, 'py'))];
}

function expectApplies(old: Uint8Array, nw: Uint8Array, r: PatchResult): void {
  const [deb, py] = applyBoth(old, r.patch);
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
