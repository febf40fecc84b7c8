/**
 * The memory growth law of `add-release` with a patch (ADR 0005, "Memory bound", "Measured growth"), pinned on
 * small generated pairs: the built CLI releases 1.0 then 2.0 of an application in a child with a 48 MiB heap,
 * and the 2.0 run's resident peak (VmHWM, read by the child itself at exit) is compared between two pairs that
 * differ in one thing only. All three compare with one base pair: 5 MB rebuilt (largest member 1 MB) and 8 MB
 * unchanged, released twice, its higher peak taken (see `few`).
 *
 * - Unchanged bytes: the same rebuilt members, plus 8 MB or 168 MB of members identical in 1.0 and 2.0. No
 *   unchanged byte is held (identical members are compared 1 MiB at a time), yet the peak measured +31…51 MiB
 *   for 160 MB more (0.21–0.33 byte per byte), a step rather than a slope as far as two points show, most likely
 *   pieces not yet collected while the longer read-back check overlaps the patch stage (not established;
 *   ADR 0005). The test allows 0.5, so holding either tar (1 byte per byte) fails it.
 * - Changed bytes, two terms measured apart, with rebuilt members shaped like a recompiled release (each with an
 *   inserted line and scattered rewritten bytes):
 *   - more rebuilt members, the largest the same (eighty more of 0.5 MB, 40 MB more rebuilt bytes): what a job
 *     holds does not grow, only the patch and its pieces (~0.05 byte per byte). Measured −0.12 and +0.26 byte per
 *     byte in two runs (the base pair's own peak moves by ~10 MiB between runs); the test allows 1, so an engine that holds
 *     both tars whole (2 bytes per changed byte more, a deliberately broken build measured 2.68) fails it,
 *     as do bsdiff's ~9 per old byte and an index per changed member;
 *   - the largest member four times as large (1 MB → 4 MB, 15 MB more rebuilt bytes): ~9 bytes per byte of the
 *     largest changed member; 1.49 and 1.65 bytes per added byte measured. The test allows 5, which the broken
 *     build above also passes (4.15): this term alone cannot tell it apart.
 *
 * The assertions are on bytes, never on time.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runCli, TEST_OFFLINE_PASSPHRASE, TEST_PASSPHRASE } from '../helpers/cli';
import { readPeakKiB, writePeakPreload } from '../helpers/peak-rss';
import { tempDir } from '../helpers/tmp';

jest.setTimeout(240_000);

const MB = 1_000_000;
const MiB = 1024 * 1024;
const base = tempDir('tufsign-growth-');
const ws = join(base, 'repo');
const peakFile = join(base, 'peak.json');
const preload = join(base, 'peak-preload.js');
const env = {
  ...process.env,
  TUFSIGN_PASSPHRASE: TEST_PASSPHRASE,
  TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE,
  TUFSIGN_TRUST_HOME: join(base, 'trust'),
  SOURCE_DATE_EPOCH: '1700000000',
  NO_COLOR: '1',
};

/** 40 MB of distinct text lines; members are windows of it at different offsets. */
const TEXT = Buffer.from(
  Array.from({ length: 700_000 }, (_, i) => `line ${i} of a release member ${(i * 40503) % 65521} ${i % 977}\n`).join(
    '',
  ),
);

/** `size` bytes of member `id` (version 1): a window of TEXT, stamped so no two members are equal. */
function member(id: number, size: number): Buffer {
  const at = (id * 7_919_993) % (TEXT.length - size);
  const out = Buffer.from(TEXT.subarray(at, at + size));
  out.write(`member ${id}`, 0);
  return out;
}

/** Its rebuild: a line inserted in the middle and a 4-byte field rewritten every ~64 KiB (shifted offsets). */
function rebuilt(bytes: Buffer, id: number): Buffer {
  const out = Buffer.concat([
    bytes.subarray(0, bytes.length >> 1),
    Buffer.from(`inserted ${id}\n`),
    bytes.subarray(bytes.length >> 1),
  ]);
  for (let at = 1000 + id; at + 4 < out.length; at += 65_521) out.writeUInt32LE((at * 2_654_435_761) >>> 0, at);
  return out;
}

interface Shape {
  /** sizes of the members rebuilt between 1.0 and 2.0 */
  changed: number[];
  /** sizes of the members identical in both */
  unchanged: number[];
}

