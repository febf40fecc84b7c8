/**
 * One stored copy per target (ADR 0017): every further name for the same bytes is a hard link, made
 * atomically; a filesystem that will not link (another device) gets a copy instead.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { linkFileAtomic } from '../../../src/io/fs';
import { WriteOnce } from '../../../src/io/write-once';
import { tempDir } from '../../helpers/tmp';

const base = tempDir();

describe('WriteOnce', () => {
  it('stores one copy for every name given the same bytes, and a second for bytes given separately', () => {
    const data = Buffer.alloc(100_000, 3);
    const once = new WriteOnce();
    expect(once.write(join(base, 't', 'aa.app.bin'), data)).toBe('written');
    expect(once.write(join(base, 't', 'bb.app.bin'), data)).toBe('linked');
    const a = statSync(join(base, 't', 'aa.app.bin'));
    const b = statSync(join(base, 't', 'bb.app.bin'));
    expect(b.ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
    // equal bytes in another buffer are a different file: identity, not content, decides
    expect(once.write(join(base, 't', 'cc.other.bin'), Buffer.from(data))).toBe('written');
    expect(statSync(join(base, 't', 'cc.other.bin')).ino).not.toBe(a.ino);
    // strings (metadata) are never linked
    expect(once.write(join(base, 'm1.json'), '{}')).toBe('written');
    expect(once.write(join(base, 'm2.json'), '{}')).toBe('written');
    expect(statSync(join(base, 'm2.json')).nlink).toBe(1);
  });

  it('never links a file to one written with another mode', () => {
    const data = Buffer.from('secret-ish');
    const once = new WriteOnce();
    once.write(join(base, 'k', 'a'), data, 0o600);
    expect(once.write(join(base, 'k', 'b'), data, 0o644)).toBe('written');
    expect(statSync(join(base, 'k', 'b')).nlink).toBe(1);
  });

  it('replacing one name later leaves the other name and its bytes alone (writes rename, never edit in place)', () => {
    const data = Buffer.from('v1');
    const once = new WriteOnce();
    once.write(join(base, 'r', 'x'), data);
    once.write(join(base, 'r', 'y'), data);
    new WriteOnce().write(join(base, 'r', 'x'), Buffer.from('v2'));
    expect(readFileSync(join(base, 'r', 'y'), 'utf8')).toBe('v1');
    expect(readFileSync(join(base, 'r', 'x'), 'utf8')).toBe('v2');
  });
});

describe('linkFileAtomic', () => {
  it('replaces an existing file at the new name and leaves no temp file', () => {
    writeFileSync(join(base, 'src.bin'), 'A');
    writeFileSync(join(base, 'dst.bin'), 'B');
    expect(linkFileAtomic(join(base, 'src.bin'), join(base, 'dst.bin'))).toBe(true);
    expect(readFileSync(join(base, 'dst.bin'), 'utf8')).toBe('A');
    expect(statSync(join(base, 'src.bin')).nlink).toBe(2);
  });

  it('returns false across filesystems (the caller writes a copy)', () => {
    const shm = mkdtempSync('/dev/shm/tufsign-link-');
    try {
      writeFileSync(join(base, 'cross.bin'), 'A');
      expect(linkFileAtomic(join(base, 'cross.bin'), join(shm, 'cross.bin'))).toBe(false);
      const once = new WriteOnce();
      const data = Buffer.from('copied');
      once.write(join(base, 'first.bin'), data);
      expect(once.write(join(shm, 'second.bin'), data)).toBe('written');
      expect(readFileSync(join(shm, 'second.bin'), 'utf8')).toBe('copied');
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });

  it('fails with IO_ERROR when the existing file is missing', () => {
    expect(() => linkFileAtomic(join(base, 'nope'), join(base, 'n2'))).toThrow(
      expect.objectContaining({ code: 'IO_ERROR' }),
    );
  });
});
