/**
 * A bundle written as one `.tar.gz` (ADR 0017), opened for `verify` and `publish`: read strictly (regular files
 * and folders under `./` only, no links, no `..`, no duplicates; decompression capped) and unpacked into a
 * private temp folder, where it is checked exactly like a bundle folder. Nothing is written next to the tarball.
 */
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { makePrivateTempDir, pathKind, readFileBounded, removeTree, writeFileAtomic } from '../io/fs';
import { createGunzip } from 'node:zlib';
import { gunzipBounded } from '../release/gzip';
import { readTar } from '../release/tar';
import { BUNDLE_MANIFEST, parseManifest } from './manifest';
import { declaredLengths, expectedTarSize, MAX_MANIFEST_BYTES } from './verify';

/** Largest bundle tarball accepted, compressed and unpacked (a bigger bundle is written as a folder). */
export const MAX_BUNDLE_TAR_BYTES = 2 * 1024 * 1024 * 1024;
/**
 * A bundle holds compressed archives, patches and JSON: it never expands much. A tarball that claims to expand
 * more than this many times its own size is refused before it is decompressed (a gzip bomb with a lying manifest).
 */
const MAX_EXPANSION = 64;
/** More files than any bundle holds (every target of a release plus metadata); stops entry floods. */
const MAX_BUNDLE_ENTRIES = 200_000;
const EXPANSION_FLOOR = 64 * 1024 * 1024;

/** A path names a bundle tarball when it is a regular file ending in `.tar.gz`. */
export function isBundleTarball(path: string): boolean {
  return /\.tar\.gz$/i.test(path) && pathKind(path) === 'file';
}

export interface OpenedBundle {
  /** the folder to check or publish: the path given, or the temp folder the tarball was unpacked into */
  dir: string;
  /** what the user named */
  given: string;
  tarball: boolean;
  close(): void;
}

/** The first `n` decompressed bytes, decompressing no more than that. */
function gunzipPrefix(gz: Uint8Array, n: number, file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let have = 0;
    const z = createGunzip({ chunkSize: 64 * 1024 });
    const done = (): void => {
      z.destroy();
      resolve(Buffer.concat(parts).subarray(0, n));
    };
    z.on('data', (c: Buffer) => {
      parts.push(c);
      have += c.length;
      if (have >= n) done();
    });
    z.on('end', done);
    z.on('error', (cause) =>
      reject(
        new TufsignError('ARCHIVE_INVALID', `${file} is not valid gzip: ${cause.message}`, {
          file,
          rule: 'gzip archives',
          cause,
        }),
      ),
    );
    z.end(gz);
  });
}

/**
 * How large the tar may be: BUNDLE.json is the tarball's first member (entries are sorted, upper case first), so
 * it is read from the first bytes alone; the tar tufsign would write for the files it declares is the cap.
 */
async function declaredTarSize(gz: Uint8Array, file: string): Promise<number> {
  const head = await gunzipPrefix(gz, 512 + MAX_MANIFEST_BYTES + 512, file);
  const first = head.length >= 512 ? readTar(head, { maxEntries: 1, firstOnly: true })[0] : undefined;
  if (first?.path !== BUNDLE_MANIFEST || first.type !== 'file')
    throw new TufsignError('BUNDLE_INVALID', `${file} does not start with ${BUNDLE_MANIFEST}`, {
      file,
      rule: 'a bundle tarball starts with its manifest',
    });
  const bytes = head.subarray(first.offset, first.offset + first.size);
  return expectedTarSize(declaredLengths(parseManifest(bytes), bytes.length));
}

/** Open BUNDLE (a folder or a `.tar.gz`); call `close()` when done. Anything else is returned as given. */
export async function openBundle(path: string): Promise<OpenedBundle> {
  if (!isBundleTarball(path)) return { dir: path, given: path, tarball: false, close: () => undefined };
  const gz = readFileBounded(path, MAX_BUNDLE_TAR_BYTES);
  const cap = await declaredTarSize(gz, path);
  if (cap > MAX_BUNDLE_TAR_BYTES || cap > Math.max(EXPANSION_FLOOR, gz.length * MAX_EXPANSION))
    throw new TufsignError('FILE_TOO_LARGE', `${path} declares ${cap} bytes once unpacked, more than allowed`, {
      file: path,
      rule: `BAD-51 a bundle tarball expands at most ${MAX_EXPANSION}× and to at most ${MAX_BUNDLE_TAR_BYTES} bytes`,
      suggestion: 'Write such a bundle as a folder (a --bundle-out path not ending in .tar.gz).',
    });
  const tar = gunzipBounded(gz, cap, path);
  const entries = readTar(tar, { maxEntries: MAX_BUNDLE_ENTRIES });
  const dir = makePrivateTempDir('tufsign-bundle-');
  try {
    for (const e of entries) {
      if (e.type !== 'file') continue; // folders are implied by the files' paths
      writeFileAtomic(join(dir, e.path), tar.subarray(e.offset, e.offset + e.size));
    }
  } catch (e) {
    removeTree(dir);
    throw e;
  }
  return { dir, given: path, tarball: true, close: () => removeTree(dir) };
}
