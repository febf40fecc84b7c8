/** Repository sources for `verify`: a workspace or bundle folder on disk. */
import { join, relative } from 'node:path';
import {
  fileExists,
  hashFileBounded,
  hashRegularFile,
  MAX_METADATA_BYTES,
  readFileBounded,
  readRegularFile,
} from '../io/fs';
import { isPlainRelativePath } from '../tuf/paths';
import type { RepositorySource } from './verify';

/**
 * How a file is named in messages: relative to `shownFrom` (the CLI passes its working directory, so a report
 * names files the way the user typed them); without it, as joined under `dir`. The core never reads the process.
 */
const describeIn = (dir: string, shownFrom?: string) => (path: string) =>
  shownFrom === undefined ? join(dir, path) : relative(shownFrom, join(dir, path)) || path;

export function directorySource(dir: string, shownFrom?: string, maxBytes = 4 * 1024 * 1024 * 1024): RepositorySource {
  return {
    read(path) {
      if (!isPlainRelativePath(path)) return undefined;
      const full = join(dir, path);
      if (!fileExists(full)) return undefined;
      return readFileBounded(full, path.startsWith('metadata/') ? MAX_METADATA_BYTES : maxBytes);
    },
    hash(path, algorithms) {
      if (!isPlainRelativePath(path)) return undefined;
      const full = join(dir, path);
      if (!fileExists(full)) return undefined;
      return hashFileBounded(full, path.startsWith('metadata/') ? MAX_METADATA_BYTES : maxBytes, algorithms);
    },
    describe: describeIn(dir, shownFrom),
  };
}

/**
 * A bundle folder as a repository source: regular files only, each read with
 * the cap its manifest entry declares; files the manifest does not list are
 * not read at all (the manifest check reports them).
 */
export function bundleSource(
  dir: string,
  declaredLengths: ReadonlyMap<string, number>,
  shownFrom?: string,
): RepositorySource {
  const describe = describeIn(dir, shownFrom);
  return {
    read(path) {
      const cap = declaredLengths.get(path);
      if (cap === undefined || !isPlainRelativePath(path)) return undefined;
      return readRegularFile(join(dir, path), cap, describe(path));
    },
    hash(path, algorithms) {
      const cap = declaredLengths.get(path);
      if (cap === undefined || !isPlainRelativePath(path)) return undefined;
      return hashRegularFile(join(dir, path), cap, algorithms, describe(path));
    },
    describe,
  };
}
