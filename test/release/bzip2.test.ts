/**
 * The bzip2 encoder (src/release/bzip2.ts) on its own: every stream decodes
 * with Debian `bzip2 -d` and Python's `bz2` to exactly the input, on data of
 * every shape (random, runs, zeros, empty, exactly one block, one byte over
 * a block), and blocks compressed on worker threads (tasks.ts) join into the
 * same bytes as one-thread compression whatever the thread count — also when
 * a worker dies mid-way.
 */
import { bzip2, bzip2Cuts, bzip2Join, type Bzip2Block } from '../../src/release/bzip2';
import { Pool } from '../../src/release/workers';
import { run, sha256sum, useBuiltWorker } from './helpers';

useBuiltWorker();

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

const PY_BZ2 = 'import bz2, sys; sys.stdout.buffer.write(bz2.decompress(sys.stdin.buffer.read()))';

function expectDecodes(z: Uint8Array, data: Uint8Array): void {
  expect(sha256sum(run('bzip2', ['-dc'], z))).toBe(sha256sum(data));
  expect(sha256sum(run('python3', ['-c', PY_BZ2], z))).toBe(sha256sum(data));
}

/** Random bytes without runs of 4 (so run-length coding leaves them as they are). */
function noRuns(r: (n: number) => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = r(256);
    if (i >= 3 && out[i] === out[i - 1] && out[i] === out[i - 2] && out[i] === out[i - 3]) out[i]! ^= 1;
  }
  return out;
}

/** Runs of every length 1…300 of changing bytes: exercises run-length coding and RUNA/RUNB. */
function runs(r: (n: number) => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n;) {
    const len = 1 + r(300);
    out.fill(r(4) === 0 ? 0 : r(256), i, Math.min(n, i + len));
    i += len;
  }
  return out;
}

const r = rng(2026);
const oneBlock = bzip2Cuts(noRuns(rng(5), 1_000_000))[1]!; // input bytes that fill exactly one block
const cases: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)],
  ['one byte', Uint8Array.of(0x42)],
  ['runs of every length, 1 MB', runs(r, 1_000_000)],
  ['all zeros, 3 MB (a diff block of an unchanged file)', new Uint8Array(3_000_000)],
  ['period 2 (not a primitive block)', Uint8Array.from({ length: 300_000 }, (_, i) => i & 1)],
  ['exactly one block', noRuns(rng(5), oneBlock)],
  ['one byte over a block', noRuns(rng(5), oneBlock + 1)],
  ['sparse deltas (a diff block)', Uint8Array.from({ length: 600_000 }, () => (r(20) === 0 ? r(256) : 0))],
];

describe('bzip2 encoder', () => {
  test('block cuts fall where libbzip2 cuts: a block holds exactly the run-free bytes that fill it', () => {
    expect(oneBlock).toBeGreaterThan(899_000);
    expect(bzip2Cuts(noRuns(rng(5), oneBlock))).toEqual([0, oneBlock]);
    expect(bzip2Cuts(noRuns(rng(5), oneBlock + 1))).toEqual([0, oneBlock, oneBlock + 1]);
    // A run of 255 equal bytes costs 5 block slots: 3 MB of zeros fit in one block.
    expect(bzip2Cuts(new Uint8Array(3_000_000))).toEqual([0, 3_000_000]);
    expect(bzip2Cuts(new Uint8Array(0))).toEqual([0]);
  });

  test.each(cases)('%s: Debian bzip2 -d and Python bz2 give the input back', (_name, data) => {
    expectDecodes(bzip2(data), data);
  });

  test('compresses like bzip2 -9 on text (within 2 %)', () => {
    const text = Buffer.from(
      Array.from({ length: 60_000 }, (_, i) => `line ${(i * 7919) % 10007} of the ${i % 13} file\n`).join(''),
    );
    const ours = bzip2(text).length;
    const theirs = run('bzip2', ['-9c'], text).length;
    expect(Math.abs(ours - theirs) / theirs).toBeLessThan(0.02);
  });
});

describe('bzip2 blocks on worker threads', () => {
  // A full block of random bytes, then random bytes, runs and zeros in a second one.
  const data = new Uint8Array(
    Buffer.concat([noRuns(rng(5), oneBlock), noRuns(r, 100_000), runs(r, 200_000), new Uint8Array(100_000)]),
  );
  const expected = sha256sum(bzip2(data));

  async function onPool(threads: number, failAfter?: number): Promise<{ bytes: Uint8Array; fallbacks: number }> {
    const pool = new Pool(threads, { failAfter });
    try {
      const shared = new Uint8Array(new SharedArrayBuffer(data.length));
      shared.set(data);
      const cuts = bzip2Cuts(shared);
      const blocks: Promise<Bzip2Block>[] = [];
      for (let i = 0; i + 1 < cuts.length; i++)
        blocks.push(pool.run({ kind: 'bzip2', data: shared, from: cuts[i]!, to: cuts[i + 1]! }) as Promise<Bzip2Block>);
      return { bytes: bzip2Join(await Promise.all(blocks)), fallbacks: pool.fallbacks };
    } finally {
      pool.close();
    }
  }

  test('joined blocks are one valid stream with the same bytes for 1, 2 and 3 threads', async () => {
    expect(bzip2Cuts(data)).toEqual([0, oneBlock, data.length]); // two blocks, the first one full
    for (const threads of [1, 2]) expect(sha256sum((await onPool(threads)).bytes)).toBe(expected);
    const three = (await onPool(3)).bytes;
    expect(sha256sum(three)).toBe(expected);
    expectDecodes(three, data);
  });

  test('workers that die on their first block: the blocks are redone here, same bytes', async () => {
    const failed = await onPool(2, 0);
    expect(failed.fallbacks).toBeGreaterThan(0);
    expect(sha256sum(failed.bytes)).toBe(expected);
  });
});
