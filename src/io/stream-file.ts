/**
 * Files written and read in pieces, for outputs too large to hold (a release
 * archive streamed from its folder): the same atomic discipline as
 * `writeFileAtomic` — a temporary name created exclusively, fsync, rename,
 * directory fsync — so a crash leaves the old file or the whole new one.
 */
import {
  closeSync,
  constants,
  createReadStream,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { Readable } from 'node:stream';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TufsignError } from '../errors';
import { fileReadFault, fileTooLarge, fsyncDir } from './fs';

/** Write every byte of `piece` at the file's position; a failure is IO_ERROR naming `path`. */
function writeAll(fd: number, piece: Uint8Array, path: string): void {
  try {
    for (let at = 0; at < piece.length;) at += writeSync(fd, piece, at, piece.length - at);
  } catch (cause) {
    throw new TufsignError('IO_ERROR', `could not write ${path}: ${(cause as Error).message}`, { file: path, cause });
  }
}

export class AtomicFileWriter {
  /** Where the bytes are until `commit` (readable, e.g. to check them before they are published). */
  readonly tempPath: string;
  private fd: number | undefined;

  constructor(
    readonly path: string,
    mode = 0o644,
  ) {
    this.tempPath = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      this.fd = openSync(this.tempPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    } catch (cause) {
      throw new TufsignError('IO_ERROR', `could not write ${path}: ${(cause as Error).message}`, { file: path, cause });
    }
  }

  write(piece: Uint8Array): void {
    if (this.fd === undefined) throw new TufsignError('INTERNAL', `${this.path} is already closed`);
    writeAll(this.fd, piece, this.path);
  }

  /** Flush and close; the bytes stay at `tempPath` until `commit`. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Put the file in place (closing it first if needed). */
  commit(): void {
    this.close();
    try {
      renameSync(this.tempPath, this.path);
    } catch (cause) {
      throw new TufsignError('IO_ERROR', `could not write ${this.path}: ${(cause as Error).message}`, {
        file: this.path,
        cause,
      });
    }
    fsyncDir(dirname(this.path));
  }

  /** Drop everything written: nothing is left behind. */
  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    try {
      unlinkSync(this.tempPath);
    } catch {
      // already gone
    }
  }
}

/**
 * A complete file waiting in a staging folder on the destination's filesystem (a release archive streamed
 * there): a commit moves it into place instead of writing bytes it would have to hold.
 */
export class StagedFile {
  constructor(
    readonly path: string,
    readonly length: number,
  ) {}
}

/** Move a staged file to `dest` atomically: a rename (same filesystem), then the directory is flushed. */
export function moveStagedFile(staged: StagedFile, dest: string): void {
  try {
    mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
    renameSync(staged.path, dest);
  } catch (cause) {
    throw new TufsignError('IO_ERROR', `could not move ${staged.path} to ${dest}: ${(cause as Error).message}`, {
      file: dest,
      cause,
    });
  }
  fsyncDir(dirname(dest));
}

/** A file read in pieces of `piece` bytes. */
export function readPieces(path: string, piece = 1 << 20): Readable {
  return createReadStream(path, { highWaterMark: piece });
}

/**
 * A file a user named, read in pieces of `piece` bytes: refused over `max` bytes before anything is read (BAD-08,
 * as `readFileBounded`), and read only up to the size it had when opened (a file growing meanwhile adds nothing).
 */
export function readPiecesBounded(path: string, max: number, piece = 1 << 20): { size: number; stream: Readable } {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY);
    const size = fstatSync(fd).size;
    if (size > max) throw fileTooLarge(path, max, size);
    const stream = createReadStream(path, { fd, highWaterMark: piece, start: 0, end: Math.max(0, size - 1) });
    if (size === 0) stream.destroy(); // end is inclusive: an empty file reads nothing (destroy closes the fd)
    fd = undefined; // the stream owns it now
    return { size, stream: size === 0 ? emptyReadable() : stream };
  } catch (cause) {
    throw fileReadFault(path, cause);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const emptyReadable = (): Readable => Readable.from([]);

/** A file read with positional reads (pieces of a large scratch file, e.g. a tar the patch engine diffs). */
export class PositionalFile {
  readonly length: number;
  private fd: number | undefined;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, constants.O_RDONLY);
      this.length = fstatSync(this.fd).size;
    } catch (cause) {
      throw new TufsignError('IO_ERROR', `could not read ${path}: ${(cause as Error).message}`, { file: path, cause });
    }
  }

  /** Fill `out` with the bytes at `at`; the file must hold them all. */
  readInto(at: number, out: Uint8Array): void {
    if (this.fd === undefined) throw new TufsignError('INTERNAL', `${this.path} is closed`);
    for (let got = 0; got < out.length;) {
      const n = readSync(this.fd, out, got, out.length - got, at + got);
      if (n === 0) throw new TufsignError('IO_ERROR', `${this.path} ended before ${at + out.length} bytes`);
      got += n;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * A scratch file written in pieces (created new, 0600, no fsync: it is work space, not a result; the caller
 * removes it).
 */
export class ScratchFileWriter {
  private fd: number | undefined;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (cause) {
      throw new TufsignError('IO_ERROR', `could not write ${path}: ${(cause as Error).message}`, { file: path, cause });
    }
  }

  readonly write = (piece: Uint8Array): void => {
    if (this.fd === undefined) throw new TufsignError('INTERNAL', `${this.path} is closed`);
    writeAll(this.fd, piece, this.path);
  };

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
