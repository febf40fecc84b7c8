/**
 * Archive-only releases streamed to a file (src/release/archive-stream.ts):
 * the same bytes and target info as the in-memory build whatever the thread
 * count, a bundle that changes while it is read is refused with nothing left
 * behind, and a child process with a capped heap streams a folder several
 * times larger than the cap while its resident memory stays far below the
 * tar's size (ADR 0005, "Memory bound").
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { buildArchiveRelease, buildRelease, type VerifyReleaseResult } from '../../src/release/build';
import { GZIP_BLOCK } from '../../src/release/gzip';
import { checkReleaseVersion, parseVersion } from '../../src/release/version';
import { expectCodeAsync, makeBundle, run, scratch, sha256sum } from './helpers';
import { PEAK_RSS_SNIPPET } from '../helpers/peak-rss';
import * as folderRead from '../../src/io/folder-read';

const tmp = scratch();

/** A bundle whose tar spans several gzip blocks, with files straddling block borders. */
function multiBlockBundle(): string {
  const dir = makeBundle(tmp());
  const chunk = Buffer.from(
    Array.from({ length: 40_000 }, (_, i) => `record ${i} ${(i * 2654435761) % 1000003}\n`).join(''),
  );
  for (let f = 0; f < 12; f++) {
    const data = Buffer.concat(Array.from({ length: 1 + (f % 4) }, () => chunk)).subarray(0, 300_000 * (1 + f));
    mkdirSync(join(dir, `big${f % 3}`), { recursive: true });
    writeFileSync(join(dir, `big${f % 3}`, `part${f}.bin`), data);
  }
  return dir;
}

