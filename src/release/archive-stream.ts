/**
 * A release archive streamed from the bundle folder to a file: scan → tar →
 * gzip → hashes in one pass, holding a few 4 MiB blocks whatever the folder's
 * size (docs/adr/0005, "Memory bound"). The bytes are those of
 * `gzipDeterministic(buildTar(...))`: the same tar layout, the same gzip blocks.
 * With a patch to build, the tar is also copied to a file as it passes
 * (`tarCopy`), for the patch engine to read a member at a time.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createStrictGunzip } from './gunzip-strict';
import { TufsignError } from '../errors';
import { AtomicFileWriter, ScratchFileWriter, readPieces } from '../io/stream-file';
import { TARGET_HASH_ALGORITHMS } from '../tuf/metadata';
import { GZIP_BLOCK, GzipBlockStream, blocksInFlight } from './gzip';
import type { ProgressCallback } from './progress';
import { openScannedFile, scanBundle, type ScannedMember } from './scan';
import { layoutTar, memberHeader, TarStreamReader, type TarLayout, type TarMemberDigest } from './tar';

export interface StreamedArchive {
  /** The archive file (written atomically: a temporary name, then renamed). */
  path: string;
  length: number;
  /** Archive hashes, TARGET_HASH_ALGORITHMS. */
  hashes: Map<string, string>;
  tar: { sha256: string; size: number };
  files: number;
}

/** The tar, cut into the gzip stream's 4 MiB blocks as it is produced. */
class TarBlocks {
  /**
   * A ring of block buffers: `GzipBlockStream.push` returns once fewer than
   * `blocksInFlight(threads)` blocks are still being compressed, so the buffer
   * that many + 1 blocks back (and the dictionary it gave) is free again. Fresh buffers per
   * block would pile up as garbage outside the heap, out of the collector's sight.
   */
  private readonly ring: Buffer[];
  private blocks = 0;
  private block: Buffer;
  private fill = 0;
  private written = 0;
  readonly sha = createHash('sha256');

  constructor(
    private readonly size: number,
    /** Takes each full block (and the short last one); the block is not reused until `blocksInFlight(threads) + 1` blocks later. */
    private readonly gz: { push: (block: Buffer, last: boolean) => Promise<void> },
    threads: number,
    /** Also gets every block (a copy of the tar for the patch engine). */
    private readonly copy?: (block: Buffer) => void,
  ) {
    this.ring = Array.from({ length: blocksInFlight(threads) + 2 }, () => Buffer.alloc(GZIP_BLOCK));
    this.block = this.ring[0]!;
  }

  /** Room left in the current block, and where it starts. */
  room(): { buf: Buffer; at: number; n: number } {
    return { buf: this.block, at: this.fill, n: Math.min(GZIP_BLOCK - this.fill, this.size - this.written) };
  }

  /**
   * `n` bytes were put at `room().at`. Only a full block (or the last one) goes on to gzip, and only then is
   * there something to wait for: otherwise nothing is returned, so the caller does not pay a promise per call
   * (a header, a small file and its padding are three calls for each of 100,000 small files).
   */
  advance(n: number): Promise<void> | undefined {
    this.fill += n;
    this.written += n;
    if (this.fill === GZIP_BLOCK || this.written === this.size) return this.pushBlock();
    return undefined;
  }

  private async pushBlock(): Promise<void> {
    const full = this.fill === GZIP_BLOCK ? this.block : this.block.subarray(0, this.fill);
    this.sha.update(full);
    this.copy?.(full);
    const last = this.written === this.size;
    await this.gz.push(full, last);
    this.block = this.ring[++this.blocks % this.ring.length]!;
    this.block.fill(0); // padding is skipped over, not written
    this.fill = 0;
  }

  /** Copy `bytes` in; a promise only when a block went on to gzip (see `advance`). */
  put(bytes: Buffer): Promise<void> | undefined {
    for (let at = 0; at < bytes.length;) {
      const room = this.room();
      if (room.n === 0) throw new TufsignError('INTERNAL', 'tar longer than its layout');
      const n = Math.min(room.n, bytes.length - at);
      bytes.copy(room.buf, room.at, at, at + n);
      at += n;
      const pushed = this.advance(n);
      if (pushed !== undefined) return at < bytes.length ? pushed.then(() => this.put(bytes.subarray(at))) : pushed;
    }
    return undefined;
  }

