/** Repository sources for `verify`: a workspace or bundle folder on disk. */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TufsignError } from '../errors';
import { fileExists, MAX_METADATA_BYTES, readFileBounded } from '../io/fs';
import { isPlainRelativePath } from '../tuf/paths';
import type { RepositorySource } from './verify';

const describeIn = (dir: string) => (path: string) => relative(process.cwd(), join(dir, path)) || path;

export function directorySource(dir: string, maxBytes = 4 * 1024 * 1024 * 1024): RepositorySource {
  return {
    read(path) {
      if (!isPlainRelativePath(path)) return undefined;
      const full = join(dir, path);
      if (!fileExists(full)) return undefined;
      return readFileBounded(full, path.startsWith('metadata/') ? MAX_METADATA_BYTES : maxBytes);
    },
    describe: describeIn(dir),
  };
}

/** What a file in a bundle folder is when it is not a regular file. */
export function nonRegularKind(st: { isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isDirectory(): boolean }): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/**
 * Read one regular file of a bundle: never through a symlink, never a FIFO or
 * device (opened O_NOFOLLOW|O_NONBLOCK after an lstat, then fstat-checked),
 * and never more than `cap` bytes — the length the bundle manifest declares.
 */
export function readRegularFile(full: string, cap: number, shown = full): Buffer | undefined {
  let st;
  try {
    st = lstatSync(full);
  } catch {
    return undefined;
  }
  const refuse = (kind: string): never => {
    throw new TufsignError('BUNDLE_INVALID', `${shown} is ${kind}`, { file: full, rule: 'BAD-47 a bundle holds regular files only' });
  };
  if (!st.isFile()) refuse(nonRegularKind(st));
  if (st.size > cap) throw new TufsignError('FILE_TOO_LARGE', `${shown} is ${st.size} bytes, over the ${cap} bytes the manifest declares`, { file: full, rule: 'BAD-51 reads capped by the manifest' });
  let fd: number | undefined;
  try {
    fd = openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const now = fstatSync(fd);
    if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) refuse('replaced while being read');
    const buf = Buffer.alloc(Math.min(now.size, cap) + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > cap) throw new TufsignError('FILE_TOO_LARGE', `${shown} grew past the ${cap} bytes the manifest declares`, { file: full, rule: 'BAD-51 reads capped by the manifest' });
      if (got === buf.length) break;
    }
    return buf.subarray(0, got);
  } catch (cause) {
    if (cause instanceof TufsignError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') refuse('a symlink');
    throw new TufsignError('IO_ERROR', `cannot read ${shown}: ${code ?? (cause as Error).message}`, { file: full, cause });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A bundle folder as a repository source: regular files only, each read with
 * the cap its manifest entry declares; files the manifest does not list are
 * not read at all (the manifest check reports them).
 */
export function bundleSource(dir: string, declaredLengths: ReadonlyMap<string, number>): RepositorySource {
  return {
    read(path) {
      const cap = declaredLengths.get(path);
      if (cap === undefined || !isPlainRelativePath(path)) return undefined;
      return readRegularFile(join(dir, path), cap, describeIn(dir)(path));
    },
    describe: describeIn(dir),
  };
}
