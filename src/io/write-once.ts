/**
 * Many names, one stored copy: a writer for one commit step that stores each distinct byte array once and
 * gives every further name for the same array a hard link to it (ADR 0017). Callers pass the very same
 * `Uint8Array` (or `StagedFile`) for every name a file is stored under (a target's hash-prefixed names), so
 * identity is the test; strings (metadata, config) are always written on their own. A staged file is moved to
 * its first name, never read into memory; further names link to it, or get a copy made by the kernel.
 */
import { linkFileAtomic, writeFileAtomic } from './fs';
import { moveStagedFile, StagedFile } from './stream-file';
import { copyFileAtomic } from './tree';

export class WriteOnce {
  private readonly stored = new Map<Uint8Array | StagedFile, { path: string; mode: number }>();

  /** Write `data` at `path` atomically, or link `path` to the copy this writer already stored. */
  write(path: string, data: string | Uint8Array | StagedFile, mode = 0o644): 'written' | 'linked' {
    if (data instanceof StagedFile) {
      const first = this.stored.get(data);
      if (first === undefined) {
        moveStagedFile(data, path);
        this.stored.set(data, { path, mode: 0o644 });
        return 'written';
      }
      if (linkFileAtomic(first.path, path)) return 'linked';
      copyFileAtomic(first.path, path);
      return 'written';
    }
    if (typeof data !== 'string') {
      const first = this.stored.get(data);
      if (first !== undefined && first.mode === mode && linkFileAtomic(first.path, path)) return 'linked';
      this.stored.set(data, { path, mode });
    }
    writeFileAtomic(path, data, mode);
    return 'written';
  }
}
