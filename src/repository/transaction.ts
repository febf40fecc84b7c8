/**
 * The write transaction of every use case: everything is computed and signed in memory first, then written in
 * one step (targets and keys first, metadata next, timestamp last), so a failure leaves the workspace as it was.
 */
import { fileExists, removeFileQuietly } from '../io/fs';
import { StagedFile } from '../io/stream-file';
import { WriteOnce } from '../io/write-once';
import { METADATA_DIR } from './workspace';
import { BATCH_MIN_FILES, commitInBatches } from './commit-batch';

export interface PendingFile {
  path: string;
  /** the bytes, or a finished file in the workspace's staging folder that the commit moves into place */
  data: string | Uint8Array | StagedFile;
  mode?: number;
}

export type InMemoryFile = PendingFile & { data: string | Uint8Array };

/** Write all files, targets and keys first, metadata next, timestamp last; undo on failure. */
export function commitFiles(files: PendingFile[], onProgress?: (done: number, total: number) => void): void {
  const rank = (p: string): number => (p.endsWith('timestamp.json') ? 3 : p.includes(`/${METADATA_DIR}/`) ? 2 : 1);
  const ordered = [...files].sort((a, b) => rank(a.path) - rank(b.path));
  const inMemory = (f: PendingFile): f is InMemoryFile => !(f.data instanceof StagedFile);
  if (ordered.length >= BATCH_MIN_FILES && ordered.every(inMemory))
    return commitInBatches(ordered.filter(inMemory), rank, onProgress);
  const created: string[] = [];
  const once = new WriteOnce(); // a target's second hash-prefixed name is a hard link (ADR 0017)
  try {
    for (const f of ordered) {
      const existed = fileExists(f.path);
      once.write(f.path, f.data, f.mode);
      if (!existed) created.push(f.path);
    }
  } catch (e) {
    for (const p of created) removeFileQuietly(p);
    throw e;
  }
}
