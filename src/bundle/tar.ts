/**
 * The bundle tarball: the release module's deterministic tar (PAX for long or
 * non-ASCII names, so hash-prefixed sha512 target names fit), regular files
 * only, mode 0644, uid/gid 0, empty owner names, mtime 0, entries sorted by
 * path; gzip with mtime 0 and OS "unknown". The same files always give the
 * same bytes (on the same zlib). Read back with the release module's strict reader.
 */
import { gzipSync } from 'node:zlib';
import { gunzipBounded } from '../release/gzip';
import { TufsignError } from '../errors';
import { readFileBounded } from '../io/fs';
import { sha256Hex } from '../io/hash';
import { layoutTar, readTar, writeTarHeaders, type TarMember } from '../release/tar';

/** One file of an upload bundle, to write or read back (a release archive's members are `release/tar`'s `TarEntry`). */
export interface BundleEntry {
  path: string;
  data: Uint8Array;
}

/**
 * A file a bundle takes from disk (a workspace target, as large as a release archive): its length and sha256
 * were read in pieces, and a bundle folder links it, or has the kernel copy it, without holding it.
 */
export interface BundleFileEntry {
  path: string;
  source: string;
  length: number;
  sha256: string;
}

export type BundleItem = BundleEntry | BundleFileEntry;

export function isOnDisk(e: BundleItem): e is BundleFileEntry {
  return 'source' in e;
}

export function itemLength(e: BundleItem): number {
  return isOnDisk(e) ? e.length : e.data.length;
}

/**
 * The bytes of every item, for the one format that holds them all (a `.tar.gz` bundle): a file on disk is read
 * and must still be what was hashed.
 */
export function loadItems(items: readonly BundleItem[]): BundleEntry[] {
  return items.map((e) => {
    if (!isOnDisk(e)) return e;
    const data = readFileBounded(e.source, MAX_BUNDLE_FILE_BYTES);
    if (data.length !== e.length || sha256Hex(data) !== e.sha256)
      throw new TufsignError('IO_ERROR', `${e.source} changed while the bundle was being written`, {
        file: e.source,
        rule: 'a bundle holds the files its manifest lists',
      });
    return { path: e.path, data };
  });
}

/** Largest single file a bundle holds (a release archive; the release tar is bounded below 2 GiB). */
export const MAX_BUNDLE_FILE_BYTES = 0x7fff_ffff;

export function tarBytes(items: readonly BundleItem[]): Buffer {
  const sorted = [...loadItems(items)].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  sorted.forEach((e, i) => {
    if (i > 0 && sorted[i - 1]?.path === e.path)
      throw new TufsignError('BUNDLE_INVALID', `duplicate archive entry ${e.path}`, { rule: 'unique bundle paths' });
  });
  const members: TarMember[] = sorted.map((e): TarMember => ({
    path: e.path,
    type: 'file',
    mode: 0o644,
    size: e.data.length,
  }));
  const layout = layoutTar(members);
  const buf = Buffer.alloc(layout.size);
  writeTarHeaders(buf, members, layout, 0);
  sorted.forEach((e, i) => buf.set(e.data, layout.dataOffsets[i] ?? 0));
  return buf;
}

export function deterministicTarGz(entries: readonly BundleItem[]): Buffer {
  const gz = gzipSync(tarBytes(entries), { level: 9 });
  // gzip header: bytes 4..7 mtime (zlib writes 0), byte 9 OS — fixed to 255 so the host OS does not show.
  gz.writeUInt32LE(0, 4);
  gz[9] = 0xff;
  return gz;
}

/** Read back a bundle tarball strictly (BAD-48 … BAD-52): regular files only, at most `maxTarBytes` once decompressed. */
export function readTarGz(data: Uint8Array, maxTarBytes = 1024 * 1024 * 1024): BundleEntry[] {
  const tar = gunzipBounded(data, maxTarBytes);
  return readTar(tar)
    .filter((e) => e.type === 'file')
    .map((e) => ({ path: e.path, data: Buffer.from(tar.subarray(e.offset, e.offset + e.size)) }));
}
