/**
 * Turning a stored copy into a hard link to its twin (ADR 0017, old workspaces): hash a file in one read, and
 * replace one name by a link to another only when both are regular files holding the very same bytes. The swap
 * is a link under a temp name and a rename, so a kill leaves either the old copy or the link, never a gap.
 */
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  lstatSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { TufsignError } from '../errors';

/** A regular file's length and digests with the inode they were read from (the link-dedupe needs dev, ino, nlink). */
export interface InodeHashes {
  length: number;
  /** lower-case hex digest per algorithm asked for */
  digests: Record<string, string>;
  dev: number;
  ino: number;
  /** names this inode has */
  nlink: number;
}

const CHUNK = 1 << 20;

function openRegular(path: string): number | undefined {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return undefined;
  }
  if (!st.isFile()) return undefined;
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  const now = fstatSync(fd);
  if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) {
    closeSync(fd);
    return undefined;
  }
  return fd;
}

/** Length and digests of a regular file (never through a link), read once in chunks; undefined if it is not one. */
export function hashRegularFile(path: string, algorithms: readonly string[]): InodeHashes | undefined {
  const fd = openRegular(path);
  if (fd === undefined) return undefined;
  try {
    const st = fstatSync(fd);
    const hashes = algorithms.map((a) => createHash(a));
    const buf = Buffer.alloc(CHUNK);
    let length = 0;
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      for (const h of hashes) h.update(buf.subarray(0, n));
      length += n;
    }
    const digests: Record<string, string> = {};
    algorithms.forEach((a, i) => (digests[a] = hashes[i]?.digest('hex') ?? ''));
    return { length, digests, dev: st.dev, ino: st.ino, nlink: st.nlink };
  } finally {
    closeSync(fd);
  }
}

function sameBytes(a: number, b: number): boolean {
  const x = Buffer.alloc(CHUNK);
  const y = Buffer.alloc(CHUNK);
  for (;;) {
    const n = readSync(a, x, 0, CHUNK, null);
    let m = 0;
    while (m < n) {
      const k = readSync(b, y, m, n - m, null);
      if (k === 0) return false;
      m += k;
    }
    if (!x.subarray(0, n).equals(y.subarray(0, n))) return false;
    if (n === 0) return readSync(b, y, 0, 1, null) === 0;
  }
}

export type LinkOutcome = 'linked' | 'already-linked' | 'differs' | 'unsupported';

/**
 * Replace `copy` by a hard link to `keep` when both are regular files with byte-identical content: compared
 * byte for byte here, whatever their names claim. The link is checked to be the inode that was compared before
 * it is renamed over `copy`. `unsupported`: the filesystem has no hard links here (the copy stays).
 */
export function linkIdenticalCopy(keep: string, copy: string): LinkOutcome {
  const a = openRegular(keep);
  if (a === undefined) return 'differs';
  let tmp: string | undefined;
  try {
    const b = openRegular(copy);
    if (b === undefined) return 'differs';
    let keptIno: number;
    let keptDev: number;
    try {
      const sa = fstatSync(a);
      const sb = fstatSync(b);
      if (sa.dev === sb.dev && sa.ino === sb.ino) return 'already-linked';
      if (sa.size !== sb.size || !sameBytes(a, b)) return 'differs';
      keptIno = sa.ino;
      keptDev = sa.dev;
    } finally {
      closeSync(b);
    }
    const dir = dirname(copy);
    tmp = join(dir, `.${basename(copy)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      linkSync(keep, tmp);
    } catch (cause) {
      tmp = undefined;
      const code = (cause as NodeJS.ErrnoException).code ?? '';
      if (['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'].includes(code)) return 'unsupported';
      throw cause;
    }
    const linked = lstatSync(tmp);
    // `keep` replaced by a rename between the comparison and the link: that is not the file compared
    if (linked.ino !== keptIno || linked.dev !== keptDev) return 'differs';
    renameSync(tmp, copy);
    tmp = undefined;
    return 'linked';
  } catch (cause) {
    throw new TufsignError('IO_ERROR', `could not link ${copy} to ${keep}: ${(cause as Error).message}`, {
      file: copy,
      cause,
    });
  } finally {
    closeSync(a);
    if (tmp !== undefined)
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
  }
}