  /** Zeros (padding), without copying anything: the blocks start zero-filled. A promise as for `put`. */
  skip(n: number): Promise<void> | undefined {
    while (n > 0) {
      const k = Math.min(this.room().n, n);
      if (k === 0) throw new TufsignError('INTERNAL', 'tar longer than its layout');
      n -= k;
      const pushed = this.advance(k);
      if (pushed !== undefined) return n > 0 ? pushed.then(() => this.skip(n)) : pushed;
    }
    return undefined;
  }

  get position(): number {
    return this.written;
  }
}

/** Options of `streamArchive`. */
export interface StreamArchiveOptions {
  dir: string;
  releaseTime: number;
  path: string;
  threads: number;
  maxTarBytes: number;
  tarCopy?: string | undefined;
  onProgress?: ProgressCallback | undefined;
}

/**
 * Stream the archive of `dir` to `path`. Every bundle file is checked as in
 * `readBundleFiles` (BAD-46), and the written archive is read back and must
 * expand to the tar that was hashed. With `tarCopy`, the tar is also written
 * to that (new) file; the caller removes it.
 */
export async function streamArchive(options: StreamArchiveOptions): Promise<StreamedArchive> {
  const { archive, checked } = await streamArchiveUnchecked(options);
  await checked;
  return archive;
}

/** The folder scanned and laid out as a tar, refused before any byte is read when the tar would pass the bound. */
export function scanBounded(
  dir: string,
  maxTarBytes: number,
  onProgress: ProgressCallback | undefined,
): { members: ScannedMember[]; layout: TarLayout } {
  const members = scanBundle(dir, onProgress);
  const layout = layoutTar(members);
  if (layout.size > maxTarBytes) {
    throw new TufsignError(
      'RELEASE_INVALID',
      `the bundle makes a ${layout.size}-byte tar; tufsign handles up to ${maxTarBytes}`,
      { file: dir, rule: 'bounded release size' },
    );
  }
  return { members, layout };
}

/**
 * `streamArchive` whose read-back check runs on in the background: `archive` is known when the last block is
 * written, the file is at `path` only once `checked` resolves (it rejects, and nothing is left at `path`, when
 * the archive does not expand to the tar). So the check overlaps the caller's next step (the patch). The caller
 * must await `checked` whatever happens.
 */
export async function streamArchiveUnchecked(
  options: StreamArchiveOptions,
): Promise<{ archive: StreamedArchive; checked: Promise<void> }> {
  const { dir, releaseTime, path, onProgress } = options;
  const { members, layout } = scanBounded(dir, options.maxTarBytes, onProgress);
  const copy = options.tarCopy === undefined ? undefined : new ScratchFileWriter(options.tarCopy);
  try {
    let files = 0;
    const { checked, ...written } = await hashingArchiveWriter(path, options, async (gz) => {
      const tar = new TarBlocks(layout.size, gz, options.threads, copy?.write);
      onProgress?.({ stage: 'compress', done: 0, total: layout.size });
      files = await putMembers(tar, dir, members, layout, releaseTime, onProgress);
      onProgress?.({ stage: 'compress', done: layout.size, total: layout.size });
      return tar.sha.digest('hex');
    });
    return { archive: { ...written, tar: { sha256: written.tarSha256, size: layout.size }, files }, checked };
  } finally {
    copy?.close();
  }
}

/**
 * The archive at `path`, written atomically by `produce` through a gzip stream, hashed (TARGET_HASH_ALGORITHMS)
 * as it is written, then read back: it must expand to the tar whose sha256 `produce` returns (practice 13). The
 * read-back and the commit are `checked`, which never rejects unhandled.
 */
async function hashingArchiveWriter(
  path: string,
  options: { threads: number; maxTarBytes: number; onProgress?: ProgressCallback | undefined },
  produce: (gz: GzipBlockStream) => Promise<string>,
): Promise<{ path: string; length: number; hashes: Map<string, string>; tarSha256: string; checked: Promise<void> }> {
  const out = new AtomicFileWriter(path);
  const hashes: [string, Hash][] = TARGET_HASH_ALGORITHMS.map((alg) => [alg, createHash(alg)]);
  let length = 0;
  let tarSha256: string;
  try {
    const gz = new GzipBlockStream((piece) => {
      out.write(piece);
      for (const [, h] of hashes) h.update(piece);
      length += piece.length;
    }, options.threads);
    tarSha256 = await produce(gz);
    out.close();
  } catch (e) {
    out.abort();
    throw e;
  }
  const checked = (async (): Promise<void> => {
    try {
      options.onProgress?.({ stage: 'verify', done: 0, total: length });
      if ((await gunzipSha256Of(readPieces(out.tempPath), options.maxTarBytes)) !== tarSha256)
        throw new TufsignError('INTERNAL', 'the archive does not expand to the tar that was built');
      options.onProgress?.({ stage: 'verify', done: length, total: length });
      out.commit();
    } catch (e) {
      out.abort();
      throw e;
    }
  })();
  checked.catch(() => undefined); // the caller awaits it; this only keeps it from being reported unhandled meanwhile
  return { path, length, hashes: new Map(hashes.map(([alg, h]) => [alg, h.digest('hex')])), tarSha256, checked };
}

