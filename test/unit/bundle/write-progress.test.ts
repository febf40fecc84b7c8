/**
 * The `bundle` progress stage counts what writeBundle really puts in the bundle: every file, linked or written,
 * and their bytes, one file at a time; the last report is the whole bundle, in either form.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeBundle } from '../../../src/bundle';
import type { Progress } from '../../../src/release';
import { tempDir } from '../../helpers/tmp';

const base = tempDir('tufsign-bundle-progress-');

describe('writeBundle progress', () => {
  const source = join(base, 'stored.bin');
  writeFileSync(source, Buffer.alloc(300_000, 7));
  const entries = [
    { path: 'BUNDLE.json', data: Buffer.from('{}') },
    { path: 'metadata/timestamp.json', data: Buffer.alloc(500, 1) },
    { path: 'targets/app.bin', data: Buffer.alloc(300_000, 7), source },
  ];
  const total = 2 + 500 + 300_000;

  it('a folder: one report per file, files and bytes growing to the whole bundle', () => {
    const seen: Progress[] = [];
    writeBundle(join(base, 'folder'), entries, (p) => seen.push({ ...p }));
    expect(seen.every((p) => p.stage === 'bundle' && p.total === total)).toBe(true);
    expect(seen.map((p) => [p.files, p.done])).toEqual([
      [0, 0],
      [1, 2],
      [2, 502],
      [3, total],
    ]);
    expect(statSync(join(base, 'folder', 'targets', 'app.bin')).ino).toBe(statSync(source).ino);
    expect(readdirSync(join(base, 'folder')).sort()).toEqual(['BUNDLE.json', 'metadata', 'targets']);
  });

  it('a tarball: the start, then the whole bundle once it is written', () => {
    const seen: Progress[] = [];
    writeBundle(join(base, 'b.tar.gz'), entries, (p) => seen.push({ ...p }));
    expect(seen.map((p) => [p.files, p.done, p.total])).toEqual([
      [0, 0, total],
      [3, total, total],
    ]);
  });
});
