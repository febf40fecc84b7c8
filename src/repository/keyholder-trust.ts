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
import { newObject, parseJson, stringifyPretty } from '../tuf/json';
import { HISTORY_PARSE, Metadata, TOP_LEVEL_ROLES, type Root, type TopLevelRole } from '../tuf/metadata';
import { formatExpires, type Period } from '../tuf/time';
import { roleFingerprint, signedSha256 } from '../ceremony';
import { asObject } from '../tuf/fields';
import { DEFAULT_MAX_EXPIRY, readPeriods, type RolePeriods } from './config';
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
export function loadTrustPolicy(dir: string): RolePeriods {
  const file = join(dir, TRUST_POLICY_FILE);
  if (!fileExists(file)) return {};
  try {
    return readPeriods(asObject(parseJson(readFileBounded(file), file), '$'), 'max_expiry');
  } catch (e) {
    if (e instanceof TufsignError) throw e.inFile(file);
    throw e;
  }
}

// ------------------------------------------------------------------ `ceremony trust show | policy`

/** A trust folder as the keyholder sees it: the pin (if any) and the expiry policy in force. */
export interface TrustFolderView {
  dir: string;
  pinned: false | { version: number; expires: string; rootFingerprint: string; keyids: string[]; threshold: number };
  /** per role: the maximum validity signed and whether it comes from policy.json or the built-in default */
  maxExpiry: Record<TopLevelRole, { period: string; source: 'policy.json' | 'default' }>;
}

export function describeTrustFolder(dir: string): TrustFolderView {
  const pin = loadPinnedRoot(dir);
  const policy = loadTrustPolicy(dir);
  const maxExpiry = {} as TrustFolderView['maxExpiry'];
  for (const role of TOP_LEVEL_ROLES) {
    const own = policy[role];
    maxExpiry[role] =
      own !== undefined
        ? { period: own.text, source: 'policy.json' }
        : { period: DEFAULT_MAX_EXPIRY[role].text, source: 'default' };
  }
  if (pin === undefined) return { dir, pinned: false, maxExpiry };
  const root = pin.signed.role('root');
  return {
    dir,
    pinned: {
      version: pin.signed.version,
      expires: formatExpires(pin.signed.expires),
      rootFingerprint: roleFingerprint('root', signedSha256(pin)),
      keyids: [...root.keyids],
      threshold: root.threshold,
    },
    maxExpiry,
  };
}

/**
 * Set or clear per-role maxima in the trust folder's policy.json (atomic
 * write; the folder is created when needed). Periods come parsed (`parsePeriod`
 * in the CLI), so a written policy always loads.
 */
export function writeTrustPolicy(
  dir: string,
  set: Partial<Record<TopLevelRole, Period>>,
  reset: readonly TopLevelRole[],
): TrustFolderView {
  const policy = loadTrustPolicy(dir);
  for (const role of reset) delete policy[role];
  for (const [role, period] of Object.entries(set) as [TopLevelRole, Period][]) policy[role] = period;
  const obj = newObject();
  const periods = newObject();
  for (const role of TOP_LEVEL_ROLES) {
    const p = policy[role];
    if (p !== undefined) periods[role] = p.text;
  }
  obj['max_expiry'] = periods;
  writeFileAtomic(join(dir, TRUST_POLICY_FILE), stringifyPretty(obj));
  return describeTrustFolder(dir);
}
