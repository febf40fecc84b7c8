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
import { layoutTar, readTar, writeTarHeaders, type TarMember } from '../release/tar';

/** One file of an upload bundle, to write or read back (a release archive's members are `release/tar`'s `TarEntry`). */
export interface BundleEntry {
  path: string;
  data: Uint8Array;
  /** a file that already holds exactly `data` (a workspace target): a bundle folder links it instead of copying */
  source?: string;
}

export function tarBytes(entries: readonly BundleEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  sorted.forEach((e, i) => {
    if (i > 0 && sorted[i - 1]?.path === e.path)
      throw new TufsignError('BUNDLE_INVALID', `duplicate archive entry ${e.path}`, { rule: 'unique bundle paths' });
  });
  const members: TarMember[] = sorted.map((e) => ({ path: e.path, type: 'file', mode: 0o644, size: e.data.length }));
  const layout = layoutTar(members);
  const buf = Buffer.alloc(layout.size);
  writeTarHeaders(buf, members, layout, 0);
  sorted.forEach((e, i) => buf.set(e.data, layout.dataOffsets[i] ?? 0));
  return buf;
}

export function deterministicTarGz(entries: readonly BundleEntry[]): Buffer {
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
