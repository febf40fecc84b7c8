/**
 * Writing a bundle: the folder appears complete or not at all (written in a
 * staging folder beside it, then renamed), and the tarball is written
 * atomically after it.
 */
import { mkdirSync, renameSync, rmSync, readdirSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TufsignError } from '../errors';
import { fileExists, writeFileAtomic } from '../io/fs';
import { deterministicTarGz, type TarEntry } from './tar';

export interface WrittenBundle {
  dir: string;
  tarball: string;
}

export function tarballPathFor(dir: string): string {
  return resolve(dir).replace(/\/+$/, '') + '.tar.gz';
}

export function writeBundle(outDir: string, entries: readonly TarEntry[]): WrittenBundle {
  const dir = resolve(outDir);
  const tarball = tarballPathFor(dir);
  if (fileExists(dir) && readdirSync(dir).length > 0) {
    throw new TufsignError('IO_ERROR', `${dir} already exists and is not empty`, {
      file: dir,
      rule: 'never overwrite a bundle',
      suggestion: 'Choose another --bundle-out folder.',
    });
  }
  if (fileExists(tarball))
    throw new TufsignError('IO_ERROR', `${tarball} already exists`, {
      file: tarball,
      rule: 'never overwrite a bundle',
      suggestion: 'Choose another --bundle-out folder.',
    });
  mkdirSync(dirname(dir), { recursive: true });
  const staging = join(dirname(dir), `.${basename(dir)}.staging-${randomBytes(4).toString('hex')}`);
  try {
    for (const e of entries) writeFileAtomic(join(staging, e.path), e.data);
    if (fileExists(dir)) rmSync(dir, { recursive: true }); // empty folder from a previous attempt
    renameSync(staging, dir);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    if (e instanceof TufsignError) throw e;
    throw new TufsignError('IO_ERROR', `could not write the bundle ${dir}: ${(e as Error).message}`, {
      file: dir,
      cause: e,
    });
  }
  writeFileAtomic(tarball, deterministicTarGz(entries));
  return { dir, tarball };
}
