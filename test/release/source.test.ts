/**
 * FileSource (src/release/source.ts) reads small views that walk forward through a scratch tar from a read-ahead
 * window instead of one positional read each. Whatever the access pattern — forward, backward, random, straddling
 * or running past the window, at the file's end — every view must hold exactly the file's bytes, and a view past
 * the end must still fail as before.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileSource, READ_AHEAD } from '../../src/release/source';
import { tarRegions } from '../../src/release/tar';
import { buildTar } from '../../src/release/build';
import { expectCode, makeBundle, scratch } from './helpers';

const tmp = scratch();

describe('FileSource read-ahead', () => {
  const size = 3 * READ_AHEAD + 12_345;
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24;
  const path = join(tmp(), 'scratch.tar');
  writeFileSync(path, bytes);

  test('every view holds the file bytes, for forward, backward, random and end-of-file patterns', () => {
    const src = new FileSource(path);
    try {
      const views: [number, number][] = [];
      for (let at = 0; at + 600 <= size; at += 1_000 + (at % 7)) views.push([at, 600]); // forward walk
      views.push([READ_AHEAD - 10, 40], [READ_AHEAD + 30, 20]); // across a window's end
      views.push([size - 32, 32], [size - 1, 1], [0, 32], [size - READ_AHEAD / 4, READ_AHEAD / 4]); // ends
      views.push([5, READ_AHEAD], [7, READ_AHEAD / 4 + 1], [100, 0]); // larger than a read-ahead view, empty
      let seed = 7;
      for (let k = 0; k < 2_000; k++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const len = seed % 3 === 0 ? 512 : seed % 2_000;
        views.push([seed % (size - len), len]); // random
        if (k % 3 === 0) views.push([Math.min(size - len, (seed % (size - len)) + len + (seed % 700)), len]); // near forward
      }
      const scratchBuf = new Uint8Array(READ_AHEAD);
      for (const [at, len] of views) {
        const got = src.view(at, len, scratchBuf);
        expect(got.length).toBe(len);
        if (Buffer.compare(got, bytes.subarray(at, at + len)) !== 0) throw new Error(`view ${at}+${len} differs`);
      }
    } finally {
      src.close();
    }
  });

  test('a view past the end fails with IO_ERROR, also right after a window was read', () => {
    const src = new FileSource(path);
    try {
      const s = new Uint8Array(1024);
      src.view(size - 3_000, 100, s);
      src.view(size - 2_800, 100, s); // forward: a window up to the end
      expectCode(() => src.view(size - 50, 100, s), 'IO_ERROR');
      expectCode(() => src.view(size + 10, 1, s), 'IO_ERROR');
    } finally {
      src.close();
    }
  });

  test('tarRegions of a tar in a file equal those of the same tar in memory', () => {
    const { tar } = buildTar(makeBundle(tmp()), 1_700_000_000);
    const file = join(tmp(), 'bundle.tar');
    writeFileSync(file, tar);
    const src = new FileSource(file);
    try {
      const regions = tarRegions(src);
      expect(regions).toBeDefined();
      expect(regions!.length).toBeGreaterThan(5);
      expect(regions).toEqual(tarRegions(tar));
    } finally {
      src.close();
    }
  });
});