/** Every member into `tar`: headers, file bytes read straight into the current block, padding, the end blocks. */
async function putMembers(
  tar: TarBlocks,
  dir: string,
  members: readonly ScannedMember[],
  layout: TarLayout,
  releaseTime: number,
  onProgress: ProgressCallback | undefined,
): Promise<number> {
  const total = members.reduce((s, m) => s + m.size, 0);
  let done = 0;
  let files = 0;
  for (const [i, m] of members.entries()) {
    // `put`, `advance` and `skip` return a promise only when a block went on to gzip: awaited only then.
    const header = tar.put(memberHeader(m, releaseTime));
    if (header !== undefined) await header;
    if (m.type !== 'file') continue;
    if (tar.position !== layout.dataOffsets[i]) throw new TufsignError('INTERNAL', 'tar layout mismatch');
    // Read straight into the current block; a full block goes on between reads.
    const file = openScannedFile(dir, m);
    try {
      let ended = false;
      for (let got = 0; got < m.size;) {
        const room = tar.room();
        const need = Math.min(room.n, m.size - got);
        // The rest of the file fits in this block with a byte to spare: ask for one byte more, so that a short
        // read shows the end of the file without a second read (a longer one: the file grew, BAD-46). The spare
        // byte is the padding or the next header's first byte, and is overwritten or refused either way.
        const spare = need === m.size - got && room.at + need < room.buf.length ? 1 : 0;
        const n = file.read(room.buf, room.at, need + spare);
        if (n > need) throw file.changed('grew');
        if (spare === 1 && n === need) ended = true;
        got += n;
        const pushed = tar.advance(n);
        if (pushed !== undefined) await pushed;
      }
      if (!ended) file.checkEnded();
    } finally {
      file.close();
    }
    const padding = tar.skip((512 - (m.size % 512)) % 512);
    if (padding !== undefined) await padding;
    done += m.size;
    files += 1;
    onProgress?.({ stage: 'read', done, total, files });
  }
  await tar.skip(layout.size - tar.position);
  return files;
}

/**
 * The tar `dir` makes with `releaseTime`, hashed as it is produced and never held: its sha256, size and file
 * count (a published release checked against its folder without rebuilding it in memory).
 */
export async function streamTarDigest(options: {
  dir: string;
  releaseTime: number;
  maxTarBytes: number;
  onProgress?: ProgressCallback | undefined;
}): Promise<{ sha256: string; size: number; files: number }> {
  const members = scanBundle(options.dir, options.onProgress);
  const layout = layoutTar(members);
  if (layout.size > options.maxTarBytes) return { sha256: '', size: layout.size, files: 0 }; // cannot match
  const tar = new TarBlocks(layout.size, { push: () => Promise.resolve() }, 1);
  const files = await putMembers(tar, options.dir, members, layout, options.releaseTime, options.onProgress);
  return { sha256: tar.sha.digest('hex'), size: layout.size, files };
}

/**
 * What a stored archive expands to, read in pieces: the tar's sha256 and, when its first member is a plain
 * ustar header (as every tufsign and tufup archive's root folder is), that member's mtime — the release time.
 */
export async function archiveTarDigest(
  path: string,
  maxTarBytes: number,
): Promise<{ sha256: string; firstMtime: number | undefined }> {
  let head = Buffer.alloc(0);
  const sha256 = await gunzipSha256Of(readPieces(path), maxTarBytes, (piece) => {
    if (head.length < 512) head = Buffer.concat([head, piece.subarray(0, 512 - head.length)]);
  });
  const plain = head.length === 512 && /^[05]$/.test(String.fromCharCode(head[156] ?? 0));
  const field = head
    .subarray(136, 148)
    .toString('latin1')
    .replace(/[\0 ]+$/, '');
  return { sha256, firstMtime: plain && /^[0-7]{1,11}$/.test(field) ? parseInt(field, 8) : undefined };
}

