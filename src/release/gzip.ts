/**
 * Deterministic, parallel gzip.
 *
 * The tar is cut into fixed 4 MiB blocks; each block is deflated on the libuv
 * thread pool with the previous 32 KiB as its dictionary and ends with a sync
 * flush (the last one with a final block), and the pieces are concatenated
 * into one deflate stream — the technique of pigz. The output depends only on
 * the input, the block size, the level and the zlib build, never on timing or
 * thread count, and it uses every core. The header is fixed (MTIME 0, no
 * FNAME, XFL 0, OS 255), so it carries nothing about the host. `verifyRelease`
 * compares the tar separately, so a different zlib build is reported as such
 * (docs/adr/0005).
 */
import { createHash } from 'node:crypto';
import { deflateRaw as deflateRawCb, constants, crc32 } from 'node:zlib';
import { createStrictGunzip, gunzipStrictSync } from './gunzip-strict';
import { promisify } from 'node:util';
import { TufsignError } from '../errors';

export const GZIP_LEVEL = 6;
export const GZIP_BLOCK = 4 << 20;
const WINDOW = 32 << 10;
const deflateRaw = promisify(deflateRawCb);

const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);

/** One block of the deflate stream: `dictionary` is the 32 KiB of input before it (none for the first block). */
function deflateBlock(block: Buffer, dictionary: Buffer | undefined, last: boolean): Promise<Buffer> {
  return deflateRaw(block, {
    level: GZIP_LEVEL,
    memLevel: 8,
    windowBits: 15,
    strategy: constants.Z_DEFAULT_STRATEGY,
    finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
    // Room for the whole output in one piece: the block is compressed in one go on the thread pool instead of
    // returning to the main thread every 16 KiB of output (a busy main thread then stalled every compression).
    chunkSize: block.length + (block.length >> 3) + (64 << 10),
    ...(dictionary !== undefined ? { dictionary } : {}),
  });
}

/**
 * Compress on the thread pool (in parallel blocks, at most `threads` at a
 * time), so the caller can work meanwhile. The bytes do not depend on `threads`.
 */
export async function gzipDeterministic(data: Uint8Array, threads = 4): Promise<Buffer> {
  const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const starts: number[] = [];
  for (let at = 0; at < input.length || at === 0; at += GZIP_BLOCK) {
    starts.push(at);
    if (at + GZIP_BLOCK >= input.length) break;
  }
  const block = (at: number): Promise<Buffer> => {
    const end = Math.min(input.length, at + GZIP_BLOCK);
    const dictionary = at > 0 ? input.subarray(Math.max(0, at - WINDOW), at) : undefined;
    return deflateBlock(input.subarray(at, end), dictionary, end === input.length);
  };
  const jobs = new Array<Buffer>(starts.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < starts.length) {
      const i = next++;
      jobs[i] = await block(starts[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, threads) }, lane));
  return Buffer.concat([HEADER, ...jobs, trailer(crc32(input), input.length)]);
}

function trailer(crc: number, length: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt32LE(crc >>> 0, 0);
  out.writeUInt32LE(length % 2 ** 32, 4);
  return out;
}

/**
 * Blocks `GzipBlockStream` lets compress at once with `threads` threads: one more than the threads, so that a
 * thread whose block finished early starts the next one instead of waiting for the oldest block (blocks are
 * written in order); one thread compresses one block at a time.
 */
export function blocksInFlight(threads: number): number {
  return threads > 1 ? threads + 1 : 1;
}

/**
 * The same bytes as `gzipDeterministic`, for input that arrives block by
 * block and output that leaves piece by piece (an archive streamed to a file):
 * at most `blocksInFlight(threads)` blocks are held and compressed at once.
 */
export class GzipBlockStream {
  private readonly pending: Promise<Buffer>[] = [];
  private previous: Buffer | undefined;
  private crc = 0;
  private length = 0;
  private ended = false;

  /** `sink` receives the output in order; it may be called again only after it returned. */
  constructor(
    private readonly sink: (piece: Buffer) => void,
    private readonly threads: number,
  ) {
    sink(HEADER);
  }

  /**
   * Add the next block of input: exactly GZIP_BLOCK bytes, except the last one
   * (`last`), which may be shorter. The block must not change afterwards.
   */
  async push(block: Buffer, last: boolean): Promise<void> {
    if (this.ended) throw new TufsignError('INTERNAL', 'gzip stream already ended');
    if (!last && block.length !== GZIP_BLOCK) throw new TufsignError('INTERNAL', 'gzip block of the wrong size');
    const dictionary = this.previous?.subarray(this.previous.length - WINDOW);
    const job = deflateBlock(block, dictionary, last);
    job.catch(() => undefined); // awaited in order below
    this.pending.push(job);
    this.crc = crc32(block, this.crc);
    this.length += block.length;
    this.previous = block;
    this.ended = last;
    while (this.pending.length >= blocksInFlight(this.threads) || (last && this.pending.length > 0))
      this.sink(await this.pending.shift()!);
    if (last) this.sink(trailer(this.crc, this.length));
  }
}

/** Decompress an archive: one gzip member, nothing after it (BAD-67), at most `max` bytes of output (BAD-51). */
export function gunzipBounded(data: Uint8Array, max: number, file?: string): Buffer {
  return gunzipStrictSync(data, max, file);
}

/** Stream `data` through gunzip, handing each piece to `sink`; refuses more than `max` bytes (BAD-51). */
function gunzipEach(
  data: Uint8Array,
  max: number,
  file: string | undefined,
  sink: (piece: Buffer) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let total = 0;
    const z = createStrictGunzip({ file, chunkSize: 1 << 20 });
    const fail = (message: string, rule: string, cause?: unknown): void => {
      z.destroy();
      reject(
        cause instanceof TufsignError ? cause : new TufsignError('ARCHIVE_INVALID', message, { file, rule, cause }),
      );
    };
    z.on('data', (piece: Buffer) => {
      total += piece.length;
      if (total > max) fail(`archive expands to more than ${max} bytes`, 'BAD-51 bounded uncompressed size');
      else sink(piece);
    });
    z.on('end', () => resolve(total));
    z.on('error', (cause: Error) => fail(`archive is not valid gzip: ${cause.message}`, 'gzip archives', cause));
    z.end(data);
  });
}

/**
 * Decompress into shared memory (for the patch workers) without a second
 * copy: the size comes from the gzip trailer and must be exactly what the
 * stream gives; any other archive (a size its 32-bit trailer field wraps) takes the plain
 * path and is copied once.
 */
export async function gunzipShared(data: Uint8Array, max: number, file?: string): Promise<Uint8Array> {
  const isize = data.length >= 18 ? Buffer.from(data.buffer, data.byteOffset + data.length - 4, 4).readUInt32LE(0) : -1;
  if (isize >= 0 && isize <= max) {
    const out = new Uint8Array(new SharedArrayBuffer(isize));
    let at = 0;
    let fits = true;
    const total = await gunzipEach(data, max, file, (piece) => {
      if (fits && at + piece.length <= isize) out.set(piece, at);
      else fits = false;
      at += piece.length;
    });
    if (fits && total === isize) return out;
  }
  const plain = gunzipBounded(data, max, file);
  const out = new Uint8Array(new SharedArrayBuffer(plain.length));
  out.set(plain);
  return out;
}

/** SHA-256 of what an archive expands to, streamed: the tar is never held twice. */
export async function gunzipSha256(data: Uint8Array, max: number, file?: string): Promise<string> {
  const h = createHash('sha256');
  await gunzipEach(data, max, file, (piece) => h.update(piece));
  return h.digest('hex');
}
