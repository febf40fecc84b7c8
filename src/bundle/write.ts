/**
 * Writing a bundle, once (ADR 0017): a folder, or — when the path ends in `.tar.gz` — one deterministic
 * tarball, never both. The folder appears complete or not at all (written in a staging folder beside it, then
 * renamed); its target files are hard links to the workspace's copies when the filesystem allows, so a release
 * bundle costs only its metadata on disk. The tarball is written atomically.
 */
import { dirname, join, resolve, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TufsignError } from '../errors';
import { copyFileAtomic } from '../io/tree';
import {
  ensureDir,
  fileExists,
  isNonEmptyDir,
  linkFileAtomic,
  removeTree,
  replaceWithStaged,
  writeFileAtomic,
} from '../io/fs';
import type { ProgressCallback } from '../release/progress';
import { AtomicFileWriter } from '../io/stream-file';
import { isOnDisk, itemLength, streamTarGz, type BundleItem } from './tar';

export type BundleFormat = 'folder' | 'tar.gz';

export interface WrittenBundle {
  /** the folder, or the `.tar.gz` file */
  path: string;
  format: BundleFormat;
}

/** The tarball a bundle folder may have beside it (bundles written before ADR 0017 had both). */
export function tarballPathFor(dir: string): string {
  return resolve(dir).replace(/\/+$/, '') + '.tar.gz';
}

/** `--bundle-out PATH`: a `.tar.gz` path is written as one tarball, anything else as a folder. */
export function bundleFormatOf(out: string): BundleFormat {
  return /\.tar\.gz$/i.test(out) ? 'tar.gz' : 'folder';
}

const refuse = (file: string, what: string): TufsignError =>
  new TufsignError('IO_ERROR', `${file} ${what}`, {
    file,
    rule: 'never overwrite a bundle',
    suggestion: 'Choose another --bundle-out path.',
  });

/**
 * `onProgress` gets the `bundle` stage: files and bytes put in the bundle so far, out of all of them (a file
 * linked to the workspace's copy counts its bytes as a written one does: the bundle holds them either way).
 */
export async function writeBundle(
  out: string,
  entries: readonly BundleItem[],
  onProgress?: ProgressCallback,
): Promise<WrittenBundle> {
  const path = resolve(out);
  const total = entries.reduce((n, e) => n + itemLength(e), 0);
  const report = (files: number, done: number): void => onProgress?.({ stage: 'bundle', done, total, files });
  report(0, 0);
  if (bundleFormatOf(out) === 'tar.gz') {
    if (fileExists(path)) throw refuse(path, 'already exists');
    ensureDir(dirname(path));
    // Streamed: files read in pieces, compressed and written as they pass (ADR 0005, "Memory bound").
    const file = new AtomicFileWriter(path);
    try {
      let files = 0;
      let done = 0;
      await streamTarGz(
        entries,
        (piece) => file.write(piece),
        (e) => report(++files, (done += itemLength(e))),
      );
      if (entries.length === 0) report(0, total);
      file.close();
      file.commit();
    } catch (e) {
      file.abort();
      throw e;
    }
    return { path, format: 'tar.gz' };
  }
  if (isNonEmptyDir(path)) throw refuse(path, 'already exists and is not empty');
  ensureDir(dirname(path));
  const staging = join(dirname(path), `.${basename(path)}.staging-${randomBytes(4).toString('hex')}`);
  try {
    let files = 0;
    let done = 0;
    for (const e of entries) {
      const to = join(staging, e.path);
      if (!isOnDisk(e)) writeFileAtomic(to, e.data);
      else if (!linkFileAtomic(e.source, to)) copyFileAtomic(e.source, to); // in pieces, by the kernel
      report(++files, (done += itemLength(e)));
    }
    if (entries.length === 0) report(0, total);
    replaceWithStaged(staging, path); // over an empty folder from a previous attempt
  } catch (e) {
    removeTree(staging);
    if (e instanceof TufsignError) throw e;
    throw new TufsignError('IO_ERROR', `could not write the bundle ${path}: ${(e as Error).message}`, {
      file: path,
      cause: e,
    });
  }
  return { path, format: 'folder' };
}
