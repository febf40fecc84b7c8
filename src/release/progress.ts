/** Progress reporting for long release steps; the CLI renders it (stderr bar, or nothing under --json). */
export type ReleaseStage =
  | 'scan'
  | 'read'
  | 'archive'
  | 'compress'
  | 'hash'
  | 'patch-index'
  | 'patch-diff'
  | 'patch-compress'
  | 'verify'
  /** writing the upload bundle: its files and their bytes (linked or written) */
  | 'bundle';

export interface Progress {
  stage: ReleaseStage;
  /** Units done so far (bytes, or entries for `scan`). */
  done: number;
  /** 0 when the stage only counts (scan) */
  total: number;
  /** files handled so far, for stages that go file by file */
  files?: number;
}

export type ProgressCallback = (progress: Progress) => void;
