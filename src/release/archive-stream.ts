/**
 * A release archive streamed from the bundle folder to a file: scan → tar →
 * gzip → hashes in one pass, holding a few 4 MiB blocks whatever the folder's
 * size (docs/adr/0005, "Memory bound"). The bytes are those of
 * `gzipDeterministic(buildTar(...))`: the same tar layout, the same gzip blocks.
 * Used when no patch is built (a first release, `--no-patch`), since a patch
 * needs the whole tar in memory anyway.
 */
import { createHash, type Hash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { TufsignError } from '../errors';
import { AtomicFileWriter, readPieces } from '../io/stream-file';
import { TARGET_HASH_ALGORITHMS } from '../tuf/metadata';
import { GZIP_BLOCK, GzipBlockStream } from './gzip';
import type { ProgressCallback } from './progress';
import { openScannedFile, scanBundle } from './scan';
import { layoutTar, memberHeader } from './tar';

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
   * `threads` blocks are still being compressed, so the buffer `threads + 1`
   * blocks back (and the dictionary it gave) is free again. Fresh buffers per
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
    private readonly gz: GzipBlockStream,
    threads: number,
  ) {
    this.ring = Array.from({ length: Math.max(1, threads) + 2 }, () => Buffer.alloc(GZIP_BLOCK));
    this.block = this.ring[0]!;
  }

  /** Room left in the current block, and where it starts. */
  room(): { buf: Buffer; at: number; n: number } {
    return { buf: this.block, at: this.fill, n: Math.min(GZIP_BLOCK - this.fill, this.size - this.written) };
  }

  /** `n` bytes were put at `room().at`. */
  async advance(n: number): Promise<void> {
    this.fill += n;
    this.written += n;
    if (this.fill === GZIP_BLOCK || this.written === this.size) {
      const full = this.fill === GZIP_BLOCK ? this.block : this.block.subarray(0, this.fill);
      this.sha.update(full);
      const last = this.written === this.size;
      await this.gz.push(full, last);
      this.block = this.ring[++this.blocks % this.ring.length]!;
      this.block.fill(0); // padding is skipped over, not written
      this.fill = 0;
    }
  }

  async put(bytes: Buffer): Promise<void> {
    for (let at = 0; at < bytes.length;) {
      const room = this.room();
      if (room.n === 0) throw new TufsignError('INTERNAL', 'tar longer than its layout');
      const n = Math.min(room.n, bytes.length - at);
      bytes.copy(room.buf, room.at, at, at + n);
      at += n;
      await this.advance(n);
    }
  }

  /** Zeros (padding), without copying anything: the blocks start zero-filled. */
  async skip(n: number): Promise<void> {
    while (n > 0) {
      const k = Math.min(this.room().n, n);
      if (k === 0) throw new TufsignError('INTERNAL', 'tar longer than its layout');
      n -= k;
      await this.advance(k);
    }
  }

  get position(): number {
    return this.written;
  }
}

/**
 * Stream the archive of `dir` to `path`. Every bundle file is checked as in
 * `readBundleFiles` (BAD-46), and the written archive is read back and must
 * expand to the tar that was hashed.
 */
export async function streamArchive(options: {
  dir: string;
  releaseTime: number;
  path: string;
  threads: number;
  maxTarBytes: number;
  onProgress?: ProgressCallback | undefined;
}): Promise<StreamedArchive> {
  const { dir, releaseTime, path, onProgress } = options;
  const members = scanBundle(dir, onProgress);
  const layout = layoutTar(members);
  if (layout.size > options.maxTarBytes) {
    throw new TufsignError(
      'RELEASE_INVALID',
      `the bundle makes a ${layout.size}-byte tar; tufsign handles up to ${options.maxTarBytes}`,
      { file: dir, rule: 'bounded release size' },
    );
  }
  const out = new AtomicFileWriter(path);
  const hashes: [string, Hash][] = TARGET_HASH_ALGORITHMS.map((alg) => [alg, createHash(alg)]);
  let length = 0;
  try {
    const gz = new GzipBlockStream((piece) => {
      out.write(piece);
      for (const [, h] of hashes) h.update(piece);
      length += piece.length;
    }, options.threads);
    const tar = new TarBlocks(layout.size, gz, options.threads);
    const total = members.reduce((s, m) => s + m.size, 0);
    let done = 0;
    let files = 0;
    onProgress?.({ stage: 'compress', done: 0, total: layout.size });
    for (const [i, m] of members.entries()) {
      await tar.put(memberHeader(m, releaseTime));
      if (m.type !== 'file') continue;
      if (tar.position !== layout.dataOffsets[i]) throw new TufsignError('INTERNAL', 'tar layout mismatch');
      // Read straight into the current block; a full block goes to gzip between reads.
      const file = openScannedFile(dir, m);
      try {
        for (let got = 0; got < m.size;) {
          const room = tar.room();
          const n = file.read(room.buf, room.at, Math.min(room.n, m.size - got));
          got += n;
          await tar.advance(n);
        }
        file.checkEnded();
      } finally {
        file.close();
      }
      await tar.skip((512 - (m.size % 512)) % 512);
      done += m.size;
      files += 1;
      onProgress?.({ stage: 'read', done, total, files });
    }
    await tar.skip(layout.size - tar.position);
    out.close();
    onProgress?.({ stage: 'compress', done: layout.size, total: layout.size });
    const tarSha = tar.sha.digest('hex');
    // Re-read what was written (practice 13): the archive must expand to exactly the tar that was hashed.
    onProgress?.({ stage: 'verify', done: 0, total: length });
    if ((await gunzipSha256Of(readPieces(out.tempPath), options.maxTarBytes)) !== tarSha)
      throw new TufsignError('INTERNAL', 'the archive does not expand to the tar that was built');
    onProgress?.({ stage: 'verify', done: length, total: length });
    out.commit();
    return {
      path,
      length,
      hashes: new Map(hashes.map(([alg, h]) => [alg, h.digest('hex')])),
      tar: { sha256: tarSha, size: layout.size },
      files,
    };
  } catch (e) {
    out.abort();
    throw e;
  }
}

/** SHA-256 of what a gzip stream expands to, expanded in pieces (BAD-51 bound). */
function gunzipSha256Of(input: Readable, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let total = 0;
    const z = createGunzip({ chunkSize: 1 << 20 });
    const fail = (cause: Error): void => {
      input.destroy();
      z.destroy();
      reject(cause);
    };
    z.on('data', (piece: Buffer) => {
      total += piece.length;
      if (total > max) fail(new TufsignError('INTERNAL', `the archive expands to more than ${max} bytes`));
      else h.update(piece);
    });
    z.on('end', () => resolve(h.digest('hex')));
    z.on('error', fail);
    input.on('error', fail);
    input.pipe(z);
  });
}
