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

/** sha256 of each addon the standalone executable was built with, compiled in by the build. */
const addonDigests = new Map<string, string>();

export function expectAddonDigests(digests: Readonly<Record<string, string>>): void {
  for (const [name, sha256] of Object.entries(digests)) addonDigests.set(name, sha256);
}

/**
 * The addon's path, once its bytes are the ones this executable was built with: a swapped or damaged
 * `lib/NAME.node` is refused before it is loaded (the message names file, found and expected hash).
 */
export function verifiedAddonPath(name: string): string {
  const file = addonPath(name);
  const expected = addonDigests.get(name);
  if (expected === undefined) throw new Error(`${file}: this executable was built without an addon named "${name}"`);
  const actual = createHash('sha256').update(readFileSync(file)).digest('hex');
  if (actual !== expected) {
    throw new Error(`${file} is not the addon this executable was built with (sha256 ${actual}, expected ${expected})`);
  }
  return file;
}

/** sha256 of the running executable (read once per process); the standalone entry records it in ceremony transcripts. */
export function executableSha256(): string {
  digest ??= createHash('sha256').update(readFileSync(process.execPath)).digest('hex');
  return digest;
}
