/**
 * The reference clients' download limits are part of tufsign's contract: a
 * metadata file over them is unusable (python-tuf raises
 * DownloadLengthMismatchError, tuf-js "Max length reached"), so a change that
 * would write one is refused before anything is signed.
 *
 * python-tuf `UpdaterConfig` and tuf-js 5 `defaultConfig` agree on these
 * numbers; a delegated targets role is capped like top-level targets.
 */
import { TufsignError } from '../errors';
import type { RoleType } from '../tuf/metadata';
export const CLIENT_LIMITS: Record<RoleType, number> = {
  root: 512_000,
  timestamp: 16_384,
  snapshot: 2_000_000,
  targets: 5_000_000,
};

/** At or above this share of its limit a file is reported as near the limit. */
export const NEAR_LIMIT_RATIO = 0.8;

const REMEDY: Record<RoleType, string> = {
  root: 'Use fewer or smaller root keys (each RSA key costs about 1 kB).',
  timestamp: 'Timestamp lists only snapshot.json; fewer timestamp keys keep it small.',
  snapshot: 'Use fewer hash bins (`tufsign delegate bins --count` a smaller power of two) or fewer delegated roles.',
  targets:
    'Delegate part of the paths to another role (`tufsign delegate add`), or spread the targets over hash bins (`tufsign delegate bins`).',
};

export interface SizeFinding {
  file: string;
  role: string;
  type: RoleType;
  size: number;
  limit: number;
  /** size / limit */
  ratio: number;
}

export function sizeFinding(file: string, role: string, type: RoleType, size: number): SizeFinding {
  const limit = CLIENT_LIMITS[type];
  return { file, role, type, size, limit, ratio: size / limit };
}

/** Refuse a file that reference clients would not download. */
export function assertWithinLimit(f: SizeFinding, projected: boolean): void {
  if (f.size <= f.limit) return;
  throw new TufsignError(
    'METADATA_TOO_LARGE',
    `${f.file} would be ${f.size} bytes${projected ? ' once signed' : ''}, over the ${f.limit}-byte limit of TUF clients for ${f.type} metadata; nothing was signed or written`,
    {
      file: f.file,
      rule: 'metadata stays within python-tuf UpdaterConfig / tuf-js defaults',
      suggestion: REMEDY[f.type],
      details: { role: f.role, size: f.size, limit: f.limit },
    },
  );
}

export function isNearLimit(f: SizeFinding): boolean {
  return f.ratio >= NEAR_LIMIT_RATIO;
}
