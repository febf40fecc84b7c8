/**
 * PEP 440 versions, parsed and ordered as Python's `packaging.version.Version`
 * does (tufup sorts releases with it), and the release channel tufup's client
 * filters by.
 */
import { TufsignError } from '../errors';

declare const parsed: unique symbol;
declare const normalizedForm: unique symbol;

/**
 * A PEP 440 version. Only `parseVersion` makes one (the brand cannot be written in a literal), so code that holds
 * a `Pep440Version` never checks the string again.
 */
export interface Pep440Version {
  readonly epoch: number;
  readonly release: readonly number[];
  readonly pre: Readonly<{ label: 'a' | 'b' | 'rc'; n: number }> | undefined;
  readonly post: number | undefined;
  readonly dev: number | undefined;
  readonly local: readonly (number | string)[] | undefined;
  /** The normalized form (`str(Version(v))`). */
  readonly normalized: string;
  readonly [parsed]: true;
}

/** A version spelled in normalized form: the only kind tufsign publishes. Only `checkReleaseVersion` makes one. */
export interface ReleaseVersion extends Pep440Version {
  readonly [normalizedForm]: true;
}

// packaging's VERSION_PATTERN.
const PATTERN = new RegExp(
  '^\\s*v?(?:(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?' +
    '(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?)' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\\s*$',
  'i',
);

function num(s: string | undefined): number {
  const v = Number(s ?? '0');
  if (!Number.isSafeInteger(v))
    throw new TufsignError('VERSION_INVALID', `version component ${s} is too large`, { rule: 'PEP 440' });
  return v;
}

export function parseVersion(input: string): Pep440Version {
  const m = PATTERN.exec(input);
  const g = m?.groups;
  if (g === undefined) {
    throw new TufsignError('VERSION_INVALID', `${JSON.stringify(input)} is not a PEP 440 version`, {
      rule: 'PEP 440 versions (tufup sorts releases with packaging.version)',
      suggestion: 'use a version such as 1.2.0, 1.2.0rc1 or 1.2.0.post1',
    });
  }
  const epoch = num(g['epoch']);
  const release = g['release']!.split('.').map((x) => num(x));
  let pre: Pep440Version['pre'];
  if (g['pre_l'] !== undefined) {
    const l = g['pre_l'].toLowerCase();
    const label = l === 'alpha' || l === 'a' ? 'a' : l === 'beta' || l === 'b' ? 'b' : 'rc';
    pre = { label, n: num(g['pre_n']) };
  }
  const post = g['post'] === undefined ? undefined : num(g['post_n1'] ?? g['post_n2']);
  const dev = g['dev'] === undefined ? undefined : num(g['dev_n']);
  const local = g['local']
    ?.toLowerCase()
    .split(/[-_.]/)
    .map((s) => (/^[0-9]+$/.test(s) ? num(s) : s));
  let normalized = `${epoch !== 0 ? `${epoch}!` : ''}${release.join('.')}`;
  if (pre !== undefined) normalized += `${pre.label}${pre.n}`;
  if (post !== undefined) normalized += `.post${post}`;
  if (dev !== undefined) normalized += `.dev${dev}`;
  if (local !== undefined) normalized += `+${local.join('.')}`;
  const fields: Omit<Pep440Version, typeof parsed> = { epoch, release, pre, post, dev, local, normalized };
  return Object.freeze(fields) as Pep440Version;
}

/**
 * A release version as tufsign accepts it: PEP 440 and already in normalized
 * form, so that `APP-VERSION.tar.gz` parses back unambiguously with tufup's
 * `^(?P<name>[\w-]+)-(?P<version>.+)(\.tar\.gz|\.patch)$` and every tool
 * spells it the same way.
 */
