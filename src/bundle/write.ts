/**
 * Writing a bundle, once (ADR 0017): a folder, or — when the path ends in `.tar.gz` — one deterministic
 * tarball, never both. The folder appears complete or not at all (written in a staging folder beside it, then
 * renamed); its target files are hard links to the workspace's copies when the filesystem allows, so a release
 * bundle costs only its metadata on disk. The tarball is written atomically.
 */
import { dirname, join, resolve, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TufsignError } from '../errors';
import {
  ensureDir,
  fileExists,
  isNonEmptyDir,
  linkFileAtomic,
  removeTree,
  replaceWithStaged,
  writeFileAtomic,
} from '../io/fs';
import { deterministicTarGz, type BundleEntry } from './tar';

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

export function writeBundle(out: string, entries: readonly BundleEntry[]): WrittenBundle {
  const path = resolve(out);
  if (bundleFormatOf(out) === 'tar.gz') {
    if (fileExists(path)) throw refuse(path, 'already exists');
    ensureDir(dirname(path));
    writeFileAtomic(path, deterministicTarGz(entries));
    return { path, format: 'tar.gz' };
  }
  if (isNonEmptyDir(path)) throw refuse(path, 'already exists and is not empty');
  ensureDir(dirname(path));
  const staging = join(dirname(path), `.${basename(path)}.staging-${randomBytes(4).toString('hex')}`);
  try {
    for (const e of entries) {
      const to = join(staging, e.path);
      if (e.source === undefined || !linkFileAtomic(e.source, to)) writeFileAtomic(to, e.data);
    }
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
