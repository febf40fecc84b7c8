/** Filesystem edge: atomic writes (temp + fsync + rename + dir fsync) and bounded reads. */
import {
  closeSync,
  constants,
  createReadStream,
  fsyncSync,
  openSync,
  readFileSync,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
  mkdirSync,
  fstatSync,
  lstatSync,
  linkSync,
  mkdtempSync,
  type Dirent,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { dirname, basename, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { TufsignError, type ErrorCode } from '../errors';

/** Default cap for metadata and other JSON inputs (BAD-08). */
export const MAX_METADATA_BYTES = 16 * 1024 * 1024;

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Write `data` to `path` atomically: a crash leaves either the old file or the
 * complete new one, never a partial file. The temp file is created with the
 * final mode (O_EXCL), so a key file is never readable by others, not even briefly.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = dirname(path);
  // Directories holding private keys are 0700 (BAD-62).
  mkdirSync(dir, { recursive: true, mode: (mode & 0o077) === 0 ? 0o700 : 0o755 });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    fsyncDir(dir);
  } catch (cause) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw new TufsignError('IO_ERROR', `could not write ${path}: ${(cause as Error).message}`, { file: path, cause });
  }
}

/**
 * Remove the temp files a killed `writeFileAtomic(path)` may have left: exactly `.NAME.HEX.tmp` beside `path`
 * (NAME its file name, HEX the 12 hex digits the write picks), regular files only, never anything else. Call it
 * only where no other run can be writing `path` (under the lock that guards it). Returns how many were removed.
 */
export function removeAtomicWriteLeftovers(path: string): number {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let removed = 0;
  for (const n of listNames(dir)) {
    if (!n.startsWith(prefix) || !/^[0-9a-f]{12}\.tmp$/.test(n.slice(prefix.length))) continue;
    const full = join(dir, n);
    if (pathKind(full) !== 'file') continue;
    try {
      unlinkSync(full);
      removed++;
    } catch {
      // gone already
    }
  }
  return removed;
}

/**
 * Give `existing` a second name `path`, atomically (a hard link made under a temp name, then renamed over
 * `path`): one stored copy, two names. Returns false when the filesystem will not link (another device,
 * no hard links, too many links) so the caller can write a copy instead; any other failure is an IO_ERROR.
 */
export function linkFileAtomic(existing: string, path: string): boolean {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    linkSync(existing, tmp);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? '';
    if (['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'].includes(code)) return false;
    throw new TufsignError('IO_ERROR', `could not link ${path} to ${existing}: ${(cause as Error).message}`, {
      file: path,
      cause,
    });
  }
  try {
    renameSync(tmp, path);
    fsyncDir(dir);
  } catch (cause) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw new TufsignError('IO_ERROR', `could not write ${path}: ${(cause as Error).message}`, { file: path, cause });
  }
  return true;
}

/** BAD-08: `path` is over the `max`-byte limit (`size` undefined: it grew past it while being read). */
export function fileTooLarge(path: string, max: number, size?: number): TufsignError {
  return new TufsignError(
    'FILE_TOO_LARGE',
    size === undefined
      ? `${path} grew past the ${max}-byte limit`
      : `${path} is ${size} bytes, over the ${max}-byte limit`,
    { file: path, rule: 'BAD-08 bounded inputs' },
  );
}

/** What reading a file a user named failed with: a TufsignError as it is, a missing file TARGET_NOT_FOUND, else IO_ERROR. */
export function fileReadFault(path: string, cause: unknown): TufsignError {
  if (cause instanceof TufsignError) return cause;
  const code = (cause as NodeJS.ErrnoException).code;
  return new TufsignError(
    code === 'ENOENT' ? 'TARGET_NOT_FOUND' : 'IO_ERROR',
    `cannot read ${path}: ${code ?? (cause as Error).message}`,
    { file: path, cause },
  );
}