/** SHA-256 of what a gzip stream expands to, expanded in pieces (BAD-51 bound). */
function gunzipSha256Of(input: Readable, max: number, peek?: (piece: Buffer) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let total = 0;
    const z = createStrictGunzip({ chunkSize: 1 << 20 });
    const fail = (cause: Error): void => {
      input.destroy();
      z.destroy();
      reject(cause);
    };
    z.on('data', (piece: Buffer) => {
      total += piece.length;
      if (total > max) fail(new TufsignError('INTERNAL', `the archive expands to more than ${max} bytes`));
      else {
        h.update(piece);
        peek?.(piece);
      }
    });
    z.on('end', () => resolve(h.digest('hex')));
    z.on('error', fail);
    input.on('error', fail);
    input.pipe(z);
  });
}

/**
 * The previous release's archive at `path`, expanded to the new file `tarPath` in pieces (the patch engine reads
 * it a member at a time). `want` is its signed target info: the archive is hashed before it is expanded, and again
 * as it is expanded, so the tar comes from exactly the bytes clients have.
 */
export async function expandArchiveTo(options: {
  path: string;
  tarPath: string;
  maxTarBytes: number;
  want?: { length: number; sha256: string | undefined } | undefined;
}): Promise<void> {
  const { path, want } = options;
  const mismatch = (): TufsignError =>
    new TufsignError('ARCHIVE_INVALID', 'the previous release archive does not match its signed target info', {
      file: path,
      rule: 'patch only from the bytes clients have',
      suggestion: 'restore the published archive, or use --no-patch',
    });
  const hashOf = (input: Readable): Promise<{ length: number; sha256: string }> =>
    new Promise((resolve, reject) => {
      const h = createHash('sha256');
      let length = 0;
      input.on('data', (piece: Buffer) => {
        h.update(piece);
        length += piece.length;
      });
      input.on('end', () => resolve({ length, sha256: h.digest('hex') }));
      input.on('error', reject);
    });
  const matches = (got: { length: number; sha256: string }): boolean =>
    want === undefined || (got.length === want.length && (want.sha256 === undefined || got.sha256 === want.sha256));
  let input: Readable;
  try {
    if (!matches(await hashOf(readPieces(path)))) throw mismatch();
    input = readPieces(path);
  } catch (cause) {
    if (cause instanceof TufsignError) throw cause;
    throw new TufsignError('TARGET_NOT_FOUND', `the previous release archive ${path} cannot be read`, {
      file: path,
      suggestion: 'put the published archive back in targets/, or use --no-patch',
      cause,
    });
  }
  const copy = new ScratchFileWriter(options.tarPath);
  try {
    const read = hashOf(input);
    read.catch(() => undefined); // awaited below
    try {
      await gunzipSha256Of(input, options.maxTarBytes, copy.write);
    } catch (cause) {
      // the strict reader's own rule (BAD-67, a bad header or trailer) is kept; other faults are the size bound's
      const rule = cause instanceof TufsignError ? cause.rule : undefined;
      throw new TufsignError('ARCHIVE_INVALID', `the previous release archive cannot be expanded`, {
        file: path,
        rule: rule ?? 'gzip archives; BAD-51 bounded uncompressed size',
        cause,
      });
    }
    if (!matches(await read)) throw mismatch();
  } finally {
    copy.close();
  }
}

/** A release archive as `release verify` compares it, read in pieces and never held. */
export interface ArchiveDigest {
  /** sha256 and length of the gzip file */
  sha256: string;
  length: number;
  /** sha256 and size of the tar it expands to */
  tarSha256: string;
  tarSize: number;
  /** every member, checked by the strict reader (BAD-48 … BAD-52), its data hashed */
  members: TarMemberDigest[];
}

/** What `expandTarGz` read: the gzip file's length, the tar's size, and the members the strict reader passed. */
export interface ExpandedTarGz {
  length: number;
  tarSize: number;
  members: TarMemberDigest[];
}

/**
 * A `.tar.gz` read in pieces (a file's `readPieces`): expanded (at most `maxTarBytes`, BAD-51) and its tar fed
 * to `reader` (the strict rules, BAD-48 … BAD-52) as it comes; `onGz` and `onTar` see every piece (to hash it;
 * `onGz` may throw to stop). Holds ~1 MiB pieces and one header at a time. Faults are reported as reading the
 * archive whole reported them: a gzip fault or the size bound first — after a tar fault the expansion goes on
 * (bounded) to find one — then the tar's.
 */
