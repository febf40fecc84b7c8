/**
 * Facts about the running program that only differ in the standalone
 * executable (a Node single-executable application, ADR 0012): whether we
 * are one, the folder the executable lives in (native addons are loaded from
 * there and nowhere else), and the sha256 of the executable itself, which
 * ceremony transcripts record so an auditor can tell which binary signed.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let standalone: boolean | undefined;
let digest: string | undefined;

/** True inside the single executable built by `npm run package`. */
export function isStandalone(): boolean {
  if (standalone === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      standalone = (require('node:sea') as { isSea(): boolean }).isSea();
    } catch {
      standalone = false;
    }
  }
  return standalone;
}

/** Where the standalone executable keeps its native addons: `lib/` beside the executable, never a path from input. */
export function addonPath(name: string): string {
  return join(dirname(process.execPath), 'lib', `${name}.node`);
}

/** sha256 of the running executable (read once per process); the standalone entry records it in ceremony transcripts. */
export function executableSha256(): string {
  digest ??= createHash('sha256').update(readFileSync(process.execPath)).digest('hex');
  return digest;
}
