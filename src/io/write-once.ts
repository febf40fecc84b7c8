/**
 * Many names, one stored copy: a writer for one commit step that stores each distinct byte array once and
 * gives every further name for the same array a hard link to it (ADR 0017). Callers pass the very same
 * `Uint8Array` for every name a file is stored under (a target's hash-prefixed names), so identity is the test;
 * strings (metadata, config) are always written on their own.
 */
import { linkFileAtomic, writeFileAtomic } from './fs';

export class WriteOnce {
  private readonly stored = new Map<Uint8Array, { path: string; mode: number }>();

  /** Write `data` at `path` atomically, or link `path` to the copy this writer already stored. */
  write(path: string, data: string | Uint8Array, mode = 0o644): 'written' | 'linked' {
    if (typeof data !== 'string') {
      const first = this.stored.get(data);
      if (first !== undefined && first.mode === mode && linkFileAtomic(first.path, path)) return 'linked';
      this.stored.set(data, { path, mode });
    }
    writeFileAtomic(path, data, mode);
    return 'written';
  }
}