describe('archive-only release streamed to a file', () => {
  const dir = multiBlockBundle();
  const common = { app: 'stream_app', version: checkReleaseVersion('1.0'), dir, releaseTime: 1_700_000_000 } as const;

  test('same archive bytes, target info and tar hash as the in-memory build, for 1 and 3 threads', async () => {
    const inMemory = await buildRelease({ ...common, threads: 2 });
    expect(inMemory.tar.size).toBeGreaterThan(3 * GZIP_BLOCK); // several gzip blocks
    for (const threads of [1, 3]) {
      const out = join(tmp(), 'stream_app-1.0.tar.gz');
      const r = await buildArchiveRelease({ ...common, threads, archivePath: out });
      expect(r.archive.path).toBe(out);
      expect(r.archive.name).toBe(inMemory.archive.name);
      expect(sha256sum(readFileSync(out))).toBe(sha256sum(inMemory.archive.bytes));
      expect(r.archive.targetFile.toJSON()).toEqual(inMemory.archive.targetFile.toJSON());
      expect(r.tar).toEqual({ sha256: inMemory.tar.sha256, size: inMemory.tar.size });
      expect(r.files).toBe(inMemory.files);
    }
  });

  test('a bundle file that grows after the scan: RELEASE_FILE_CHANGED, no archive or temporary file left', async () => {
    const bundle = makeBundle(tmp());
    const outDir = tmp();
    await expectCodeAsync(
      () =>
        buildArchiveRelease({
          ...common,
          dir: bundle,
          archivePath: join(outDir, 'stream_app-1.0.tar.gz'),
          // Called once the scan is done, before any file is read.
          onProgress: (p) => {
            if (p.stage === 'compress' && p.done === 0) appendFileSync(join(bundle, 'app.py'), '# later\n');
          },
        }),
      'RELEASE_FILE_CHANGED',
    );
    expect(readdirSync(outDir)).toEqual([]);
  });

  describe('reading each file (one read asks for a byte more than the file, so a short read shows its end)', () => {
    /** The multi-block bundle plus files of 0, 1, 511, 512 and 1024 bytes (a spare byte in the padding or the next header). */
    const edgeDir = multiBlockBundle();
    for (const n of [0, 1, 511, 512, 1024]) writeFileSync(join(edgeDir, `edge-${n}.bin`), Buffer.alloc(n, 0x5a));
    const edge = { ...common, dir: edgeDir };
    afterEach(() => jest.restoreAllMocks());

    test('reads that return less than asked before the end give the same bytes', async () => {
      const inMemory = await buildRelease({ ...edge, threads: 2 });
      const real = folderRead.readAt;
      const spy = jest
        .spyOn(folderRead, 'readAt')
        .mockImplementation((fd, buf, at, n) => real(fd, buf, at, n > 1 ? Math.ceil(n / 3) : n));
      const out = join(tmp(), 'stream_app-1.0.tar.gz');
      const r = await buildArchiveRelease({ ...edge, threads: 2, archivePath: out });
      expect(spy).toHaveBeenCalled();
      expect(sha256sum(readFileSync(out))).toBe(sha256sum(inMemory.archive.bytes));
      expect(r.tar).toEqual({ sha256: inMemory.tar.sha256, size: inMemory.tar.size });
    });

    test.each([
      ['at the read with the spare byte', makeBundle(tmp()), (n: number) => n > 1],
      [
        'at the second read that checks the end (an empty file, files across gzip blocks)',
        edgeDir,
        (n: number) => n === 1,
      ],
    ])(
      'a file that grows between its open and its last read, caught %s: RELEASE_FILE_CHANGED, nothing left',
      async (_what, bundle, reads) => {
        const real = folderRead.readAt;
        // The file is one byte longer than when it was scanned and opened: a read that reaches its end gets one more.
        const spy = jest.spyOn(folderRead, 'readAt').mockImplementation((fd, buf, at, n) => {
          const got = real(fd, buf, at, n);
          if (got >= n || !reads(n)) return got;
          buf[at + got] = 0x41;
          return got + 1;
        });
        const outDir = tmp();
        await expectCodeAsync(
          () => buildArchiveRelease({ ...common, dir: bundle, archivePath: join(outDir, 'stream_app-1.0.tar.gz') }),
          'RELEASE_FILE_CHANGED',
        );
        expect(spy.mock.calls.some(([, , , n]) => reads(n))).toBe(true);
        expect(readdirSync(outDir)).toEqual([]);
      },
    );
  });

  test('a version that is not newer than a released one is refused before anything is written', async () => {
    const outDir = tmp();
    await expectCodeAsync(
      () =>
        buildArchiveRelease({
          ...common,
          existingVersions: [parseVersion('1.0')],
          archivePath: join(outDir, 'stream_app-1.0.tar.gz'),
        }),
      'RELEASE_NOT_NEWER',
    );
    expect(readdirSync(outDir)).toEqual([]);
  });
});

