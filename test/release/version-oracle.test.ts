/**
 * PEP 440 against its reference: Python's `packaging.version.Version` (Debian python3-packaging, which tufup's
 * client also sorts releases with) judges a generated table of version strings. For every string: accepted or
 * not, its normalized spelling, its tufup channel, and its place in the total order must match.
 *
 * The table is generated from a fixed seed, so a failure names a reproducible string. It covers epochs, release
 * segments with zeros and leading zeros, every pre/post/dev spelling and separator, implicit numbers, local
 * segments (numeric vs alphanumeric), case, a leading `v`, surrounding whitespace, and broken variants.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isTufsignError } from '../../src/errors';
import {
  channelOf,
  checkReleaseVersion,
  compareVersions,
  parseVersion,
  type Pep440Version,
} from '../../src/release/version';
import { SYSTEM_PYTHON } from '../helpers/cli';
import { requireComponent } from '../helpers/requirements';

function hasPackaging(): boolean {
  if (!existsSync(SYSTEM_PYTHON)) return false;
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', 'import packaging.version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** mulberry32: a small seeded PRNG, so the table is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function versionTable(seed: number, count: number): string[] {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maybe = (p: number, f: () => string): string => (r() < p ? f() : '');
  const num = (): string => pick(['0', '0', '1', '1', '2', '3', '9', '10', '11', '01', '007', '100', '2024']);
  const sep = (): string => pick(['', '', '.', '-', '_']);
  const out = new Set<string>();
  while (out.size < count) {
    let v = maybe(0.05, () => pick(['v', 'V', ' ', '\t']));
    v += maybe(0.15, () => `${pick(['0', '1', '2', '10'])}!`);
    v += Array.from({ length: 1 + Math.floor(r() * 4) }, num).join('.');
    v += maybe(
      0.5,
      () =>
        sep() +
        pick(['a', 'A', 'alpha', 'b', 'B', 'beta', 'c', 'rc', 'RC', 'pre', 'preview']) +
        maybe(0.8, () => sep() + num()),
    );
    v += maybe(0.3, () =>
      r() < 0.3 ? `-${num()}` : sep() + pick(['post', 'POST', 'rev', 'r']) + maybe(0.8, () => sep() + num()),
    );
    v += maybe(0.3, () => sep() + pick(['dev', 'DEV']) + maybe(0.8, () => sep() + num()));
    v += maybe(
      0.2,
      () =>
        `+${Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(['ubuntu', '1', '2', '10', 'abc', 'ABC', '0', '01', 'a1', 'z'])).join(pick(['.', '-', '_']))}`,
    );
    v += maybe(0.05, () => pick([' ', '\n']));
    // broken variants: packaging must refuse them, and so must we
    if (r() < 0.08)
      v = pick([
        v + '-',
        v + '..1',
        v + '+',
        v + ' beta',
        '.' + v,
        v + '!',
        v.replace(/\d/, 'x'),
        v + '+a..b',
        `1!${v}`,
      ]);
    out.add(v);
  }
  return [...out];
}

const ORACLE = `
import json, sys
from packaging.version import Version, InvalidVersion
items = json.load(sys.stdin)
parsed = []
for s in items:
    try:
        parsed.append(Version(s))
    except InvalidVersion:
        parsed.append(None)
valid = [i for i, v in enumerate(parsed) if v is not None]
valid.sort(key=lambda i: parsed[i])
rank = [None] * len(items)
r, prev = -1, None
for i in valid:
    if prev is None or parsed[i] != prev:
        r += 1
        prev = parsed[i]
    rank[i] = r
json.dump({
    "normalized": [None if v is None else str(v) for v in parsed],
    "channel": [None if v is None else (v.pre[0] if v.pre else "final") for v in parsed],
    "rank": rank,
}, sys.stdout)
`;

interface Oracle {
  normalized: (string | null)[];
  channel: (string | null)[];
  rank: (number | null)[];
}

function ours(items: string[]): Oracle {
  const parsed: (Pep440Version | null)[] = items.map((s) => {
    try {
      return parseVersion(s);
    } catch (e) {
      if (isTufsignError(e, 'VERSION_INVALID')) return null;
      throw e;
    }
  });
  const valid = parsed.flatMap((v, i) => (v === null ? [] : [i]));
  valid.sort((a, b) => compareVersions(parsed[a]!, parsed[b]!));
  const rank: (number | null)[] = items.map(() => null);
  let r = -1;
  let prev: Pep440Version | undefined;
  for (const i of valid) {
    if (prev === undefined || compareVersions(parsed[i]!, prev) !== 0) {
      r++;
      prev = parsed[i]!;
    }
    rank[i] = r;
  }
  return {
    normalized: parsed.map((v) => v?.normalized ?? null),
    channel: parsed.map((v) => (v === null ? null : channelOf(v))),
    rank,
  };
}

describe('Pep440Version is built only by its parser', () => {
  it('a literal cannot pose as a parsed version, and parsed versions are frozen', () => {
    // @ts-expect-error the brand cannot be written in a literal: parseVersion is the only way in
    const forged: Pep440Version = {
      epoch: 0,
      release: [1],
      pre: undefined,
      post: undefined,
      dev: undefined,
      local: undefined,
      normalized: '1',
    };
    expect(forged.normalized).toBe('1');
    const v = parseVersion('1.0rc1');
    expect(Object.isFrozen(v)).toBe(true);
    // a release version is one whose string is already normalized; the type says so
    const r: Pep440Version = checkReleaseVersion('1.0rc1');
    expect(r.normalized).toBe('1.0rc1');
  });
});

const describeIf = requireComponent('python3-packaging (/usr/bin/python3 -c "import packaging")', hasPackaging())
  ? describe
  : describe.skip;

describeIf('PEP 440 versions against Python packaging', () => {
  const table = versionTable(440, 4000);
  let oracle: Oracle;
  let mine: Oracle;
  beforeAll(() => {
    oracle = JSON.parse(
      execFileSync(SYSTEM_PYTHON, ['-c', ORACLE], { input: JSON.stringify(table), maxBuffer: 64 << 20 }).toString(),
    ) as Oracle;
    mine = ours(table);
  });

  it('the table exercises both sides: many valid versions, many equal pairs, and refused strings', () => {
    const valid = oracle.normalized.filter((n) => n !== null).length;
    const distinct = new Set(oracle.rank.filter((x) => x !== null)).size;
    expect(valid).toBeGreaterThan(3000);
    expect(table.length - valid).toBeGreaterThan(150);
    expect(valid - distinct).toBeGreaterThan(100); // spellings of the same version (1.0 == 1.0.0 == v1.0)
  });

  it('accepts and refuses the same strings, and normalizes them the same way', () => {
    const diff = table.flatMap((s, i) =>
      mine.normalized[i] === oracle.normalized[i]
        ? []
        : [{ s, ours: mine.normalized[i], packaging: oracle.normalized[i] }],
    );
    expect(diff).toEqual([]);
  });

  it('puts every version in the same place in the order (equal versions share a place)', () => {
    const diff = table.flatMap((s, i) =>
      mine.rank[i] === oracle.rank[i] ? [] : [{ s, ours: mine.rank[i], packaging: oracle.rank[i] }],
    );
    expect(diff.slice(0, 10)).toEqual([]);
  });

  it('gives the tufup channel packaging gives (version.pre, or final)', () => {
    const diff = table.flatMap((s, i) =>
      mine.channel[i] === oracle.channel[i] ? [] : [{ s, ours: mine.channel[i], packaging: oracle.channel[i] }],
    );
    expect(diff).toEqual([]);
  });

  it('publishes exactly the strings that are already in normalized form', () => {
    const accepted = (s: string): boolean => {
      try {
        return checkReleaseVersion(s).normalized === s;
      } catch {
        return false;
      }
    };
    const diff = table.flatMap((s, i) =>
      accepted(s) === (oracle.normalized[i] === s)
        ? []
        : [{ s, ours: accepted(s), packaging: oracle.normalized[i] === s }],
    );
    expect(diff).toEqual([]);
    expect(table.filter(accepted).length).toBeGreaterThan(200);
  });
});
