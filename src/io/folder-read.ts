/**
 * Reading a folder someone else filled (a release bundle) without trusting it: raw names as the directory holds
 * them, `lstat` so links are seen as links, and files opened without following a link, read from the checked
 * descriptor. The rules about what is acceptable live with the caller (src/release/scan.ts).
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  type Stats,
} from 'node:fs';

export type { Stats };

/** `stat` of the folder the user named (following a link there is the user's choice). */
export function statPath(path: string): Stats {
  return statSync(path);
}

/** `lstat`: a link is reported as a link, never followed. */
export function lstatPath(path: string): Stats {
  return lstatSync(path);
}

/** The entry names of `dir` as raw bytes (the caller decides which encodings it accepts). */
export function listRawNames(dir: string): Buffer[] {
  return readdirSync(dir, { encoding: 'buffer' });
}

/** Open for reading; a symbolic link at `path` fails (ELOOP) instead of being followed. */
export function openNoFollow(path: string): number {
  return openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
}

export function statOpen(fd: number): Stats {
  return fstatSync(fd);
}

/** Read up to `n` bytes at the descriptor's position into buf[at…]; 0 at the end of the file. */
export function readAt(fd: number, buf: Uint8Array, at: number, n: number): number {
  return readSync(fd, buf, at, n, null);
}

export function closeFile(fd: number): void {
  closeSync(fd);
}
