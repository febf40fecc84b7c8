/**
 * A bundle written as one `.tar.gz` (ADR 0017), opened for `verify` and `publish`: read strictly (regular files
 * and folders under `./` only, no links, no `..`, no duplicates; decompression capped) and unpacked into a
 * private temp folder, where it is checked exactly like a bundle folder. Nothing is written next to the tarball.
 * The tarball is read in pieces and unpacked as it streams: memory does not grow with its size.
 */
import { dirname, join } from 'node:path';
import { TufsignError } from '../errors';
import { ensureDir, makePrivateTempDir, pathKind, removeTree } from '../io/fs';
import { AtomicFileWriter, readPiecesBounded } from '../io/stream-file';
import { expandTarGz } from '../release/archive-stream';
import { createStrictGunzip } from '../release/gunzip-strict';
import { readTar, TarStreamReader, type TarMemberDigest, type TarMemberSink } from '../release/tar';
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

/** The first `n` decompressed bytes of the tarball, decompressing (and reading) no more than that. */
function gunzipPrefix(file: string, n: number): Promise<Buffer> {
  const { stream } = readPiecesBounded(file, MAX_BUNDLE_TAR_BYTES, 64 * 1024);
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let have = 0;
    const z = createStrictGunzip({ file, chunkSize: 64 * 1024 });
    let settled = false;
    const stop = (): void => {
      settled = true;
      stream.destroy();
      z.destroy();
    };
    const done = (): void => {
      if (settled) return;
      stop();
      resolve(Buffer.concat(parts).subarray(0, n));
    };
    z.on('data', (c: Buffer) => {
      parts.push(c);
      have += c.length;
      if (have >= n) done();
    });
    z.on('end', done);
    z.on('error', (cause) => {
      if (settled) return;
      stop();
      reject(
        cause instanceof TufsignError
          ? cause
          : new TufsignError('ARCHIVE_INVALID', `${file} is not valid gzip: ${cause.message}`, {
              file,
              rule: 'gzip archives',
              cause,
            }),
      );
    });
    stream.on('error', (cause) => {
      if (settled) return;
      stop();
      reject(new TufsignError('IO_ERROR', `could not read ${file}: ${cause.message}`, { file, cause }));
    });
    stream.pipe(z);
  });
}

/**
 * How large the tar may be: BUNDLE.json is the tarball's first member (entries are sorted, upper case first), so
 * it is read from the first bytes alone; the tar tufsign would write for the files it declares is the cap.
 */
async function declaredTarSize(file: string): Promise<number> {
  const head = await gunzipPrefix(file, 512 + MAX_MANIFEST_BYTES + 512);
  const first = head.length >= 512 ? readTar(head, { maxEntries: 1, firstOnly: true })[0] : undefined;
  if (first?.path !== BUNDLE_MANIFEST || first.type !== 'file')
    throw new TufsignError('BUNDLE_INVALID', `${file} does not start with ${BUNDLE_MANIFEST}`, {
      file,
      rule: 'a bundle tarball starts with its manifest',
    });
  const bytes = head.subarray(first.offset, first.offset + first.size);
  return expectedTarSize(declaredLengths(parseManifest(bytes), bytes.length));
}

/**
 * Each file of the tar written into `dir` as its data streams past (a member at a time, in 1 MiB pieces). A write
 * that fails is kept, not thrown, so that a fault of the tar itself, found later, is the one reported (as when
 * the tar was checked whole before anything was written).
 */
class Unpacker implements TarMemberSink {
  private file: AtomicFileWriter | undefined;
  fault: TufsignError | undefined;

  constructor(private readonly dir: string) {}

  member(m: TarMemberDigest): void {
    this.finish();
    if (m.type !== 'file' || this.fault !== undefined) return; // folders are implied by the files' paths
    this.attempt(() => {
      const path = join(this.dir, m.path);
      ensureDir(dirname(path));
      this.file = new AtomicFileWriter(path, 0o644);
    });
  }

  data(piece: Uint8Array): void {
    if (this.file !== undefined) this.attempt(() => this.file?.write(piece));
  }

  /** The last member is complete: put it in place. */
  finish(): void {
    const file = this.file;
    this.file = undefined;
    if (file !== undefined) this.attempt(() => file.commit(), file);
  }

  private attempt(step: () => void, file = this.file): void {
    try {
      step();
    } catch (cause) {
      file?.abort();
      this.file = undefined;
      this.fault ??=
        cause instanceof TufsignError
          ? cause
          : new TufsignError('IO_ERROR', `could not unpack the bundle: ${(cause as Error).message}`, { cause });
    }
  }

  abort(): void {
    this.file?.abort();
    this.file = undefined;
  }
}

/** Open BUNDLE (a folder or a `.tar.gz`); call `close()` when done. Anything else is returned as given. */
export async function openBundle(path: string): Promise<OpenedBundle> {
  if (!isBundleTarball(path)) return { dir: path, given: path, tarball: false, close: () => undefined };
  // Read in pieces, never held (ADR 0005, "Memory bound"): the manifest from the first bytes, then one pass.
  const { size, stream } = readPiecesBounded(path, MAX_BUNDLE_TAR_BYTES);
  let unpacker: Unpacker | undefined;
  let dir: string | undefined;
  try {
    const cap = await declaredTarSize(path);
    if (cap > MAX_BUNDLE_TAR_BYTES || cap > Math.max(EXPANSION_FLOOR, size * MAX_EXPANSION))
      throw new TufsignError('FILE_TOO_LARGE', `${path} declares ${cap} bytes once unpacked, more than allowed`, {
        file: path,
        rule: `BAD-51 a bundle tarball expands at most ${MAX_EXPANSION}× and to at most ${MAX_BUNDLE_TAR_BYTES} bytes`,
        suggestion: 'Write such a bundle as a folder (a --bundle-out path not ending in .tar.gz).',
      });
    dir = makePrivateTempDir('tufsign-bundle-');
    unpacker = new Unpacker(dir);
    await expandTarGz(stream, {
      maxTarBytes: cap,
      file: path,
      reader: new TarStreamReader(MAX_BUNDLE_ENTRIES, unpacker),
    });
    unpacker.finish();
    if (unpacker.fault !== undefined) throw unpacker.fault;
  } catch (e) {
    stream.destroy();
    unpacker?.abort();
    if (dir !== undefined) removeTree(dir);
    throw e;
  }
  const unpacked = dir;
  return { dir: unpacked, given: path, tarball: true, close: () => removeTree(unpacked) };
}
