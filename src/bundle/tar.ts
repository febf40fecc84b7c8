/**
 * The bundle tarball: the release module's deterministic tar (PAX for long or
 * non-ASCII names, so hash-prefixed sha512 target names fit), regular files
 * only, mode 0644, uid/gid 0, empty owner names, mtime 0, entries sorted by
 * path; gzip with mtime 0 and OS "unknown". The same files always give the
 * same bytes (on the same zlib). Read back with the release module's strict reader.
 */
import { createHash } from 'node:crypto';
import { createGzip, gzipSync } from 'node:zlib';
import { gunzipBounded } from '../release/gzip';
import { TufsignError } from '../errors';
import { readFileBounded } from '../io/fs';
import { readPieces } from '../io/stream-file';
import { sha256Hex } from '../io/hash';
import { layoutTar, memberHeader, readTar, writeTarHeaders, type TarMember } from '../release/tar';

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

/** The items in tar order (sorted by path), each path once. */
function sortedItems<T extends BundleItem>(items: readonly T[]): T[] {
  const sorted = [...items].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  sorted.forEach((e, i) => {
    if (i > 0 && sorted[i - 1]?.path === e.path)
      throw new TufsignError('BUNDLE_INVALID', `duplicate archive entry ${e.path}`, { rule: 'unique bundle paths' });
  });
  return sorted;
}

const member = (e: BundleItem): TarMember => ({ path: e.path, type: 'file', mode: 0o644, size: itemLength(e) });

export function tarBytes(items: readonly BundleItem[]): Buffer {
  const sorted = loadItems(sortedItems(items));
  const members = sorted.map(member);
  const layout = layoutTar(members);
  const buf = Buffer.alloc(layout.size);
  writeTarHeaders(buf, members, layout, 0);
  sorted.forEach((e, i) => buf.set(e.data, layout.dataOffsets[i] ?? 0));
  return buf;
}

/** gzip header: bytes 4..7 mtime (zlib writes 0), byte 9 OS — fixed to 255 so the host OS does not show. */
function fixGzipHeader(gz: Buffer, at = 0): void {
  for (let i = Math.max(4, at); i < Math.min(8, at + gz.length); i++) gz[i - at] = 0;
  if (at <= 9 && at + gz.length > 9) gz[9 - at] = 0xff;
}

export function deterministicTarGz(entries: readonly BundleItem[]): Buffer {
  const gz = gzipSync(tarBytes(entries), { level: 9 });
  fixGzipHeader(gz);
  return gz;
}

/**
 * The bytes of `deterministicTarGz(items)`, produced piece by piece for `sink` (a bundle tarball written to a
 * file, or hashed): a file on disk is read in 1 MiB pieces and must still be what was hashed; only a piece and
 * zlib's state are held, whatever the bundle's size. `onItem` is called after each item.
 */
export async function streamTarGz(
  items: readonly BundleItem[],
  sink: (piece: Buffer) => void,
  onItem?: (item: BundleItem) => void,
): Promise<void> {
  const sorted = sortedItems(items);
  const members = sorted.map(member);
  const layout = layoutTar(members);
  const gz = createGzip({ level: 9 });
  let out = 0;
  let failure: unknown;
  gz.on('data', (piece: Buffer) => {
    if (out < 10) fixGzipHeader(piece, out);
    out += piece.length;
    sink(piece);
  });
  const ended = new Promise<void>((resolve, reject) => {
    gz.on('end', resolve);
    gz.on('error', reject);
  });
  ended.catch((cause: unknown) => (failure = cause));
  const put = (bytes: Uint8Array): Promise<void> =>
    new Promise((resolve) => {
      if (gz.write(bytes)) resolve();
      else gz.once('drain', resolve);
    });
  let at = 0;
  try {
    for (const [i, e] of sorted.entries()) {
      const header = memberHeader(members[i]!, 0);
      await put(header);
      at += header.length;
      if (!isOnDisk(e)) await put(e.data);
      else await putFile(e, put);
      at += itemLength(e);
      const pad = (512 - (at % 512)) % 512;
      if (pad > 0) await put(Buffer.alloc(pad));
      at += pad;
      if (failure !== undefined) break;
      onItem?.(e);
    }
    if (at < layout.size) await put(Buffer.alloc(layout.size - at));
  } catch (cause) {
    gz.destroy();
    throw cause;
  }
  gz.end();
  await ended;
}

/** A file on disk into the tar in 1 MiB pieces: it must still have the length and sha256 it was listed with. */
async function putFile(e: BundleFileEntry, put: (bytes: Uint8Array) => Promise<void>): Promise<void> {
  const changed = (): TufsignError =>
    new TufsignError('IO_ERROR', `${e.source} changed while the bundle was being written`, {
      file: e.source,
      rule: 'a bundle holds the files its manifest lists',
    });
  const hash = createHash('sha256');
  let length = 0;
  try {
    for await (const piece of readPieces(e.source)) {
      const bytes = piece as Buffer;
      length += bytes.length;
      if (length > e.length) throw changed();
      hash.update(bytes);
      await put(bytes);
    }
  } catch (cause) {
    if (cause instanceof TufsignError) throw cause;
    throw new TufsignError('IO_ERROR', `could not read ${e.source}: ${(cause as Error).message}`, {
      file: e.source,
      cause,
    });
  }
  if (length !== e.length || hash.digest('hex') !== e.sha256) throw changed();
}

/** Read back a bundle tarball strictly (BAD-48 … BAD-52): regular files only, at most `maxTarBytes` once decompressed. */
export function readTarGz(data: Uint8Array, maxTarBytes = 1024 * 1024 * 1024): BundleEntry[] {
  const tar = gunzipBounded(data, maxTarBytes);
  return readTar(tar)
    .filter((e) => e.type === 'file')
    .map((e) => ({ path: e.path, data: Buffer.from(tar.subarray(e.offset, e.offset + e.size)) }));
}
