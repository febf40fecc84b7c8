/**
 * The one home of the name rules (SPEC-22, SPEC-26, BAD-38 … BAD-45): target
 * paths, bundle/archive member names, role names and hash-bin names. The
 * write side (`targets add`, `add-release`, role creation) and the read side
 * (`verify` of a workspace or bundle, archive readers) call the same
 * functions, so anything tufsign refuses to write it also refuses to read.
 * Paths become file names on every platform and URL segments for clients,
 * so tufsign accepts only plain relative `/`-separated paths.
 */
import { TufsignError } from '../errors';

/** NUL, C0 controls and DEL. */
export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Characters that change how a name reads without showing themselves: C1 controls (U+0080–U+009F, e.g. U+0085
 * NEL), bidi marks, embeddings, overrides and isolates (U+202E reorders "gpj.exe"), zero-width and other format
 * characters, line/paragraph separators, the BOM and interlinear annotations (ADR 0019, BAD-65). The one list:
 * the display layer (src/cli/safe-text.ts) escapes these plus C0/DEL, and new target paths may not contain them.
 */
export const INVISIBLE_CHARS =
  '\\u0080-\\u009f\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff\\ufff9-\\ufffb';
const INVISIBLE = new RegExp(`[${INVISIBLE_CHARS}]`, 'u');
/** A UTF-16 surrogate without its partner: not a Unicode character; files and UTF-8 would store U+FFFD instead. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** `U+XXXX` of the first invisible or direction-changing character in `s` and its position, if any. */
export function firstInvisibleChar(s: string): { codePoint: string; index: number } | undefined {
  const m = INVISIBLE.exec(s);
  if (m === null) return undefined;
  const cp = (m[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  return { codePoint: `U+${cp}`, index: [...s.slice(0, m.index)].length };
}

interface Problem {
  why: string;
  rule: string;
}

/** What is wrong with one `/`-free segment of a path, or undefined. */
function segmentProblem(part: string): Problem | undefined {
  if (part === '') return { why: 'has an empty segment', rule: 'BAD-42 no empty segments' };
  if (part === '.' || part === '..') return { why: `has a "${part}" segment`, rule: 'BAD-40 no . or .. segments' };
  return undefined;
}

/** What is wrong with a target path, or undefined when it is safe. */
export function targetPathProblem(path: string): Problem | undefined {
  if (path === '') return { why: 'is empty', rule: 'BAD-42 non-empty path' };
  if (hasControlChar(path))
    return { why: 'contains NUL, newline or control characters', rule: 'BAD-43 no control characters' };
  if (path.includes('\\')) return { why: 'contains a backslash', rule: 'BAD-41/BAD-42 "/" is the only separator' };
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path))
    return { why: 'is absolute or drive-rooted', rule: 'BAD-41 relative paths only' };
  if (path.endsWith('/')) return { why: 'ends with "/"', rule: 'BAD-42 no trailing separator' };
  for (const part of path.split('/')) {
    const p = segmentProblem(part);
    if (p !== undefined) return p;
  }
  if (path.normalize('NFC') !== path) return { why: 'is not in Unicode NFC form', rule: 'BAD-44 NFC names only' };
  if (/^[0-9a-f]{64}\./.test(path.split('/').pop() ?? ''))
    return { why: 'already looks hash-prefixed', rule: 'BAD-45 no consistent-snapshot-like names' };
  return undefined;
}

/** Bytes a file name may have on common filesystems (ext4, APFS, NTFS in UTF-16 units: at most as many). */
const NAME_MAX = 255;
/**
 * The stored copy of a target is `<64 hex>.<name>` under consistent snapshots and is written through a temp file
 * `.<stored name>.<12 hex>.tmp`: 83 bytes more than the name itself.
 */
export const MAX_TARGET_FILE_NAME_BYTES = NAME_MAX - 83;
/** A whole target path: far below PATH_MAX (4096) once a workspace folder is in front of it. */
export const MAX_TARGET_PATH_BYTES = 1024;

/** A path whose stored copy could not be written on every filesystem (BAD-66), or undefined. */
function lengthProblem(path: string): Problem | undefined {
  const rule = 'BAD-66 names that fit every filesystem';
  const total = Buffer.byteLength(path, 'utf8');
  if (total > MAX_TARGET_PATH_BYTES)
    return { why: `is ${total} bytes long (at most ${MAX_TARGET_PATH_BYTES} in UTF-8)`, rule };
  const parts = path.split('/');
  const last = parts.length - 1;
  for (const [i, part] of parts.entries()) {
    const n = Buffer.byteLength(part, 'utf8');
    const max = i === last ? MAX_TARGET_FILE_NAME_BYTES : NAME_MAX;
    if (n > max)
      return {
        why: `has a ${i === last ? 'file name' : 'folder name'} of ${n} bytes (at most ${max} in UTF-8${i === last ? ': the stored copy adds a 64-hex hash prefix' : ''})`,
        rule,
      };
  }
  return undefined;
}

