/**
 * The guided flow's search for request files on removable media (`cli/ceremony.ts findRequestFiles`), now through
 * `src/io`: hidden entries skipped, folders followed a few levels deep (through symlinks), unreadable or dangling
 * entries passed over without failing the search.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRequestFiles } from '../../../src/cli/ceremony';

describe('findRequestFiles', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'tufsign-find-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  const touch = (rel: string): string => {
    const full = join(tmp, rel);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, '{}');
    return full;
  };

  it('finds requests up to the depth limit, skipping hidden entries and dangling links', () => {
    const top = touch('stick/root-v2.tufsign-request.json');
    const nested = touch('stick/a/b/c/targets-v3.tufsign-request.json'); // depth 3: found
    touch('stick/a/b/c/d/too-deep.tufsign-request.json'); // depth 4: not visited
    touch('stick/.hidden/x.tufsign-request.json');
    touch('stick/.y.tufsign-request.json');
    touch('stick/notes.json');
    symlinkSync(join(tmp, 'nowhere'), join(tmp, 'stick/dangling.tufsign-request.json'));
    const other = touch('elsewhere/z.tufsign-request.json');
    symlinkSync(join(tmp, 'elsewhere'), join(tmp, 'stick/link'));
    const found = findRequestFiles([join(tmp, 'stick'), join(tmp, 'missing-folder')]);
    expect(found.sort()).toEqual([top, nested, join(tmp, 'stick/link/z.tufsign-request.json')].sort());
    expect(found).not.toContain(other);
  });

  it('a folder that does not exist or is a file gives nothing', () => {
    const f = touch('file.tufsign-request.json');
    expect(findRequestFiles([join(tmp, 'absent'), f])).toEqual([]);
  });
});
