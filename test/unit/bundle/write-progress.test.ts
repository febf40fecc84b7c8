/**
 * The `bundle` progress stage counts what writeBundle really puts in the bundle: every file, linked or written,
 * and their bytes, one file at a time; the last report is the whole bundle, in either form.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
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
    // a workspace target: on disk, by length and sha256 (linked into a folder, never held)
    {
      path: 'targets/app.bin',
      source,
      length: 300_000,
      sha256: createHash('sha256').update(Buffer.alloc(300_000, 7)).digest('hex'),
    },
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

  it('a tarball refuses a target file that changed after it was hashed, and writes nothing', () => {
    const changed = join(base, 'changed.bin');
    writeFileSync(changed, Buffer.alloc(300_000, 8));
    const stale = entries.map((e) => ('source' in e ? { ...e, source: changed } : e));
    const out = join(base, 'stale.tar.gz');
    let code: string | undefined;
    try {
      writeBundle(out, stale);
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    expect(code).toBe('IO_ERROR');
    expect(existsSync(out)).toBe(false);
  });
});