/**
 * The stricter rule for a path tufsign is asked to ADD (ADR 0019): everything `targetPathProblem` refuses, plus
 * characters that make the path read differently from what is signed (BAD-65), lone surrogates, and names too
 * long to store (BAD-66). Paths already in signed metadata are not refused for these: `verify` reports them as
 * notes and every display escapes them.
 */
export function newTargetPathProblem(path: string): Problem | undefined {
  const p = targetPathProblem(path);
  if (p !== undefined) return p;
  if (LONE_SURROGATE.test(path))
    return { why: 'is not valid Unicode (a lone surrogate)', rule: 'BAD-43 valid Unicode names only' };
  const tooLong = lengthProblem(path);
  if (tooLong !== undefined) return tooLong;
  const inv = firstInvisibleChar(path);
  if (inv !== undefined)
    return {
      why: `contains ${inv.codePoint} at character ${inv.index + 1}, an invisible, direction-changing or C1 control character: the path would read differently from what is signed`,
      rule: 'BAD-65 no invisible or bidi characters in new paths',
    };
  return undefined;
}

declare const targetPathBrand: unique symbol;
/**
 * A target path that `parseTargetPath` accepted: plain, relative, `/`-separated, NFC, no controls, no `.`/`..`,
 * not hash-prefixed. Only the parser makes one, so a function taking a `TargetPath` never checks it again.
 */
export type TargetPath = string & { readonly [targetPathBrand]: true };

/** The one way to a `TargetPath`: refuses an unsafe path with PATH_UNSAFE, naming it and the rule. */
export function parseTargetPath(path: string, where = 'target path'): TargetPath {
  const p = targetPathProblem(path);
  if (p !== undefined)
    throw new TufsignError('PATH_UNSAFE', `${where} ${JSON.stringify(path)}: ${p.why}`, { path, rule: p.rule });
  return path as TargetPath;
}

/** `parseTargetPath` for a path being added (targets add, add-release, delegation patterns): `newTargetPathProblem`. */
export function parseNewTargetPath(path: string, where = 'target path'): TargetPath {
  const p = newTargetPathProblem(path);
  if (p !== undefined)
    throw new TufsignError('PATH_UNSAFE', `${where} ${JSON.stringify(path)}: ${p.why}`, { path, rule: p.rule });
  return path as TargetPath;
}

/** A single file or directory name inside a bundle or archive (BAD-40 … BAD-44). */
export function checkMemberName(name: string, relPath: string): void {
  const fail = (why: string, rule: string): never => {
    throw new TufsignError('PATH_UNSAFE', `bundle entry ${JSON.stringify(relPath)}: ${why}`, { path: relPath, rule });
  };
  if (name === '' || name === '.' || name === '..')
    fail('is not a usable name', 'BAD-40/BAD-42 no empty, . or .. names');
  if (hasControlChar(name)) fail('contains NUL, newline or control characters', 'BAD-43 no control characters');
  if (name.includes('\\')) fail('contains a backslash', 'BAD-42 "/" is the only separator');
  if (name.includes('/')) fail('contains "/"', 'BAD-40 plain names');
  if (name.normalize('NFC') !== name) fail('is not in Unicode NFC form', 'BAD-44 NFC names only');
}

/** A relative member path of an archive (no absolute, empty, . or .. segments, controls or backslashes; BAD-48). */
export function isPlainRelativePath(rel: string): boolean {
  return !(
    rel.startsWith('/') ||
    rel.split('/').some((s) => segmentProblem(s) !== undefined) ||
    hasControlChar(rel) ||
    rel.includes('\\')
  );
}

// eslint-disable-next-line no-control-regex -- every ASCII code, control characters included
const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** A folding key under which two paths that a case-insensitive or normalising filesystem would merge collide. */
export function collisionKey(path: string): string {
  // ASCII is its own NFKC form and has no ß: lower case is the whole key (100,000 bundle paths, one regex each).
  if (ASCII_ONLY.test(path)) return path.toLowerCase();
  return path.normalize('NFKC').toLowerCase().replace(/ß/g, 'ss').normalize('NFKC');
}

/** The first two of `paths` that collide after Unicode normalisation or case folding, if any. */
export function findCollision(paths: Iterable<string>): [string, string] | undefined {
  const seen = new Map<string, string>();
  for (const p of paths) {
    const k = collisionKey(p);
    const other = seen.get(k);
    if (other !== undefined && other !== p) return [other, p];
    seen.set(k, p);
  }
  return undefined;
}

/** Throw if any two of `paths` collide after Unicode normalisation or case folding (BAD-44). */
export function checkNoCollisions(paths: Iterable<string>, what = 'target paths'): void {
  const c = findCollision(paths);
  if (c !== undefined) {
    throw new TufsignError(
      'PATH_COLLISION',
      `${what} ${JSON.stringify(c[0])} and ${JSON.stringify(c[1])} collide after case folding or Unicode normalisation`,
      {
        path: c[1],
        rule: 'BAD-44 names must differ on every filesystem',
      },
    );
  }
}

