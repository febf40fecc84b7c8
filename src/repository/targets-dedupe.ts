/**
 * `targets dedupe`: an old workspace (before ADR 0017) stored a target with two hashes as two full copies, one
 * per hash-prefixed name, and its release bundle folders as more copies. This keeps one copy and makes every
 * other name a hard link to it — only where each file's bytes match the hash its name claims, and only between
 * files whose bytes are compared equal. Every swap is atomic (link under a temp name, rename), so a run killed
 * at any moment leaves every name readable with its bytes, and the next run finishes the job.
 */
import { join } from 'node:path';
import { hashRegularFile, linkIdenticalCopy, type InodeHashes } from '../io/link-copies';
import { listNames, pathKind, removeFileQuietly } from '../io/fs';
import { listRegularFiles } from '../io/tree';
import type { Workspace } from './workspace';

/** `HASH.NAME` as consistent snapshots store a target: sha256 (64 hex digits) or sha512 (128). */
const HASH_PREFIXED = /^([0-9a-f]{64}|[0-9a-f]{128})\.(.+)$/;
/** Temp names this tool's atomic writes and links use; a killed run may leave them behind. */
const LEFTOVER_TEMP = /^\..+\.[0-9a-f]{12}\.tmp$/;

export interface DedupeResult {
  dryRun: boolean;
  /** names checked: hash-prefixed files that share their target name with another stored file */
  checked: number;
  /** names turned into hard links (or that would be, under --dry-run) */
  linked: number;
  /** names that already shared one copy */
  alreadyLinked: number;
  /** bytes no longer stored twice: copies whose last name became a link */
  bytesFreed: number;
  /** files whose bytes do not match the hash in their name: never linked, left as they are */
  mismatched: string[];
  /** names left as copies because the filesystem refused a hard link */
  unsupported: string[];
  /** temp files an interrupted write left in targets/, removed */
  leftoversRemoved: number;
}

interface Stored {
  /** path relative to the workspace, for reports */
  shown: string;
  full: string;
  /** the algorithm the name claims */
  algorithm: 'sha256' | 'sha512';
  claimed: string;
  /** the workspace's own copy named by sha256: what clients request, kept first */
  rank: number;
  hashes?: InodeHashes;
}

/** Every folder holding stored targets: the workspace's, then each release bundle folder's. */
function targetRoots(ws: Workspace): { dir: string; shown: string; own: boolean }[] {
  const roots = [{ dir: ws.targetsDir, shown: 'targets', own: true }];
  const bundles = join(ws.dir, 'bundles');
  for (const name of listNames(bundles).sort()) {
    if (name.startsWith('.')) continue; // a staging folder of an unfinished write
    const dir = join(bundles, name, 'targets');
    if (pathKind(dir) === 'directory') roots.push({ dir, shown: `bundles/${name}/targets`, own: false });
  }
  return roots;
}

export function dedupeTargets(ws: Workspace, options: { dryRun?: boolean } = {}): DedupeResult {
  const dryRun = options.dryRun === true;
  const result: DedupeResult = {
    dryRun,
    checked: 0,
    linked: 0,
    alreadyLinked: 0,
    bytesFreed: 0,
    mismatched: [],
    unsupported: [],
    leftoversRemoved: 0,
  };
  const groups = new Map<string, Stored[]>();
  for (const root of targetRoots(ws)) {
    if (pathKind(root.dir) !== 'directory') continue;
    for (const rel of listRegularFiles(root.dir)) {
      const slash = rel.lastIndexOf('/');
      const folder = rel.slice(0, slash + 1);
      const base = rel.slice(slash + 1);
      if (root.own && LEFTOVER_TEMP.test(base)) {
        if (!dryRun) removeFileQuietly(join(root.dir, rel));
        result.leftoversRemoved++;
        continue;
      }
      const m = HASH_PREFIXED.exec(base);
      if (m === null) continue;
      const claimed = m[1] ?? '';
      const algorithm = claimed.length === 64 ? 'sha256' : 'sha512';
      const key = `${folder}${m[2] ?? ''}`;
      const list = groups.get(key) ?? [];
      list.push({
        shown: `${root.shown}/${rel}`,
        full: join(root.dir, rel),
        algorithm,
        claimed,
        rank: (root.own ? 0 : 2) + (algorithm === 'sha256' ? 0 : 1),
      });
      groups.set(key, list);
    }
  }
  /** names relinked away from each copy's inode: its bytes are freed when that reaches its link count */
  const relinked = new Map<string, number>();
  for (const list of groups.values()) {
    if (list.length < 2) continue;
    // Each name must hold the bytes its hash claims; a file that does not is never linked or linked to.
    const verified: Stored[] = [];
    for (const s of list) {
      result.checked++;
      const h = hashRegularFile(s.full, ['sha256', 'sha512']);
      if (h === undefined || h.digests[s.algorithm] !== s.claimed) {
        result.mismatched.push(s.shown);
        continue;
      }
      s.hashes = h;
      verified.push(s);
    }
    // Same target name, different content (two versions of a file): grouped by content, never linked across.
    const byContent = new Map<string, Stored[]>();
    for (const s of verified) {
      const id = `${s.hashes?.digests['sha256']}:${s.hashes?.digests['sha512']}:${s.hashes?.length}`;
      byContent.set(id, [...(byContent.get(id) ?? []), s]);
    }
    for (const same of byContent.values()) {
      same.sort((a, b) => a.rank - b.rank || a.shown.localeCompare(b.shown));
      const [keep, ...copies] = same;
      if (keep === undefined) continue;
      for (const copy of copies) {
        if (copy.hashes?.ino === keep.hashes?.ino && copy.hashes?.dev === keep.hashes?.dev) {
          result.alreadyLinked++;
          continue;
        }
        const outcome = dryRun ? 'linked' : linkIdenticalCopy(keep.full, copy.full);
        if (outcome === 'linked') {
          result.linked++;
          const inode = `${copy.hashes?.dev}:${copy.hashes?.ino}`;
          const n = (relinked.get(inode) ?? 0) + 1;
          relinked.set(inode, n);
          if (n === copy.hashes?.nlink) result.bytesFreed += copy.hashes.length;
        } else if (outcome === 'already-linked') result.alreadyLinked++;
        else if (outcome === 'unsupported') result.unsupported.push(copy.shown);
        else result.mismatched.push(copy.shown); // changed under us since it was hashed: left alone
      }
    }
  }
  return result;
}