/** Version `v` of an application of that shape, written to its own folder. */
function write(app: string, shape: Shape, v: 1 | 2): string {
  const dir = join(base, `${app}-${v}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'lib'), { recursive: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  shape.changed.forEach((size, i) => {
    const bytes = member(i, size);
    writeFileSync(join(dir, 'lib', `native${i}.so`), v === 1 ? bytes : rebuilt(bytes, i));
  });
  shape.unchanged.forEach((size, i) => writeFileSync(join(dir, 'data', `pack${i}.bin`), member(1000 + i, size)));
  writeFileSync(join(dir, 'main.py'), `print(${JSON.stringify(`${app} ${v}`)})\n`);
  return dir;
}

/** `add-release APP VERSION DIR` in a child with a 48 MiB heap; the JSON result and the resident peak (bytes). */
function capped(app: string, version: string, dir: string): { json: any; peak: number } {
  const r = spawnSync(
    process.execPath,
    [
      '--max-old-space-size=48',
      '--require',
      preload,
      BIN,
      'add-release',
      app,
      version,
      dir,
      '-w',
      ws,
      '--json',
      '--threads',
      '2',
    ],
    { env, encoding: 'utf8', maxBuffer: 64 * MiB },
  );
  if (r.status !== 0) throw new Error(`add-release ${app} ${version} exited ${r.status}: ${r.stdout}${r.stderr}`);
  const peakKiB = readPeakKiB(peakFile);
  return { json: JSON.parse(r.stdout), peak: peakKiB * 1024 };
}

/** Release 1.0 then 2.0 of `shape` as `app`; the 2.0 run's peak, and the tars' sizes. */
function pair(app: string, shape: Shape): { peak: number; tar: number; patched: boolean } {
  capped(app, '1.0', write(app, shape, 1));
  const two = capped(app, '2.0', write(app, shape, 2));
  rmSync(join(base, `${app}-1`), { recursive: true, force: true });
  rmSync(join(base, `${app}-2`), { recursive: true, force: true });
  return { peak: two.peak, tar: two.json.tar.size, patched: two.json.patch?.from === '1.0' };
}

const changedOf = (k: number): number[] => [2 * k * MB, ...Array.from({ length: 8 }, () => k * MB)];
const fmt = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

beforeAll(() => {
  writePeakPreload(preload, peakFile);
  const r = runCli(['init', ws, '--json']);
  if (r.status !== 0) throw new Error(r.stdout + r.stderr);
});

describe('add-release with a patch: the memory growth law (ADR 0005)', () => {
  const four = (n: number): number[] => Array.from({ length: n }, () => 4 * MB);
  /**
   * The pair every other is compared with: 5 MB rebuilt (largest member 1 MB), 8 MB unchanged. Made once, released
   * twice under two names; the higher of the two peaks is the base. Its peak moves by up to ~30 MiB between runs
   * (137.7 and 168.8 MiB seen on the same commit), and one low run made a correct engine fail all three terms at
   * once (0.56, 0.78 and 4.4 byte per byte); an engine that holds a tar measured 2.28 and 2.68, far above that noise.
   */
  let base: ReturnType<typeof pair> | undefined;
  const few = (): ReturnType<typeof pair> => {
    if (base !== undefined) return base;
    const shape = { changed: changedOf(0.5), unchanged: four(2) };
    const [first, second] = [pair('few', shape), pair('few-again', shape)];
    base = { ...first, peak: Math.max(first.peak, second.peak), patched: first.patched && second.patched };
    return base;
  };

  it('per unchanged byte: 160 MB more identical members add < 0.5 byte per byte (holding a tar adds 1)', () => {
    const small = few();
    const large = pair('many', { changed: changedOf(0.5), unchanged: four(42) }); // 168 MB unchanged
    expect(small.patched && large.patched).toBe(true);
    const added = large.tar - small.tar;
    expect(added).toBeGreaterThan(159 * MB);
    process.stderr.write(
      `growth, unchanged: 2.0 peak ${fmt(small.peak)} → ${fmt(large.peak)} for ${(added / MB).toFixed(1)} MB more unchanged: ${((large.peak - small.peak) / added).toFixed(3)} B/B\n`,
    );
    expect(large.peak - small.peak).toBeLessThan(0.5 * added);
  });

  it('per changed byte, the largest changed member the same: 40 MB more rebuilt bytes add < 1 byte per byte (holding both tars adds 2)', () => {
    const small = few();
    // Eighty more rebuilt members of 0.5 MB: what is held per job does not grow, only the patch and its pieces.
    const wide = pair('wide', { changed: [MB, ...Array.from({ length: 88 }, () => 0.5 * MB)], unchanged: four(2) });
    expect(small.patched && wide.patched).toBe(true);
    const added = wide.tar - small.tar;
    expect(added).toBeGreaterThan(39.9 * MB);
    process.stderr.write(
      `growth, changed (same largest member): 2.0 peak ${fmt(small.peak)} → ${fmt(wide.peak)} for ${(added / MB).toFixed(1)} MB more rebuilt: ${((wide.peak - small.peak) / added).toFixed(3)} B/B\n`,
    );
    expect(wide.peak - small.peak).toBeLessThan(added);
  });

  it('per changed byte, the largest changed member four times as large: under 5 bytes per byte (15 MB more rebuilt)', () => {
    const small = few();
    const large = pair('c20', { changed: changedOf(2), unchanged: four(2) }); // 20 MB rebuilt, largest member 4 MB
    expect(small.patched && large.patched).toBe(true);
    const added = large.tar - small.tar;
    expect(added).toBeGreaterThan(14.9 * MB);
    process.stderr.write(
      `growth, changed (largest member 1 → 4 MB): 2.0 peak ${fmt(small.peak)} → ${fmt(large.peak)} for ${(added / MB).toFixed(1)} MB more rebuilt: ${((large.peak - small.peak) / added).toFixed(2)} B/B\n`,
    );
    expect(large.peak - small.peak).toBeLessThan(5 * added);
  });
});
