import { randomBytes } from 'node:crypto';
import { bsdiff } from '../../src/release/bsdiff';
import { bzip2 } from '../../src/release/bzip2';
import { sortRotations, suffixArray } from '../../src/release/sais';
import { buildRelease, buildTar } from '../../src/release/build';
import { checkReleaseVersion, parseVersion } from '../../src/release/version';
import { tarRegions } from '../../src/release/tar';
import { applyBoth, debianBsdiffSize, makeBundle, run, scratch, sha256sum } from './helpers';

const tmp = scratch();

describe('suffix array (SA-IS)', () => {
  test('matches a naive sort on small random inputs', () => {
    for (let iter = 0; iter < 300; iter++) {
      const n = Math.floor(Math.random() * 50);
      const k = 1 + Math.floor(Math.random() * 4);
      const s = Uint8Array.from({ length: n }, () => Math.floor(Math.random() * k) * 60);
      const naive = [...Array(n).keys()].sort((a, b) =>
        Buffer.compare(Buffer.from(s.subarray(a)), Buffer.from(s.subarray(b))),
      );
      expect(Array.from(suffixArray(s))).toEqual(naive);
    }
  });
});

describe('rotation sort (bzip2 BWT)', () => {
  test('matches a naive sort of rotations, for primitive and repeated blocks', () => {
    for (let iter = 0; iter < 600; iter++) {
      const n = 1 + Math.floor(Math.random() * 40);
      const k = 1 + Math.floor(Math.random() * 3);
      let s = Uint8Array.from({ length: n }, () => Math.floor(Math.random() * k));
      if (iter % 5 === 0) {
        const u = s.subarray(0, Math.max(1, n >> 2));
        s = Uint8Array.from({ length: u.length * 3 }, (_, i) => u[i % u.length]!);
      }
      const m = s.length;
      const rot = (i: number): string => Buffer.from([...s.subarray(i), ...s.subarray(0, i)]).toString('hex');
      const naive = [...Array(m).keys()].map(rot).sort();
      const out = new Int32Array(m);
      sortRotations(s, m, new Uint8Array(2 * m), new Int32Array(2 * m), out);
      expect(Array.from(out).map(rot)).toEqual(naive);
    }
  });
});

describe('bzip2 encoder', () => {
  test.each([
    ['empty', new Uint8Array(0)],
    ['one byte', Buffer.from('a')],
    ['runs of exactly four', Buffer.from('aaaab'.repeat(3000))],
    ['long zero run', new Uint8Array(2_000_000)],
    ['random (several blocks)', randomBytes(1_000_000)],
    ['text', Buffer.from('the quick brown fox jumps over the lazy dog. '.repeat(30000))],
  ])('%s decodes with bzip2 -d to the input', (_n, data) => {
    const z = bzip2(data);
    expect(sha256sum(run('bzip2', ['-dc'], z))).toBe(sha256sum(data));
  });
});

describe('BSDIFF40 patches', () => {
  test('release tar → patch → Debian bspatch and Python give the new tar (sha256 == tar_hash)', async () => {
    const v1 = makeBundle(tmp(), 'v1');
    const v2 = makeBundle(tmp(), 'v3');
    const r1 = await buildRelease({
      app: 'example_app',
      version: checkReleaseVersion('1.0'),
      dir: v1,
      releaseTime: 1_700_000_000,
    });
    const r2 = await buildRelease({
      app: 'example_app',
      version: checkReleaseVersion('2.0'),
      dir: v2,
      releaseTime: 1_700_000_100,
      previous: { version: parseVersion('1.0'), archiveBytes: r1.archive.bytes, targetFile: r1.archive.targetFile },
    });
    const patch = r2.patch!;
    expect(patch.name).toBe('example_app-2.0.patch');
    expect(patch.bytes.subarray(0, 8).toString('latin1')).toBe('BSDIFF40');
    expect(JSON.parse(JSON.stringify(patch.targetFile.custom))).toEqual({
      user: null,
      tufup: { tar_hash: r2.tar.sha256, tar_hash_algorithm: 'sha256', tar_size: r2.tar.size },
    });
    expect(patch.bytes.length).toBeLessThan(r2.archive.bytes.length * 0.8);
    const [deb, py] = applyBoth(r1.tar.bytes, patch.bytes, tmp());
    expect(sha256sum(deb)).toBe(r2.tar.sha256);
    expect(sha256sum(py)).toBe(r2.tar.sha256);
  });

  test('tar-aware and whole-file patches both apply, and stay close to Debian bsdiff in size', async () => {
    const { tar: old } = buildTar(makeBundle(tmp(), 'v1'), 1);
    const { tar: nw } = buildTar(makeBundle(tmp(), 'v3'), 2);
    const refSize = debianBsdiffSize(old, nw, tmp());
    for (const regions of [false, true]) {
      const { patch } = await bsdiff(
        old,
        nw,
        regions ? { oldRegions: tarRegions(old), newRegions: tarRegions(nw) } : {},
      );
      const [deb, py] = applyBoth(old, patch, tmp());
      expect(Buffer.compare(deb, nw)).toBe(0);
      expect(Buffer.compare(py, nw)).toBe(0);
      expect(patch.length).toBeLessThan(refSize * 1.05 + 200);
    }
  });

  test('random edits round-trip (inserts, deletes, shifts, empty files)', async () => {
    const cases: [Uint8Array, Uint8Array][] = [
      [new Uint8Array(0), new Uint8Array(0)],
      [new Uint8Array(0), randomBytes(1000)],
      [randomBytes(1000), new Uint8Array(0)],
    ];
    for (let i = 0; i < 6; i++) {
      const old = randomBytes(20_000 + i * 5000);
      const parts = [
        old.subarray(0, 5000),
        randomBytes(300),
        old.subarray(5100, 15000),
        Buffer.alloc(2000),
        old.subarray(15000),
      ];
      const nw = Buffer.concat(parts);
      nw[100 + i]! ^= 0xff;
      cases.push([old, nw]);
    }
    for (const [old, nw] of cases) {
      const { patch } = await bsdiff(old, nw);
      const [deb, py] = applyBoth(old, patch, tmp());
      expect(sha256sum(deb)).toBe(sha256sum(nw));
      expect(sha256sum(py)).toBe(sha256sum(nw));
    }
  });
});