const ROLE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const TOP_LEVEL = new Set(['root', 'targets', 'snapshot', 'timestamp']);

/**
 * Role names: `[a-z0-9-]`, at most 64 characters. A role name becomes a
 * metadata file name and a URL segment; anything else (`/`, `\\`, `..`, `%`,
 * `?`, `#`, controls, non-NFC, case variants) either escapes a folder or is
 * encoded differently by different clients (BAD-38).
 */
export function roleNameProblem(name: string): Problem | undefined {
  if (!ROLE_NAME.test(name))
    return {
      why: 'must use only a-z, 0-9 and "-" (at most 64 characters, no leading or trailing "-")',
      rule: 'BAD-38 portable role names',
    };
  return undefined;
}

/**
 * The floor every reader applies, even to foreign metadata it only loads:
 * a role name must be usable as one file name (no separators, no `..`, no
 * URL metacharacters or controls, NFC). The metadata parser refuses these.
 */
export function roleFileNameProblem(name: string): Problem | undefined {
  if (
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    /[/\\?#%\u0000-\u001f\u007f]/.test(name) ||
    name === '.' ||
    name.includes('..') ||
    name.normalize('NFC') !== name
  ) {
    return { why: 'is not safe as a file name', rule: 'BAD-38 role names become file names' };
  }
  return undefined;
}

/** A delegated role's name: a portable role name that is not a top-level role's (SPEC-26). */
export function delegatedRoleNameProblem(name: string): Problem | undefined {
  if (TOP_LEVEL.has(name))
    return { why: 'is a top-level role name', rule: 'SPEC-26 delegated roles cannot reuse top-level names' };
  return roleNameProblem(name);
}

declare const roleNameBrand: unique symbol;
/**
 * A role name tufsign may create: `[a-z0-9-]`, at most 64 characters (BAD-38). Only `parseRoleName` and
 * `parseDelegatedRoleName` make one. (Names read from foreign metadata only pass the looser file-name floor.)
 */
export type RoleName = string & { readonly [roleNameBrand]: true };

/** The one way to a `RoleName`: refuses anything else with ROLE_INVALID. */
export function parseRoleName(name: string, where = 'role name'): RoleName {
  const p = roleNameProblem(name);
  if (p !== undefined)
    throw new TufsignError('ROLE_INVALID', `${where} ${JSON.stringify(name)} ${p.why}`, { path: name, rule: p.rule });
  return name as RoleName;
}

/** A name for a delegated role or bin tufsign creates: a `RoleName` that no top-level role has (BAD-36, SPEC-26). */
export function parseDelegatedRoleName(name: string): RoleName {
  const role = parseRoleName(name);
  if (TOP_LEVEL.has(name))
    throw new TufsignError('ROLE_INVALID', `${name} is a top-level role name`, { rule: 'BAD-36 delegated role names' });
  return role;
}

declare const roleRefBrand: unique symbol;
/**
 * A name that refers to a role that may already exist (`sign ROLE`, `--role`, `--from`, `delegate remove ROLE`,
 * `key rotate ROLE`): a top-level role's name, or a name that passes the file-name floor every reader applies —
 * an imported repository may hold delegated names tufsign would not create. Only `parseRoleRef` makes one; the use
 * cases then only look it up.
 */
export type RoleRef = string & { readonly [roleRefBrand]: true };

/** Longest role name referred to: `N.NAME.json` must stay one file name (255 bytes) on every file system. */
const ROLE_REF_MAX_BYTES = 200;

/** The one way to a `RoleRef`: refuses empty, unsafe, over-long and top-level case-variant names with ROLE_INVALID. */
export function parseRoleRef(name: string, where = 'role'): RoleRef {
  const refuse = (why: string, rule: string): never => {
    throw new TufsignError('ROLE_INVALID', `${where} ${JSON.stringify(name)} ${why}`, { path: name, rule });
  };
  if (TOP_LEVEL.has(name)) return name as RoleRef;
  if (name === '') refuse('is empty', 'BAD-38 role names become file names');
  if (Buffer.byteLength(name, 'utf8') > ROLE_REF_MAX_BYTES)
    refuse(`is longer than ${ROLE_REF_MAX_BYTES} bytes`, 'BAD-38 role names become file names');
  const unsafe = roleFileNameProblem(name);
  if (unsafe !== undefined) refuse(unsafe.why, unsafe.rule);
  // `Root.json` is `root.json` on a case-insensitive file system: a case variant of a top-level name never refers.
  if (TOP_LEVEL.has(name.toLowerCase()))
    refuse('is a case variant of a top-level role name', 'BAD-38 role names that collide after case folding');
  return name as RoleRef;
}

/** Hash-bin names are `PREFIX-HEX`; the prefix must make every bin name a valid delegated role name (TAP 15 + BAD-38). */
export function binPrefixProblem(prefix: string, bitLength: number): Problem | undefined {
  const suffix = '0'.repeat((2 ** bitLength - 1).toString(16).length);
  return delegatedRoleNameProblem(`${prefix}-${suffix}`);
}
