/**
 * What an import reads from an existing repository, whatever tool wrote it:
 * where each root version, the current top-level and delegated metadata, the
 * target files and the private key files are. Each source format
 * (tufup.ts, python-tuf.ts, tuf-on-ci.ts, go-tuf-v0.ts) only locates files;
 * index.ts checks and converts them the same way for all.
 */
import { join } from 'node:path';
import { fileExists, listNames, pathKind } from '../io/fs';

export const IMPORT_FORMATS = ['tufup', 'python-tuf', 'tuf-on-ci', 'go-tuf-v0'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export function isImportFormat(s: string): s is ImportFormat {
  return (IMPORT_FORMATS as readonly string[]).includes(s);
}

/** A private key file kept by the source tool. */
export interface SourceKeyFile {
  /** a short name for the converted key file, e.g. `root` → keys/root.pem */
  name: string;
  file: string;
  kind: 'securesystemslib' | 'go-tuf';
}

export interface SourceLayout {
  format: ImportFormat;
  /** the folder holding the published metadata */
  metadataDir: string;
  /** every `N.root.json` found (version → file) */
  rootFiles: Map<number, string>;
  /** the unversioned `root.json` (the newest root), when the layout has one */
  latestRootFile?: string;
  /** file of a non-root role's current metadata (`timestamp.json`, `snapshot.json`, `targets.json`, `ROLE.json`, or `N.ROLE.json`) */
  metadataFile(fileName: string): string | undefined;
  targetsDir?: string;
  /** where a target file is stored in the source: `storedName` as clients fetch it (hash-prefixed when consistent), or a layout-specific fallback */
  targetFile?(storedName: string, targetPath: string): string | undefined;
  keyFiles: SourceKeyFile[];
  /** the repository name to use (tufup: the app name) */
  name?: string;
  /** expiry periods the source tool was configured with (tufup) */
  expiry?: Partial<Record<'root' | 'targets' | 'snapshot' | 'timestamp', string>>;
  /** tufup: the app name, so `add-release APP` continues the series */
  app?: string;
  /** what the importer should tell the user about this source (ignored parts, quirks) */
  notes: string[];
}

/** A folder, or a link to one (a missing or unreadable path is not). */
export function isDir(path: string): boolean {
  return pathKind(path, true) === 'directory';
}

/** Names in a folder, sorted; none when it is missing or cannot be listed. */
export function listDir(path: string): string[] {
  return listNames(path).sort();
}

/** `N.root.json` files in a folder. */
export function versionedRoots(dir: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of listDir(dir)) {
    const m = /^([1-9][0-9]{0,8})\.root\.json$/.exec(name);
    if (m?.[1] !== undefined) out.set(Number(m[1]), join(dir, name));
  }
  return out;
}

/** A lookup for role files directly in `dir` (plain or version-prefixed names). */
export function filesIn(dir: string): (fileName: string) => string | undefined {
  return (fileName) => {
    const p = join(dir, fileName);
    return fileExists(p) ? p : undefined;
  };
}
