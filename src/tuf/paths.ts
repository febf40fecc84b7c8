/**
 * Target-path and role-name safety (SPEC-22, SPEC-26, BAD-38 … BAD-45).
 * Paths become file names on every platform and URL segments for clients,
 * so tufsign accepts only plain relative `/`-separated paths.
 */
import { TufsignError } from '../errors';

export function checkTargetPath(path: string, where = 'target path'): void {
  const fail = (why: string, rule: string): never => {
    throw new TufsignError('PATH_UNSAFE', `${where} ${JSON.stringify(path)}: ${why}`, { path, rule });
  };
  if (path === '') fail('is empty', 'BAD-42 non-empty path');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(path)) fail('contains NUL, newline or control characters', 'BAD-43 no control characters');
  if (path.includes('\\')) fail('contains a backslash', 'BAD-41/BAD-42 "/" is the only separator');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) fail('is absolute or drive-rooted', 'BAD-41 relative paths only');
  if (path.endsWith('/')) fail('ends with "/"', 'BAD-42 no trailing separator');
  for (const part of path.split('/')) {
    if (part === '') fail('has an empty segment', 'BAD-42 no empty segments');
    if (part === '.' || part === '..') fail(`has a "${part}" segment`, 'BAD-40 no . or .. segments');
  }
  if (path.normalize('NFC') !== path) fail('is not in Unicode NFC form', 'BAD-44 NFC names only');
  if (/^[0-9a-f]{64}\./.test(path.split('/').pop() ?? '')) fail('already looks hash-prefixed', 'BAD-45 no consistent-snapshot-like names');
}

/** A folding key under which two paths that a case-insensitive or normalising filesystem would merge collide. */
export function collisionKey(path: string): string {
  return path.normalize('NFKC').toLowerCase().replace(/ß/g, 'ss').normalize('NFKC');
}

/** Throw if any two of `paths` collide after Unicode normalisation or case folding (BAD-44). */
export function checkNoCollisions(paths: Iterable<string>, what = 'target paths'): void {
  const seen = new Map<string, string>();
  for (const p of paths) {
    const k = collisionKey(p);
    const other = seen.get(k);
    if (other !== undefined && other !== p) {
      throw new TufsignError('PATH_COLLISION', `${what} ${JSON.stringify(other)} and ${JSON.stringify(p)} collide after case folding or Unicode normalisation`, {
        path: p,
        rule: 'BAD-44 names must differ on every filesystem',
      });
    }
    seen.set(k, p);
  }
}

const ROLE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** Role names tufsign creates: `[a-z0-9-]` (URL-encoding differs between clients, BAD-38). */
export function checkNewRoleName(name: string): void {
  if (!ROLE_NAME.test(name)) {
    throw new TufsignError('ROLE_INVALID', `role name ${JSON.stringify(name)} must use only a-z, 0-9 and "-"`, { rule: 'BAD-38 portable role names' });
  }
}
