/**
 * The TUF specification's file naming rules, pure: what a client requests for a role's metadata (SPEC-35,
 * SPEC-37: `N.ROLE.json` with consistent snapshots, root always versioned, timestamp never) and for a target
 * (`DIR/HASH.NAME`, one name per hash, with consistent snapshots).
 */

/** File name of a role's metadata (SPEC-35, SPEC-37: timestamp always unversioned). */
export function metadataFileName(role: string, version: number, consistent: boolean): string {
  if (role === 'timestamp') return 'timestamp.json';
  if (role === 'root' || consistent) return `${version}.${role}.json`;
  return `${role}.json`;
}

/** A root's versioned file name, `N.root.json`: every root version is kept under it (SPEC-37). */
export function rootFileName(version: number): string {
  return metadataFileName('root', version, true);
}

/** File names a target is stored under: `dir/HASH.name` per hash when consistent, else the path itself. */
export function targetFileNames(path: string, hashes: ReadonlyMap<string, string>, consistent: boolean): string[] {
  if (!consistent) return [path];
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
  const name = path.slice(dir.length);
  return [...hashes.values()].map((h) => `${dir}${h}.${name}`);
}
