/**
 * The keyholder's trust folder (`~/.tufsign/trust/NAME/`, or `--trust-dir`):
 * the root this laptop pins for a repository when it has no workspace. It is
 * created on a first contact the keyholder confirmed, and moves forward only
 * to a root verified from the pin (each step signed by the previous root's
 * threshold and its own), like a TUF client's trusted root.
 */
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { fileExists, readFileBounded, writeFileAtomic } from '../io/fs';
import { parseJson } from '../tuf/json';
import { HISTORY_PARSE, Metadata, type Root, type TopLevelRole } from '../tuf/metadata';
import { asObject } from '../tuf/fields';
import { readPeriods } from './config';
import { serializeMetadata } from './workspace';

export const PINNED_ROOT_FILE = 'root.json';
/** Optional `{"max_expiry": {"root": "730d", ...}}`: the keyholder's own policy, beside the pin. */
export const TRUST_POLICY_FILE = 'policy.json';

/** A repository name usable as one folder name: the name comes from a request, so nothing else is accepted. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Where the pin for `repository` lives: `--trust-dir` when given, else TRUST_HOME/NAME. */
export function trustDirFor(repository: string, options: { trustDir?: string; trustHome: string }): string {
  if (options.trustDir !== undefined) return options.trustDir;
  if (!SAFE_NAME.test(repository) || repository.includes('..')) {
    throw new TufsignError('REQUEST_INVALID', `the repository name in the request is not usable as a folder name`, {
      path: '$.repository',
      rule: 'repository names: letters, digits, ".", "_", "-"',
      suggestion: 'Name the trust folder yourself with --trust-dir DIR.',
    });
  }
  return join(options.trustHome, repository);
}

/** The pinned root in a trust folder, or undefined when there is none yet. */
export function loadPinnedRoot(dir: string): Metadata<Root> | undefined {
  const file = join(dir, PINNED_ROOT_FILE);
  if (!fileExists(file)) return undefined;
  try {
    return Metadata.fromJSON(parseJson(readFileBounded(file), file), {
      expectedType: 'root',
      ...HISTORY_PARSE,
    }) as Metadata<Root>;
  } catch (e) {
    if (e instanceof TufsignError) throw e.inFile(file);
    throw e;
  }
}

/** Pin `root` (atomic write). */
export function savePinnedRoot(dir: string, root: Metadata<Root>): string {
  const file = join(dir, PINNED_ROOT_FILE);
  writeFileAtomic(file, serializeMetadata(root));
  return file;
}

/** The keyholder's max_expiry overrides from the trust folder's policy.json (none when the file is absent). */
export function loadTrustPolicy(dir: string): Partial<Record<TopLevelRole, string>> {
  const file = join(dir, TRUST_POLICY_FILE);
  if (!fileExists(file)) return {};
  try {
    return readPeriods(asObject(parseJson(readFileBounded(file), file), '$'), 'max_expiry');
  } catch (e) {
    if (e instanceof TufsignError) throw e.inFile(file);
    throw e;
  }
}
