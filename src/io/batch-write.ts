/**
 * Many files written atomically as one durable batch. Writing 100,000 target
 * files one `writeFileAtomic` at a time costs two fsyncs each (file, then
 * directory) — about 10 ms apiece on a journaling filesystem, over 40 minutes
 * in all. Here every file is first written to a temp file beside its final
 * name, the filesystem is flushed once (syncfs(2) through coreutils
 * `sync --file-system`; without it, one fsync per temp file), the temp files
 * are renamed, and the renames are flushed once more (syncfs, or one fsync
 * per directory). A crash leaves each path either absent/old or complete,
 * exactly as `writeFileAtomic` does; a failure removes what the batch created.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TufsignError } from '../errors';

export interface FileToWrite {
  path: string;
  data: string | Uint8Array;
  mode?: number;
}

/** coreutils `sync`, at the fixed paths Debian installs it (never looked up from input or PATH). */
const SYNC_BINARIES = ['/usr/bin/sync', '/bin/sync'];

function syncFileSystem(anyPath: string): boolean {
  const bin = SYNC_BINARIES.find((b) => existsSync(b));
  if (bin === undefined) return false;
  try {
    execFileSync(bin, ['--file-system', anyPath], { stdio: 'ignore', timeout: 600_000 });
    return true;
  } catch {
    return false;
  }
}

/** A hard link where the filesystem allows one; false where it does not (then the bytes are written again). */
function linkTemp(existing: string, tmp: string): boolean {
  try {
    linkSync(existing, tmp);
    return true;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? '';
    if (['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'].includes(code)) return false;
    throw cause;
  }
}

function fsyncPath(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Write `files` (distinct paths) as one batch; returns the paths that did not
 * exist before. `onProgress(done, total)` is called while the files are written.
 */
export function writeFilesAtomic(
  files: readonly FileToWrite[],
  onProgress?: (done: number, total: number) => void,
): string[] {
  const staged: { tmp: string; path: string }[] = [];
  const renamed: string[] = [];
  const created: string[] = [];
  const dirs = new Set<string>();
  const stored = new Map<Uint8Array, { tmp: string; mode: number }>();
  try {
    let done = 0;
    for (const f of files) {
      const dir = dirname(f.path);
      const mode = f.mode ?? 0o644;
      if (!dirs.has(dir)) {
        // a directory created here must reach the disk too: its parent is flushed with the others
        const first = mkdirSync(dir, { recursive: true, mode: (mode & 0o077) === 0 ? 0o700 : 0o755 });
        if (first !== undefined) for (let d = dir; d.length >= first.length; d = dirname(d)) dirs.add(dirname(d));
        dirs.add(dir);
      }
      const tmp = join(dir, `.${basename(f.path)}.${randomBytes(6).toString('hex')}.tmp`);
      // One stored copy (ADR 0017): a further name for the very same bytes is a hard link to the first.
      if (typeof f.data !== 'string') {
        const first = stored.get(f.data);
        if (first !== undefined && first.mode === mode && linkTemp(first.tmp, tmp)) {
          staged.push({ tmp, path: f.path });
          done += 1;
          continue;
        }
        stored.set(f.data, { tmp, mode });
      }
      const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
      staged.push({ tmp, path: f.path });
      try {
        const buf = typeof f.data === 'string' ? Buffer.from(f.data, 'utf8') : f.data;
        let off = 0;
        while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      } finally {
        closeSync(fd);
      }
      done += 1;
      if (onProgress !== undefined && (done % 5000 === 0 || done === files.length)) onProgress(done, files.length);
    }
    const first = files[0]?.path;
    if (first === undefined) return [];
    const syncfs = syncFileSystem(dirname(first));
    if (!syncfs) for (const s of staged) fsyncPath(s.tmp);
    for (const s of staged) {
      const existed = existsSync(s.path);
      renameSync(s.tmp, s.path);
      renamed.push(s.tmp);
      if (!existed) created.push(s.path);
    }
    if (!syncFileSystem(dirname(first))) for (const d of dirs) fsyncPath(d);
    return created;
  } catch (cause) {
    const gone = new Set(renamed);
    for (const s of staged) if (!gone.has(s.tmp)) removeQuietly(s.tmp);
    for (const p of created) removeQuietly(p);
    if (cause instanceof TufsignError) throw cause;
    throw new TufsignError('IO_ERROR', `could not write ${files.length} files: ${(cause as Error).message}`, { cause });
  }
}

/** Remove files a failed commit created (best effort: the failure itself is what gets reported). */
export function removeFilesQuietly(paths: readonly string[]): void {
  for (const p of paths) removeQuietly(p);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
