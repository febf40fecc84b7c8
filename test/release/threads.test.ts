/**
 * The patch on worker threads (src/release/workers.ts, worker.ts): the bytes
 * do not depend on the thread count, a failing worker's tasks are redone in
 * this thread with the same result, and bspatch (Debian and a stdlib Python
 * one) turns the old tar into exactly the new one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bsdiff } from '../../src/release/bsdiff';
import { buildRelease, buildTar } from '../../src/release/build';
import { checkReleaseVersion, parseVersion } from '../../src/release/version';
import { tarRegions } from '../../src/release/tar';
import { setWorkerScript } from '../../src/release/workers';
import { applyBoth, run, scratch, sha256sum, useBuiltWorker } from './helpers';

const tmp = scratch();
const workerEntry = useBuiltWorker();

/** Deterministic bytes (xorshift), so the test data is the same on every run. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

/**
 * A release pair like a rebuild: a 2.5 MB code-like binary (above one 2 MiB task
 * chunk, so its index is shared by several tasks) whose call offsets move after
 * an inserted and a deleted block, plus changed, added, removed and renamed small files.
 */
function releasePair(): { old: Buffer; nw: Buffer } {
  const r = rng(15);
  const tokens = Array.from({ length: 300 }, () => Buffer.from(Array.from({ length: 1 + r(6) }, () => r(256))));
  const code: Buffer[] = [];
  let size = 0;
  while (size < 2_500_000) {
    const t =
      r(10) === 0
        ? Buffer.from([0xe8, r(256), r(256), 0, 0])
        : tokens[Math.floor((r(1000) / 1000) ** 2 * tokens.length)]!;
    code.push(t);
    size += t.length;
  }
  const bin1 = Buffer.concat(code);
  const bin2 = Buffer.concat([
    bin1.subarray(0, 500_000),
    Buffer.from(tokens.slice(0, 200).flatMap((t) => [...t])),
    bin1.subarray(500_000, 1_500_000),
    bin1.subarray(1_530_000),
  ]);
  // Every call after the insertion has its rel32 moved.
  for (let i = 500_000; i < bin2.length - 5; i++)
    if (bin2[i] === 0xe8 && i % 7 === 0) bin2.writeUInt16LE((bin2.readUInt16LE(i + 1) + 977) & 0xffff, i + 1);
  const write = (root: string, files: Record<string, Buffer | string>): string => {
    for (const [p, d] of Object.entries(files)) {
      run('mkdir', ['-p', join(root, p, '..')]);
      writeFileSync(join(root, p), d);
    }
    return root;
  };
  const small = (i: number): string => `module ${i}\n`.repeat(50 + (i % 30));
  const f1: Record<string, Buffer | string> = {
    'bin/app': bin1,
    'data/blob.bin': Buffer.from(tokens.slice(0, 100).flatMap((t) => [...t])),
  };
  for (let i = 0; i < 60; i++) f1[`lib/m${i}.py`] = small(i);
  const f2: Record<string, Buffer | string> = { ...f1, 'bin/app': bin2 };
  f2['lib/m3.py'] = small(3) + 'changed\n';
  f2['lib/renamed7.py'] = f1['lib/m7.py']!;
  delete f2['lib/m7.py'];
  delete f2['lib/m9.py'];
  f2['lib/new.py'] = 'new file\n'.repeat(40);
  const { tar: old } = buildTar(write(tmp(), f1), 1);
  const { tar: nw } = buildTar(write(tmp(), f2), 2);
  return { old, nw };
}

describe('patch on worker threads', () => {
  const { old, nw } = releasePair();
  const regions = { oldRegions: tarRegions(old), newRegions: tarRegions(nw) };

  test('the same bytes with 1, 2 and 3 threads; bspatch and Python bspatch give the new tar', async () => {
    const one = await bsdiff(old, nw, { ...regions, threads: 1 });
    const two = await bsdiff(old, nw, { ...regions, threads: 2 });
    const three = await bsdiff(old, nw, { ...regions, threads: 3 });
    expect(one.stats.threads).toBe(1);
    expect(two.stats.threads).toBe(2); // the workers really ran
    expect(three.stats.threads).toBe(3);
    expect(two.stats.paired).toBeGreaterThan(2_200_000); // the binary went through the shared-index path (more than one chunk)
    expect(sha256sum(two.patch)).toBe(sha256sum(one.patch));
    expect(sha256sum(three.patch)).toBe(sha256sum(one.patch));
    const [deb, py] = applyBoth(old, two.patch, tmp());
    expect(sha256sum(deb)).toBe(sha256sum(nw));
    expect(sha256sum(py)).toBe(sha256sum(nw));
    // A shifted binary costs far less than its size.
    expect(two.patch.length).toBeLessThan(nw.length / 20);
  });

  test('without tar regions (whole-file diff) the thread count does not change the bytes either', async () => {
    const one = await bsdiff(old, nw, { threads: 1 });
    const two = await bsdiff(old, nw, { threads: 2 });
    expect(sha256sum(two.patch)).toBe(sha256sum(one.patch));
    expect(sha256sum(applyBoth(old, two.patch, tmp())[0])).toBe(sha256sum(nw));
  });

  test('a worker that dies mid-way: its tasks are redone here, same bytes', async () => {
    const one = await bsdiff(old, nw, { ...regions, threads: 1 });
    const failing = await bsdiff(old, nw, { ...regions, threads: 2, failWorkersAfter: 1 });
    expect(failing.stats.fallbacks).toBeGreaterThan(0);
    expect(sha256sum(failing.patch)).toBe(sha256sum(one.patch));
  });

  test('a worker entry that cannot load: everything runs here, same bytes', async () => {
    const one = await bsdiff(old, nw, { ...regions, threads: 1 });
    setWorkerScript(join(tmp(), 'missing-worker.js'));
    try {
      const r = await bsdiff(old, nw, { ...regions, threads: 2 });
      expect(sha256sum(r.patch)).toBe(sha256sum(one.patch));
    } finally {
      setWorkerScript(workerEntry);
    }
  });

  test('add-release: archive and patch bytes independent of --threads', async () => {
    const d = tmp();
    const v1 = join(d, 'v1');
    const v2 = join(d, 'v2');
    for (const [dir, content] of [
      [v1, old],
      [v2, nw],
    ] as const) {
      run('mkdir', ['-p', dir]);
      // The tars themselves, as bundle files: a large, partly shifted member.
      writeFileSync(join(dir, 'payload.tar'), content);
      writeFileSync(join(dir, 'notes.txt'), dir === v1 ? 'one\n' : 'two\n');
    }
    const r1 = await buildRelease({
      app: 'threads_app',
      version: checkReleaseVersion('1.0'),
      dir: v1,
      releaseTime: 1_700_000_000,
      threads: 2,
    });
    const build = (threads: number): ReturnType<typeof buildRelease> =>
      buildRelease({
        app: 'threads_app',
        version: checkReleaseVersion('2.0'),
        dir: v2,
        releaseTime: 1_700_000_100,
        threads,
        previous: { version: parseVersion('1.0'), archiveBytes: r1.archive.bytes },
      });
    const a = await build(1);
    const b = await build(2);
    expect(sha256sum(b.archive.bytes)).toBe(sha256sum(a.archive.bytes));
    expect(b.patch).toBeDefined();
    expect(sha256sum(b.patch!.bytes)).toBe(sha256sum(a.patch!.bytes));
    expect(sha256sum(applyBoth(r1.tar.bytes, b.patch!.bytes, tmp())[1])).toBe(b.tar.sha256);
  });
});
