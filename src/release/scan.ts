/**
 * Bundle-folder intake (BAD-40 … BAD-47; the name rules live in src/tuf/paths.ts). Every entry is checked with
 * `lstat`, so symlinks of any kind are seen as symlinks, never followed; hard
 * links, devices, FIFOs and sockets are refused; names must be valid UTF-8,
 * NFC, free of control characters and backslashes, and must not collide after
 * case folding or Unicode normalisation with another name in the bundle.
 *
 * Each file is then read exactly once, straight into its place in the tar
 * buffer; hashes, archive and patch input all come from those bytes (BAD-46).
 */
import {
  closeFile,
  listRawNames,
  lstatPath,
  openNoFollow,
  readAt,
  statOpen,
  statPath,
  type Stats,
} from '../io/folder-read';
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { checkMemberName, checkNoCollisions } from '../tuf/paths';
import type { TarMember } from './tar';
import type { ProgressCallback } from './progress';

export interface ScannedMember extends TarMember {
  /** Identity at scan time, compared again when the file is opened. */
  dev: number;
  ino: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file or directory';
}

/**
 * List the bundle in the order CPython's `tarfile.add` visits it: the root,
 * then each directory's entries sorted by code point, depth first.
 */
export function scanBundle(dir: string, onProgress?: ProgressCallback): ScannedMember[] {
  let top: Stats;
  try {
    top = statPath(dir);
  } catch (cause) {
    throw new TufsignError(
      'RELEASE_INVALID',
      `bundle folder ${dir} cannot be read: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`,
      { file: dir, cause },
    );
  }
  if (!top.isDirectory())
    throw new TufsignError('RELEASE_INVALID', `${dir} is not a folder`, {
      file: dir,
      suggestion: 'pass the folder that holds the built application',
    });
  const out: ScannedMember[] = [{ path: '', type: 'dir', mode: 0o755, size: 0, dev: top.dev, ino: top.ino }];

  const walk = (abs: string, rel: string): void => {
    let raw: Buffer[];
    try {
      raw = listRawNames(abs);
    } catch (cause) {
      throw new TufsignError(
        'IO_ERROR',
        `cannot list ${abs}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`,
        { file: abs, cause },
      );
    }
    const names = raw.map((b) => {
      try {
        return utf8.decode(b);
      } catch {
        throw new TufsignError(
          'PATH_UNSAFE',
          `bundle entry in ${JSON.stringify(rel || '.')} has a name that is not valid UTF-8`,
          { path: rel, rule: 'BAD-43 UTF-8 names' },
        );
      }
    });
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    // JS compares UTF-16 units; CPython compares code points. Re-sort where they can differ.
    if (names.some((n) => /[\ud800-\udfff]/.test(n))) names.sort(compareCodePoints);
    for (const name of names) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      checkMemberName(name, childRel);
      const childAbs = join(abs, name);
      const st = lstatPath(childAbs);
      if (st.isDirectory()) {
        out.push({ path: childRel, type: 'dir', mode: 0o755, size: 0, dev: st.dev, ino: st.ino });
        walk(childAbs, childRel);
      } else if (st.isFile()) {
        if (st.nlink > 1) {
          throw new TufsignError(
            'RELEASE_FILE_TYPE',
            `bundle entry ${JSON.stringify(childRel)} is a hard link (${st.nlink} names)`,
            {
              path: childRel,
              rule: 'BAD-47 no hard links',
              suggestion: 'copy the file instead of linking it',
            },
          );
        }
        out.push({
          path: childRel,
          type: 'file',
          mode: st.mode & 0o111 ? 0o755 : 0o644,
          size: st.size,
          dev: st.dev,
          ino: st.ino,
        });
      } else {
        throw new TufsignError('RELEASE_FILE_TYPE', `bundle entry ${JSON.stringify(childRel)} is ${kindOf(st)}`, {
          path: childRel,
          rule: 'BAD-47 regular files and folders only',
          suggestion: st.isSymbolicLink()
            ? 'replace the symlink with the file it points to'
            : 'remove it from the bundle',
        });
      }
      onProgress?.({ stage: 'scan', done: out.length, total: 0 });
    }
  };
  walk(dir, '');
  checkNoCollisions(
    out.filter((m) => m.path !== '').map((m) => m.path),
    'bundle entries',
  );
  return out;
}

function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/**
 * Read each scanned file once into `buf` at its offset. The file is opened
 * without following symlinks and must still be the same inode with the same
 * size, and must end where the scan said it would (BAD-46).
 */
export function readBundleFiles(
  dir: string,
  members: readonly ScannedMember[],
  offsets: readonly number[],
  buf: Buffer,
  onProgress?: ProgressCallback,
): void {
  const total = members.reduce((s, m) => s + m.size, 0);
  let done = 0;
  let files = 0;
  members.forEach((m, i) => {
    if (m.type !== 'file') return;
    const at = offsets[i]!;
    const file = openScannedFile(dir, m);
    try {
      for (let got = 0; got < m.size;) got += file.read(buf, at + got, m.size - got);
      file.checkEnded();
    } finally {
      file.close();
    }
    done += m.size;
    files += 1;
    onProgress?.({ stage: 'read', done, total, files });
  });
}

/** A scanned file opened for reading; the caller reads `size` bytes, calls `checkEnded`, then `close`. */
export interface OpenedFile {
  fd: number;
  /** Read up to `n` bytes into buf[at…]; the file may not end before the scanned size (BAD-46). */
  read: (buf: Uint8Array, at: number, n: number) => number;
  /** The error for a file that changed since the scan (BAD-46). */
  changed: (why: string) => TufsignError;
  /** The file must end where the scan said it would. */
  checkEnded: () => void;
  close: () => void;
}

/**
 * Open one scanned file without following symlinks; it must still be the
 * same inode with the same size (BAD-46).
 */
export function openScannedFile(dir: string, m: ScannedMember): OpenedFile {
  const abs = join(dir, m.path);
  const changed = (why: string): TufsignError =>
    new TufsignError('RELEASE_FILE_CHANGED', `bundle file ${JSON.stringify(m.path)} ${why} while it was being read`, {
      path: m.path,
      rule: 'BAD-46 the bundle must not change during add-release',
      suggestion: 'wait for the build to finish, then run add-release again',
    });
  let fd: number;
  try {
    fd = openNoFollow(abs);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOENT') throw changed(code === 'ELOOP' ? 'became a symlink' : 'disappeared');
    throw new TufsignError('IO_ERROR', `cannot read ${abs}: ${code ?? String(cause)}`, { file: abs, cause });
  }
  try {
    const st = statOpen(fd);
    if (!st.isFile() || st.ino !== m.ino || st.dev !== m.dev || st.nlink > 1) throw changed('was replaced');
    if (st.size !== m.size) throw changed('changed size');
  } catch (e) {
    closeFile(fd);
    throw e;
  }
  const checkEnded = (): void => {
    if (readAt(fd, Buffer.alloc(1), 0, 1) !== 0) throw changed('grew');
  };
  const read = (buf: Uint8Array, at: number, n: number): number => {
    const got = readAt(fd, buf, at, n);
    if (got === 0 && n > 0) throw changed('shrank');
    return got;
  };
  return { fd, read, changed, checkEnded, close: () => closeFile(fd) };
}
