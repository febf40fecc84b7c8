/** Progress reporting for long release steps; the CLI renders it (stderr bar, or nothing under --json). */
export type ReleaseStage =
  'scan' | 'read' | 'archive' | 'compress' | 'hash' | 'patch-index' | 'patch-diff' | 'patch-compress' | 'verify';

export interface Progress {
  stage: ReleaseStage;
  /** Units done so far (bytes, or entries for `scan`). */
  done: number;
  total: number;
}

export type ProgressCallback = (progress: Progress) => void;