/** Read a file, refusing anything larger than `max` bytes before reading it (BAD-08). */
export function readFileBounded(path: string, max = MAX_METADATA_BYTES): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY);
    const size = fstatSync(fd).size;
    if (size > max) throw fileTooLarge(path, max, size);
    return readFileSync(fd);
  } catch (cause) {
    throw fileReadFault(path, cause);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A small text file a user named (a PEM certificate); a missing file is the operating system's error (IO_ERROR). */
export function readTextFile(path: string): string {
  return readFileSync(path, 'utf8');
}

/** All of standard input as text, refusing more than `max` bytes (BAD-08). */
export function readStdinText(max: number): string {
  const data = readFileSync(0);
  if (data.length > max)
    throw new TufsignError('FILE_TOO_LARGE', `standard input is ${data.length} bytes, over the ${max}-byte limit`, {
      file: 'stdin',
      rule: 'BAD-08 bounded inputs',
    });
  return data.toString('utf8');
}

/**
 * What is at `path`: without following a symlink (a link is 'other'), or through links with `followLinks` (a link
 * to a folder is a folder). 'missing' when it cannot be stat'ed.
 */
export function pathKind(path: string, followLinks = false): 'file' | 'directory' | 'missing' | 'other' {
  try {
    const st = followLinks ? statSync(path) : lstatSync(path);
    return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}

export function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Files holding secrets (key files, PIN files, passphrase files) must be regular
 * files (no symlinks), 0600 or stricter, and owned by the current user (BAD-62).
 * `what` names the file in errors, e.g. "key file" or "PIN file".
 */
export function checkPrivateFile(path: string, what: string, missing: { code: ErrorCode; suggestion: string }): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (cause) {
    throw new TufsignError(missing.code, `${what} ${path} does not exist or cannot be read`, {
      file: path,
      cause,
      suggestion: missing.suggestion,
    });
  }
  if (!st.isFile())
    throw new TufsignError('KEY_FILE_INVALID', `${what} ${path} is not a regular file`, {
      file: path,
      rule: 'secret files are regular files, not links, devices or pipes',
    });
  if ((st.mode & 0o077) !== 0) {
    throw new TufsignError(
      'KEY_FILE_PERMISSIONS',
      `${what} ${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)})`,
      {
        file: path,
        rule: 'BAD-62 secret files are 0600',
        suggestion: `chmod 600 ${path}`,
      },
    );
  }
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new TufsignError('KEY_FILE_PERMISSIONS', `${what} ${path} belongs to another user (uid ${st.uid})`, {
      file: path,
      rule: 'BAD-62 secret files belong to the signer',
    });
  }
}

/** Create a folder (and its parents) if it does not exist. */
export function ensureDir(path: string): void {
  mkdirSync(path, { recursive: true });
}

/** True when `path` exists and lists at least one entry (a path that is not a folder throws). */
export function isNonEmptyDir(path: string): boolean {
  return fileExists(path) && readdirSync(path).length > 0;
}

/** Remove a file this command created, undoing a failed write; best effort (it may already be gone). */
export function removeFileQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // best effort
  }
}

/** Remove a folder only if it is empty (undoing a folder a failed command created); anything else stays. */
export function removeDirIfEmpty(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    // not empty, or already gone: nothing of the user's is removed
  }
}

/** What a file in a bundle folder is when it is not a regular file. */
export function nonRegularKind(st: {
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isDirectory(): boolean;
}): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/**
 * Open one regular file of a bundle and hand its descriptor to `read`: never through a symlink, never a FIFO or
 * device (opened O_NOFOLLOW|O_NONBLOCK after an lstat, then fstat-checked), and never more than `cap` bytes —
 * the length the bundle manifest declares (`read` calls `tooLarge` when it gets past it). Undefined when the
 * file is missing.
 */
