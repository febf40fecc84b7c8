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
import { deflateRaw as deflateRawCb, gunzipSync, constants, crc32 } from 'node:zlib';
import { promisify } from 'node:util';
import { TufsignError } from '../errors';

export const GZIP_LEVEL = 6;
export const GZIP_BLOCK = 4 << 20;
const WINDOW = 32 << 10;
const deflateRaw = promisify(deflateRawCb);

const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);

/** Compress on the thread pool (in parallel blocks), so the caller can work meanwhile. */
export async function gzipDeterministic(data: Uint8Array): Promise<Buffer> {
  const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const jobs: Promise<Buffer>[] = [];
  for (let at = 0; at < input.length || at === 0; at += GZIP_BLOCK) {
    const end = Math.min(input.length, at + GZIP_BLOCK);
    const last = end === input.length;
    jobs.push(
      deflateRaw(input.subarray(at, end), {
        level: GZIP_LEVEL,
        memLevel: 8,
        windowBits: 15,
        strategy: constants.Z_DEFAULT_STRATEGY,
        finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
        ...(at > 0 ? { dictionary: input.subarray(Math.max(0, at - WINDOW), at) } : {}),
      }),
    );
    if (last) break;
  }
  const parts = await Promise.all(jobs);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(input) >>> 0, 0);
  trailer.writeUInt32LE(input.length % 2 ** 32, 4);
  return Buffer.concat([HEADER, ...parts, trailer]);
}

/** Decompress an archive, refusing more than `max` bytes of output (BAD-51). */
export function gunzipBounded(data: Uint8Array, max: number, file?: string): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: max, chunkSize: 1 << 20 });
  } catch (cause) {
    const tooBig = cause instanceof RangeError || (cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new TufsignError('ARCHIVE_INVALID', tooBig ? `archive expands to more than ${max} bytes` : `archive is not valid gzip: ${(cause as Error).message}`, {
      file,
      rule: tooBig ? 'BAD-51 bounded uncompressed size' : 'gzip archives',
      cause,
    });
  }
}
