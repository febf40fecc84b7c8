/** Filesystem edge for publishing: listing a tree, hashing a file, atomic copies that never follow links. */
import {
  closeSync,
  constants,
  copyFileSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, sep } from 'node:path';
import { TufsignError } from '../errors';

/** Regular files under `dir`, as `/`-separated paths relative to it; links and special files are refused. */
export function listRegularFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) out.push(relative(dir, full).split(sep).join('/'));
      else
        throw new TufsignError('PATH_UNSAFE', `${full} is not a regular file or folder`, {
          file: full,
          rule: 'published trees hold only regular files',
        });
    }
  };
  walk(dir);
  return out.sort();
}

/** Length and sha256 of a file, read in chunks (targets can be large); undefined when there is no such file. */
export function fileDigest(path: string): { length: number; sha256: string } | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const hash = createHash('sha256');
    const buf = Buffer.alloc(1 << 20);
    let length = 0;
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      hash.update(buf.subarray(0, n));
      length += n;
    }
    return { length, sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/** Refuse a destination whose existing path components (below `root`) include a symbolic link or a non-folder. */
export function checkNoLinks(root: string, rel: string): void {
  let cur = root;
  const parts = rel.split('/');
  parts.forEach((part, i) => {
    cur = join(cur, part);
    let st;
    try {
      st = lstatSync(cur);
    } catch {
      return;
    }
    const last = i === parts.length - 1;
    if (st.isSymbolicLink() || (!last && !st.isDirectory()) || (last && !st.isFile())) {
      throw new TufsignError(
        'PATH_UNSAFE',
        `${cur} is a link or not a ${last ? 'file' : 'folder'}; refusing to publish through it`,
        { file: cur, rule: 'publish never writes through links' },
      );
    }
  });
}

/** Copy `src` to `dest` atomically (temp file beside it, fsync, rename, directory fsync), mode 0644. */
export function copyFileAtomic(src: string, dest: string): void {
  const dir = dirname(dest);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = join(dir, `.${basename(dest)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    copyFileSync(src, tmp, constants.COPYFILE_EXCL);
    const fd = openSync(tmp, constants.O_RDWR);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, dest);
    try {
      const d = openSync(dir, constants.O_RDONLY);
      fsyncSync(d);
      closeSync(d);
    } catch {
      // some filesystems refuse fsync on directories; the rename is still atomic
    }
  } catch (cause) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw new TufsignError('IO_ERROR', `could not write ${dest}: ${(cause as Error).message}`, { file: dest, cause });
  }
}
