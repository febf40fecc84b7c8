/** Repository sources for `verify`: a workspace or bundle folder on disk. */
import { join, relative } from 'node:path';
import { fileExists, readFileBounded } from '../io/fs';
import type { RepositorySource } from './verify';

export function directorySource(dir: string, maxBytes = 4 * 1024 * 1024 * 1024): RepositorySource {
  return {
    read(path) {
      const full = join(dir, path);
      if (!fileExists(full)) return undefined;
      return readFileBounded(full, path.startsWith('metadata/') ? 16 * 1024 * 1024 : maxBytes);
    },
    describe(path) {
      return relative(process.cwd(), join(dir, path)) || path;
    },
  };
}
