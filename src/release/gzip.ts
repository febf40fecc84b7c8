/**
 * Deterministic gzip: Node's zlib at a fixed level, with the header fixed to
 * MTIME 0, no FNAME, XFL 0 and OS 255 ("unknown", as Python writes), so the
 * header carries nothing about the host. The deflate stream itself depends
 * only on the zlib build; `verifyRelease` compares the tar separately so a
 * different zlib is reported as such (docs/adr/0005).
 */
import { gzip as gzipCb, gunzipSync, constants } from 'node:zlib';
import { promisify } from 'node:util';
import { TufsignError } from '../errors';

export const GZIP_LEVEL = 6;
const gzipAsync = promisify(gzipCb);

function fixHeader(out: Buffer): Buffer {
  // 1f 8b 08 FLG MTIME(4) XFL OS
  if (out[0] !== 0x1f || out[1] !== 0x8b || out[2] !== 8 || out[3] !== 0) throw new TufsignError('INTERNAL', 'unexpected gzip header from zlib');
  out.writeUInt32LE(0, 4);
  out[8] = 0;
  out[9] = 255;
  return out;
}

/** Compress on the libuv thread pool, so the caller can work in parallel. */
export async function gzipDeterministic(data: Uint8Array): Promise<Buffer> {
  const out = await gzipAsync(data, { level: GZIP_LEVEL, memLevel: 8, windowBits: 15, strategy: constants.Z_DEFAULT_STRATEGY, chunkSize: 1 << 20 });
  return fixHeader(out);
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