export function checkReleaseVersion(input: string): ReleaseVersion {
  const v = parseVersion(input);
  if (v.normalized !== input) {
    throw new TufsignError('VERSION_INVALID', `version ${JSON.stringify(input)} is not in normalized PEP 440 form`, {
      rule: 'normalized PEP 440 versions',
      suggestion: `use ${v.normalized}`,
      details: { normalized: v.normalized },
    });
  }
  return v as ReleaseVersion;
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Order as packaging's `_cmpkey`. */
export function compareVersions(a: Pep440Version, b: Pep440Version): number {
  if (a.epoch !== b.epoch) return cmp(a.epoch, b.epoch);
  const ra = trimZeros(a.release);
  const rb = trimZeros(b.release);
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    if (i >= ra.length) return -1;
    if (i >= rb.length) return 1;
    if (ra[i] !== rb[i]) return cmp(ra[i]!, rb[i]!);
  }
  const c = cmp(preKey(a), preKey(b));
  if (c !== 0) return c;
  if (a.pre !== undefined && b.pre !== undefined && a.pre.label === b.pre.label && a.pre.n !== b.pre.n)
    return cmp(a.pre.n, b.pre.n);
  if (a.post !== b.post) return cmp(a.post ?? -Infinity, b.post ?? -Infinity);
  if (a.dev !== b.dev) return cmp(a.dev ?? Infinity, b.dev ?? Infinity);
  return compareLocal(a.local, b.local);
}

function trimZeros(r: readonly number[]): readonly number[] {
  let end = r.length;
  while (end > 0 && r[end - 1] === 0) end--;
  return r.slice(0, end);
}

/** Pre-release rank: dev-only releases sort before any pre-release; finals after. */
function preKey(v: Pep440Version): number {
  if (v.pre === undefined) return v.post === undefined && v.dev !== undefined ? -1 : 3;
  return v.pre.label === 'a' ? 0 : v.pre.label === 'b' ? 1 : 2;
}

function compareLocal(a: Pep440Version['local'], b: Pep440Version['local']): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    // Numeric segments sort after alphanumeric ones.
    if (typeof x === 'number' && typeof y === 'number') return cmp(x, y);
    if (typeof x === 'number') return 1;
    if (typeof y === 'number') return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

export function compareVersionStrings(a: string, b: string): number {
  return compareVersions(parseVersion(a), parseVersion(b));
}

export type Channel = 'final' | 'rc' | 'b' | 'a';

/**
 * tufup's channel: the pre-release letter, or `final`. Like tufup's client
 * (`not version.pre`), dev- and post-only releases count as final.
 */
export function channelOf(v: Pep440Version): Channel {
  return v.pre?.label ?? 'final';
}

/** Whether a client following `channel` (tufup's `pre=None|'a'|'b'|'rc'`) would install `v`. */
export function channelIncludes(channel: Channel, v: Pep440Version): boolean {
  const c = channelOf(v);
  if (c === 'final') return true;
  const included: Record<Channel, string[]> = { final: [], a: ['a', 'b', 'rc'], b: ['b', 'rc'], rc: ['rc'] };
  return included[channel].includes(c);
}

const APP_NAME = /^[A-Za-z0-9_-]+$/;

/** tufup's app names: letters, digits, `_` and `-` (the name part of its filename regex). */
export function checkAppName(name: string): void {
  if (!APP_NAME.test(name) || name.length > 128) {
    throw new TufsignError(
      'RELEASE_INVALID',
      `app name ${JSON.stringify(name)} must be 1-128 letters, digits, "_" or "-"`,
      {
        rule: 'tufup app names ([A-Za-z0-9_-]+)',
      },
    );
  }
}

export const ARCHIVE_SUFFIX = '.tar.gz';
export const PATCH_SUFFIX = '.patch';

export function archiveName(app: string, version: string): string {
  return `${app}-${version}${ARCHIVE_SUFFIX}`;
}

export function patchName(app: string, version: string): string {
  return `${app}-${version}${PATCH_SUFFIX}`;
}

export interface ParsedTargetName {
  app: string;
  version: Pep440Version;
  kind: 'archive' | 'patch';
}

const TARGET_NAME = /^(?<name>[\w-]+)-(?<version>.+)(?<suffix>\.tar\.gz|\.patch)$/;

/** Parse a target path as tufup does; undefined for anything that is not a release file. */
export function parseTargetName(path: string): ParsedTargetName | undefined {
  const m = TARGET_NAME.exec(path);
  const g = m?.groups;
  if (g === undefined || !/^[A-Za-z0-9_-]+$/.test(g['name']!)) return undefined;
  try {
    return {
      app: g['name']!,
      version: parseVersion(g['version']!),
      kind: g['suffix'] === ARCHIVE_SUFFIX ? 'archive' : 'patch',
    };
  } catch {
    return undefined;
  }
}