export function expandTarGz(
  input: Readable,
  options: {
    maxTarBytes: number;
    reader: TarStreamReader;
    file?: string | undefined;
    onGz?: (piece: Buffer) => void;
    onTar?: (piece: Buffer) => void;
  },
): Promise<ExpandedTarGz> {
  const { maxTarBytes, reader, file, onGz, onTar } = options;
  return new Promise((resolve, reject) => {
    let length = 0;
    let tarSize = 0;
    let tarFault: Error | undefined;
    const z = createStrictGunzip({ file, chunkSize: 1 << 20 });
    let failed = false;
    const fail = (cause: unknown): void => {
      if (failed) return;
      failed = true;
      input.destroy();
      z.destroy();
      reject(cause instanceof Error ? cause : new TufsignError('INTERNAL', String(cause)));
    };
    const invalid = (message: string, rule: string, cause?: unknown): void =>
      fail(new TufsignError('ARCHIVE_INVALID', message, { file, rule, cause }));
    input.on('data', (piece: Buffer) => {
      length += piece.length;
      try {
        onGz?.(piece);
      } catch (cause) {
        fail(cause);
      }
    });
    z.on('data', (piece: Buffer) => {
      if (failed) return;
      tarSize += piece.length;
      if (tarSize > maxTarBytes)
        return invalid(`archive expands to more than ${maxTarBytes} bytes`, 'BAD-51 bounded uncompressed size');
      onTar?.(piece);
      if (tarFault !== undefined) return;
      try {
        reader.push(piece);
      } catch (cause) {
        tarFault = cause instanceof Error ? cause : new TufsignError('INTERNAL', String(cause));
      }
    });
    z.on('end', () => {
      if (failed) return;
      try {
        if (tarFault !== undefined) throw tarFault;
        resolve({ length, tarSize, members: reader.end() });
      } catch (cause) {
        fail(cause);
      }
    });
    z.on('error', (cause: Error) =>
      cause instanceof TufsignError
        ? fail(cause)
        : invalid(`archive is not valid gzip: ${cause.message}`, 'gzip archives', cause),
    );
    input.on('error', (cause: Error) =>
      fail(
        new TufsignError('IO_ERROR', `could not read ${file ?? 'the archive'}: ${cause.message}`, {
          file,
          cause,
        }),
      ),
    );
    input.pipe(z);
  });
}

/**
 * A published archive read in pieces (a file's `readPieces`, or one buffer): hashed, expanded (BAD-51 bound),
 * its tar checked member by member and each member's data hashed. Holds ~1 MiB pieces and one header at a time.
 */
export async function readArchiveDigest(input: Readable, maxTarBytes: number, file?: string): Promise<ArchiveDigest> {
  const gz = createHash('sha256');
  const tar = createHash('sha256');
  const r = await expandTarGz(input, {
    maxTarBytes,
    file,
    reader: new TarStreamReader(),
    onGz: (piece) => gz.update(piece),
    onTar: (piece) => tar.update(piece),
  });
  return {
    sha256: gz.digest('hex'),
    length: r.length,
    tarSha256: tar.digest('hex'),
    tarSize: r.tarSize,
    members: r.members,
  };
}

/**
 * The archive `dir` makes with `releaseTime`, compressed and hashed as it is produced and never written or held:
 * the rebuilt side of `release verify` (the same blocks, tar layout and file checks as `streamArchive`).
 */
export async function rebuildArchiveDigest(options: {
  dir: string;
  releaseTime: number;
  threads: number;
  maxTarBytes: number;
  onProgress?: ProgressCallback | undefined;
}): Promise<ArchiveDigest & { files: number }> {
  const { dir, onProgress } = options;
  const { members, layout } = scanBounded(dir, options.maxTarBytes, onProgress);
  const gzHash = createHash('sha256');
  let length = 0;
  const gz = new GzipBlockStream((piece) => {
    gzHash.update(piece);
    length += piece.length;
  }, options.threads);
  const reader = new TarStreamReader();
  const tar = new TarBlocks(layout.size, gz, options.threads, (block) => reader.push(block));
  const files = await putMembers(tar, dir, members, layout, options.releaseTime, onProgress);
  return {
    sha256: gzHash.digest('hex'),
    length,
    tarSha256: tar.sha.digest('hex'),
    tarSize: layout.size,
    members: reader.end(),
    files,
  };
}