function withRegularFile<T>(
  full: string,
  cap: number,
  shown: string,
  read: (fd: number, size: number, tooLarge: () => never) => T,
  keepOpen = false,
): T | undefined {
  let st;
  try {
    st = lstatSync(full);
  } catch {
    return undefined;
  }
  const refuse = (kind: string): never => {
    throw new TufsignError('BUNDLE_INVALID', `${shown} is ${kind}`, {
      file: full,
      rule: 'BAD-47 a bundle holds regular files only',
    });
  };
  if (!st.isFile()) refuse(nonRegularKind(st));
  if (st.size > cap)
    throw new TufsignError(
      'FILE_TOO_LARGE',
      `${shown} is ${st.size} bytes, over the ${cap} bytes the manifest declares`,
      { file: full, rule: 'BAD-51 reads capped by the manifest' },
    );
  const tooLarge = (): never => {
    throw new TufsignError('FILE_TOO_LARGE', `${shown} grew past the ${cap} bytes the manifest declares`, {
      file: full,
      rule: 'BAD-51 reads capped by the manifest',
    });
  };
  let fd: number | undefined;
  try {
    fd = openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const now = fstatSync(fd);
    if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) refuse('replaced while being read');
    const result = read(fd, now.size, tooLarge);
    if (keepOpen) fd = undefined; // `read` handed the descriptor on
    return result;
  } catch (cause) {
    if (cause instanceof TufsignError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') refuse('a symlink');
    throw new TufsignError('IO_ERROR', `cannot read ${shown}: ${code ?? (cause as Error).message}`, {
      file: full,
      cause,
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Read one regular file of a bundle whole, with `withRegularFile`'s checks (metadata, manifests: small files). */
export function readRegularFile(full: string, cap: number, shown = full): Buffer | undefined {
  return withRegularFile(full, cap, shown, (fd, size, tooLarge) => {
    const buf = Buffer.alloc(Math.min(size, cap) + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > cap) tooLarge();
      if (got === buf.length) break;
    }
    return buf.subarray(0, got);
  });
}

/** What a file hashed in pieces gives: its length and a hex digest per algorithm asked for. */
export interface FileHashes {
  length: number;
  hashes: Map<string, string>;
}

/** Hash an open file from its current position in 1 MiB pieces; `tooLarge` is called past `cap` bytes. */
function hashFd(
  fd: number,
  size: number,
  cap: number,
  algorithms: readonly string[],
  tooLarge: () => never,
): FileHashes {
  const buf = Buffer.alloc(Math.min(size, cap, 1 << 20) + 1);
  const hashes = algorithms.map((a) => createHash(a));
  let length = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    length += n;
    if (length > cap) tooLarge();
    for (const h of hashes) h.update(buf.subarray(0, n));
  }
  return { length, hashes: new Map(algorithms.map((a, i) => [a, hashes[i]!.digest('hex')])) };
}

/**
 * The length and digests (node's algorithm names) of one regular file of a bundle, read in 1 MiB pieces with
 * `withRegularFile`'s checks: a release archive is checked without being held.
 */
export function hashRegularFile(
  full: string,
  cap: number,
  algorithms: readonly string[],
  shown = full,
): FileHashes | undefined {
  return withRegularFile(full, cap, shown, (fd, size, tooLarge) => hashFd(fd, size, cap, algorithms, tooLarge));
}

/**
 * One regular file of a bundle, with `withRegularFile`'s checks, as a stream of 1 MiB pieces up to the size it
 * had when opened (a large file, e.g. a tarball beside the folder, never held); the stream owns the descriptor.
 */
export function readRegularFilePieces(
  full: string,
  cap: number,
  shown = full,
): { size: number; stream: Readable } | undefined {
  return withRegularFile(
    full,
    cap,
    shown,
    (fd, size) => ({
      size,
      stream:
        size === 0
          ? (closeSync(fd), Readable.from([]))
          : createReadStream(full, { fd, start: 0, end: size - 1, highWaterMark: 1 << 20 }),
    }),
    true,
  );
}

/** The length and sha256 of one regular file of a bundle (`hashRegularFile`). */
export function digestRegularFile(
  full: string,
  cap: number,
  shown = full,
): { length: number; sha256: string } | undefined {
  const r = hashRegularFile(full, cap, ['sha256'], shown);
  return r === undefined ? undefined : { length: r.length, sha256: r.hashes.get('sha256')! };
}

/**
 * `readFileBounded`'s file (BAD-08 cap, the same errors) hashed in 1 MiB pieces instead of read whole: a
 * workspace's release archive is checked without being held.
 */
export function hashFileBounded(path: string, max: number, algorithms: readonly string[]): FileHashes {
  let fd: number | undefined;
  const tooLarge = (size?: number): never => {
    throw fileTooLarge(path, max, size);
  };
  try {
    fd = openSync(path, constants.O_RDONLY);
    const size = fstatSync(fd).size;
    if (size > max) tooLarge(size);
    return hashFd(fd, size, max, algorithms, () => tooLarge());
  } catch (cause) {
    throw fileReadFault(path, cause);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Read a file that holds one secret (a PIN, a passphrase): a private file (see `checkPrivateFile`), at most
 * `maxBytes` long, read from the descriptor that was checked; one trailing newline (LF or CRLF) is dropped, as
 * editors add it. The caller zeroes the returned buffer; the intermediate one is zeroed here.
 */
export function readSecretFile(
  path: string,
  what: string,
  maxBytes: number,
  missing: { code: ErrorCode; suggestion: string },
): Buffer {
  checkPrivateFile(path, what, missing);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (cause) {
    throw new TufsignError(missing.code, `${what} ${path} cannot be opened`, {
      file: path,
      cause,
      suggestion: missing.suggestion,
    });
  }
  const buf = Buffer.alloc(maxBytes + 1);
  let n = 0;
  try {
    if (!fstatSync(fd).isFile())
      throw new TufsignError('KEY_FILE_INVALID', `${what} ${path} is not a regular file`, {
        file: path,
        rule: 'secret files are regular files, not links, devices or pipes',
      });
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
  } finally {
    closeSync(fd);
  }
  if (n > maxBytes) {
    buf.fill(0);
    throw new TufsignError('KEY_FILE_INVALID', `${what} ${path} is larger than ${maxBytes} bytes`, {
      file: path,
      rule: 'a secret file holds the secret and nothing else',
    });
  }
  let end = n;
  if (end > 0 && buf[end - 1] === 0x0a) end--;
  if (end > 0 && buf[end - 1] === 0x0d) end--;
  const secret = Buffer.from(buf.subarray(0, end));
  buf.fill(0);
  return secret;
}

/** A new private (0700) folder under the system temp folder, for work that must not be seen half-done. */
export function makePrivateTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Remove a folder this process created, with everything in it (best effort: never throws). */
export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // leftovers in the temp folder are harmless
  }
}

/** The entries of a folder as `readdir` sees them (a symlink is one entry, never followed); unreadable: IO_ERROR. */
export function listEntries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (cause) {
    throw new TufsignError(
      'IO_ERROR',
      `cannot list ${dir}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`,
      {
        file: dir,
        cause,
      },
    );
  }
}

/** Put a finished staging folder at `path`; an (empty) folder an earlier attempt left there is replaced. */
export function replaceWithStaged(staging: string, path: string): void {
  if (fileExists(path)) rmSync(path, { recursive: true });
  renameSync(staging, path);
}

/** Names in a folder, or none when it does not exist or cannot be listed. */
export function listNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * A small file someone else may have put in a folder tufsign looks through (a key's public part in `keys/`), read
 * without trusting it: a regular file of at most `cap` bytes, never through a symlink, never a FIFO or device
 * (lstat first, then opened O_NOFOLLOW|O_NONBLOCK and fstat-checked as the same file). Anything else is not read
 * and the reason is returned instead, so one bad entry does not stop the look at the others.
 */
export function readPlainFile(path: string, cap: number): { data: Buffer } | { skipped: string } {
  let st;
  try {
    st = lstatSync(path);
  } catch (cause) {
    return { skipped: (cause as NodeJS.ErrnoException).code ?? 'cannot be read' };
  }
  if (!st.isFile()) return { skipped: nonRegularKind(st) };
  if (st.size > cap) return { skipped: `${st.size} bytes, over the ${cap} a public key file may be` };
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const now = fstatSync(fd);
    if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) return { skipped: 'replaced while being read' };
    const buf = Buffer.alloc(Math.min(now.size, cap) + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > cap) return { skipped: `over the ${cap} bytes a public key file may be` };
    }
    return { data: buf.subarray(0, got) };
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    return { skipped: code === 'ELOOP' ? 'a symlink' : (code ?? 'cannot be read') };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
