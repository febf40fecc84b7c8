/** Progress reporting for long steps (releases, and metadata work over many roles); the CLI renders it (stderr bar, or nothing under --json). */
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
  | 'bundle'
  /** target files read and hashed by `targets add` (units: targets) */
  | 'targets'
  /** metadata roles signed, e.g. 16,384 new hash bins (units: roles) */
  | 'sign'
  /** files written by one metadata commit (units: files) */
  | 'write';

export interface Progress {
  stage: ReleaseStage;
  /** Units done so far (bytes; entries for `scan`; targets, roles or files for the metadata stages). */
  done: number;
  /** 0 when the stage only counts (scan) */
  total: number;
  /** files handled so far, for stages that go file by file */
  files?: number;
}

export type ProgressCallback = (progress: Progress) => void;
