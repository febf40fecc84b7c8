/**
 * The `bundle` progress stage counts what writeBundle really puts in the bundle: every file, linked or written,
 * and their bytes, one file at a time; the last report is the whole bundle, in either form.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { deterministicTarGz, writeBundle } from '../../../src/bundle';
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

  it('a folder: one report per file, files and bytes growing to the whole bundle', async () => {
    const seen: Progress[] = [];
    await writeBundle(join(base, 'folder'), entries, (p) => seen.push({ ...p }));
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

  it('a tarball (streamed): one report per file as it is compressed, to the whole bundle; the same bytes as in memory', async () => {
    const seen: Progress[] = [];
    const out = join(base, 'b.tar.gz');
    await writeBundle(out, entries, (p) => seen.push({ ...p }));
    // in tar order (sorted by path)
    expect(seen.map((p) => [p.files, p.done, p.total])).toEqual([
      [0, 0, total],
      [1, 2, total],
      [2, 502, total],
      [3, total, total],
    ]);
    expect(readFileSync(out).equals(deterministicTarGz(entries))).toBe(true);
  });

  it('a tarball refuses a target file that changed after it was hashed, and writes nothing', async () => {
    const changed = join(base, 'changed.bin');
    writeFileSync(changed, Buffer.alloc(300_000, 8));
    const stale = entries.map((e) => ('source' in e ? { ...e, source: changed } : e));
    const out = join(base, 'stale.tar.gz');
    let code: string | undefined;
    try {
      await writeBundle(out, stale);
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    expect(code).toBe('IO_ERROR');
    expect(existsSync(out)).toBe(false);
  });
});

describe('a bundle tarball streamed to its file', () => {
  it('has the bytes of the in-memory tarball: files on disk of several MiB, long names, unsorted input', async () => {
    const big = join(base, 'big.bin');
    // compressible and incompressible stretches, longer than zlib's window and the 1 MiB read pieces
    const data = Buffer.concat([randomBytes(1_500_000), Buffer.alloc(2_000_000, 3), randomBytes(777_777)]);
    writeFileSync(big, data);
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const entries = [
      { path: `targets/${'n'.repeat(140)}.tar.gz`, source: big, length: data.length, sha256: sha(data) },
      { path: 'BUNDLE.json', data: Buffer.from('{"x":1}') },
      { path: 'targets/empty', data: Buffer.alloc(0) },
      { path: 'metadata/1.root.json', data: randomBytes(513) },
    ];
    const out = join(base, 'streamed.tar.gz');
    await writeBundle(out, entries);
    expect(readFileSync(out).equals(deterministicTarGz(entries))).toBe(true);
  });
});