describe('bounded memory', () => {
  // The built module (npm test builds dist/ first); under CI a missing build fails.
  const built = resolve(__dirname, '../../dist/release/build.js');
  const version = resolve(__dirname, '../../dist/release/version.js');

  /** 50 files of 4 MB of compressible text, each a little different (made once, shared by the tests below). */
  let big: string | undefined;
  const bigFolder = (): string => {
    if (big !== undefined) return big;
    const dir = tmp();
    const base = Buffer.from(
      Array.from({ length: 110_000 }, (_, i) => `line ${i} of a large bundle file ${(i * 40503) % 65521}\n`).join(''),
    ).subarray(0, 4_000_000);
    for (let f = 0; f < 50; f++) {
      mkdirSync(join(dir, `d${f % 4}`), { recursive: true });
      base.write(`file ${f}`, (f * 7919) % 1000);
      writeFileSync(join(dir, `d${f % 4}`, `f${f}.txt`), base);
    }
    return (big = dir);
  };
  let bigArchive: string | undefined;

  test('a child with a 48 MiB heap streams a 200 MB folder; its resident peak stays under half the tar', () => {
    if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build first`);
    const dir = bigFolder();
    const archive = join(tmp(), 'big-1.0.tar.gz');
    bigArchive = archive;
    const child = `${PEAK_RSS_SNIPPET}
      const { buildArchiveRelease } = require(${JSON.stringify(built)});
      const { checkReleaseVersion } = require(${JSON.stringify(version)});
      const baseline = peakRssKiB();
      buildArchiveRelease({ app: 'big', version: checkReleaseVersion('1.0'), dir: ${JSON.stringify(dir)}, releaseTime: 1700000000,
        archivePath: ${JSON.stringify(archive)}, threads: 2 })
        .then((r) => process.stdout.write(JSON.stringify({ baseline, peak: peakRssKiB(), tar: r.tar })),
              (e) => { console.error(e); process.exit(1); });`;
    const out = JSON.parse(
      execFileSync(process.execPath, ['--max-old-space-size=48', '-e', child], { encoding: 'utf8' }),
    ) as { baseline: number; peak: number; tar: { sha256: string; size: number } };
    const MiB = 1024 * 1024;
    expect(out.tar.size).toBeGreaterThan(3 * 48 * MiB); // the folder is several times the heap cap
    // What the build added to the process: far below the tar (an in-memory build holds tar + archive).
    expect((out.peak - out.baseline) * 1024).toBeLessThan(out.tar.size / 2);
    expect(out.peak * 1024).toBeLessThan(200 * MiB);
    // And the archive is right: gzip expands it to the tar that was hashed.
    expect(run('sh', ['-c', 'gzip -dc "$0" | sha256sum', archive]).toString('utf8').split(' ')[0]).toBe(out.tar.sha256);
  });

  test('a child with a 48 MiB heap verifies a 200 MB release from its file and folder: found identical, then a changed file found; resident peak under half the tar', async () => {
    if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build first`);
    const dir = bigFolder();
    let archive = bigArchive;
    if (archive === undefined || !existsSync(archive)) {
      archive = join(tmp(), 'big-1.0.tar.gz');
      await buildArchiveRelease({
        app: 'big',
        version: checkReleaseVersion('1.0'),
        dir,
        releaseTime: 1_700_000_000,
        archivePath: archive,
        threads: 2,
      });
    }
    const changed = join(dir, 'd1', 'f5.txt');
    const child = `${PEAK_RSS_SNIPPET}
      const { verifyRelease } = require(${JSON.stringify(built)});
      const fs = require('node:fs');
      const baseline = peakRssKiB();
      (async () => {
        const same = await verifyRelease({ dir: ${JSON.stringify(dir)}, archivePath: ${JSON.stringify(archive)}, threads: 2 });
        const fd = fs.openSync(${JSON.stringify(changed)}, 'r+');
        fs.writeSync(fd, Buffer.from('#'), 0, 1, 2_000_000);
        fs.closeSync(fd);
        const other = await verifyRelease({ dir: ${JSON.stringify(dir)}, archivePath: ${JSON.stringify(archive)}, threads: 2 });
        process.stdout.write(JSON.stringify({ baseline, peak: peakRssKiB(), same, other }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const out = JSON.parse(
      execFileSync(process.execPath, ['--max-old-space-size=48', '-e', child], { encoding: 'utf8' }),
    ) as { baseline: number; peak: number; same: VerifyReleaseResult; other: VerifyReleaseResult };
    const MiB = 1024 * 1024;
    expect(out.same.rebuilt.tarSize).toBeGreaterThan(3 * 48 * MiB); // several times the heap cap
    expect(out.same).toMatchObject({ identical: true, tarIdentical: true, differences: [] });
    expect(out.same.published.sha256).toBe(sha256sum(readFileSync(archive)));
    expect(out.other).toMatchObject({ identical: false, tarIdentical: false });
    expect(out.other.differences).toEqual([{ path: 'd1/f5.txt', what: 'content' }]);
    // Neither archive nor tar is held: what verifying added is far below the tar (holding both tars: 2×).
    expect((out.peak - out.baseline) * 1024).toBeLessThan(out.same.rebuilt.tarSize / 2);
    expect(out.peak * 1024).toBeLessThan(200 * MiB);
  });
});
