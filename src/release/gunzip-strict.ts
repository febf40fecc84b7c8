/**
 * gzip read strictly (ADR 0009, BAD-67): exactly one member and nothing after it. Node's gunzip decodes a second
 * member appended to the first as if it were part of the same stream, and silently drops trailing zero bytes, so a
 * `.tar.gz` could carry bytes that one reader expands and another ignores. Here the header is parsed by hand, the
 * deflate body goes through a raw inflater (which says where the body ends), and the trailer's CRC-32 and size are
 * checked; any byte after the trailer is refused with the offset where it starts.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { crc32, createInflateRaw, inflateRawSync, type InflateRaw } from 'node:zlib';
import { TufsignError } from '../errors';

export const ONE_MEMBER_RULE = 'BAD-67 one gzip member, nothing after it';
const FORMAT_RULE = 'gzip archives (RFC 1952)';
/** FEXTRA is at most 64 KiB; a file name or comment longer than this is no archive tufsign or tufup writes. */
const MAX_HEADER_BYTES = 1 << 20;

function fault(file: string | undefined, message: string, rule: string, cause?: unknown): TufsignError {
  return new TufsignError('ARCHIVE_INVALID', `${file ?? 'archive'}: ${message}`, { file, rule, cause });
}

/** The gzip header's length, or undefined when `buf` does not hold all of it yet. */
function headerLength(buf: Buffer, file: string | undefined): number | undefined {
  const notGzip = (): TufsignError => fault(file, 'is not gzip (no gzip header)', FORMAT_RULE);
  if ((buf.length > 0 && buf[0] !== 0x1f) || (buf.length > 1 && buf[1] !== 0x8b)) throw notGzip();
  if (buf.length < 10) return undefined;
  if (buf[2] !== 8) throw fault(file, `gzip compression method ${buf[2]} (only deflate, 8)`, FORMAT_RULE);
  const flags = buf[3] ?? 0;
  if ((flags & 0xe0) !== 0) throw fault(file, 'gzip header has reserved flags set', FORMAT_RULE);
  let at = 10;
  if ((flags & 4) !== 0) {
    if (buf.length < at + 2) return undefined;
    at += 2 + buf.readUInt16LE(at);
    if (buf.length < at) return undefined;
  }
  for (const bit of [8, 16]) {
    if ((flags & bit) === 0) continue;
    const nul = buf.indexOf(0, at);
    if (nul < 0) return undefined;
    at = nul + 1;
  }
  if ((flags & 2) !== 0) {
    if (buf.length < at + 2) return undefined;
    if ((crc32(buf.subarray(0, at)) & 0xffff) !== buf.readUInt16LE(at))
      throw fault(file, 'gzip header checksum does not match', FORMAT_RULE);
    at += 2;
  }
  return at;
}

/** `after` is what follows the deflate body (which ended at byte `offset` of the file): the trailer, exactly. */
function checkTrailer(after: Buffer, crc: number, size: number, offset: number, file: string | undefined): void {
  if (after.length < 8) throw fault(file, 'gzip stream is truncated (no complete trailer)', FORMAT_RULE);
  if (after.readUInt32LE(0) !== crc || after.readUInt32LE(4) !== size % 2 ** 32)
    throw fault(file, 'gzip trailer does not match the data (CRC-32 or size)', FORMAT_RULE);
  if (after.length > 8) throw trailingData(after.subarray(8), offset + 8, file);
}

function trailingData(extra: Buffer, offset: number, file: string | undefined): TufsignError {
  const member = extra[0] === 0x1f && (extra.length < 2 || extra[1] === 0x8b);
  return fault(
    file,
    member
      ? `a second gzip member starts at byte ${offset}; an archive is one gzip member`
      : `data after the end of the gzip stream, from byte ${offset}`,
    ONE_MEMBER_RULE,
  );
}

/** Decompress a whole gzip file held in memory: one member, at most `max` bytes out (BAD-51), nothing after it. */
export function gunzipStrictSync(data: Uint8Array, max: number, file?: string): Buffer {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  const n = headerLength(buf, file);
  if (n === undefined) throw fault(file, 'gzip stream is truncated (incomplete header)', FORMAT_RULE);
  let out: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    out = inflateRawSync(buf.subarray(n), { maxOutputLength: max, chunkSize: 1 << 20, info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
  } catch (cause) {
    const tooBig = cause instanceof RangeError || (cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw tooBig
      ? fault(file, `archive expands to more than ${max} bytes`, 'BAD-51 bounded uncompressed size', cause)
      : fault(file, `is not valid gzip: ${(cause as Error).message}`, FORMAT_RULE, cause);
  }
  const end = n + out.engine.bytesWritten;
  checkTrailer(buf.subarray(end), crc32(out.buffer), out.buffer.length, end, file);
  return out.buffer;
}

/**
 * A gunzip stream (a drop-in for `createGunzip`) that refuses a second member, trailing bytes, a bad header or
 * trailer with `ARCHIVE_INVALID` naming the file and the rule. Trailing data is refused as soon as it arrives.
 */
export class StrictGunzip extends Transform {
  private head: Buffer = Buffer.alloc(0);
  private headerBytes = 0;
  private inflater: InflateRaw | undefined;
  private fed = 0;
  private bodyEnded = false;
  private inflaterEnded = false;
  private after: Buffer = Buffer.alloc(0);
  private crc = 0;
  private size = 0;
  private fault: Error | undefined;

  constructor(private readonly options: { file?: string | undefined; chunkSize?: number } = {}) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.fault !== undefined) return callback(this.fault);
    if (this.inflater === undefined) {
      this.head = Buffer.concat([this.head, chunk]);
      let n: number | undefined;
      try {
        n = headerLength(this.head, this.options.file);
        if (n === undefined && this.head.length > MAX_HEADER_BYTES)
          throw fault(this.options.file, 'gzip header is too long', FORMAT_RULE);
      } catch (e) {
        return callback(e as Error);
      }
      if (n === undefined) return callback();
      const rest = this.head.subarray(n);
      this.headerBytes = n;
      this.head = Buffer.alloc(0);
      this.startInflater();
      return this.feed(rest, callback);
    }
    if (this.bodyEnded) return callback(this.trailerBytes(chunk));
    this.feed(chunk, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.fault !== undefined) return callback(this.fault);
    const inflater = this.inflater;
    if (inflater === undefined)
      return callback(fault(this.options.file, 'gzip stream is truncated (incomplete header)', FORMAT_RULE));
    const settle = (): void => {
      if (this.fault !== undefined) return callback(this.fault);
      try {
        checkTrailer(this.after, this.crc, this.size, this.headerBytes + inflater.bytesWritten, this.options.file);
      } catch (e) {
        return callback(e as Error);
      }
      callback();
    };
    if (this.inflaterEnded) return settle();
    inflater.once('end', settle);
    inflater.once('error', () => callback(this.fault));
    inflater.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inflater?.destroy();
    callback(error);
  }

  private startInflater(): void {
    const inflater = createInflateRaw({ chunkSize: this.options.chunkSize ?? 1 << 20 });
    inflater.on('data', (piece: Buffer) => {
      if (this.fault !== undefined || this.destroyed) return;
      this.crc = crc32(piece, this.crc);
      this.size += piece.length;
      this.push(piece);
    });
    inflater.on('end', () => {
      this.inflaterEnded = true;
    });
    inflater.on('error', (cause: Error) => {
      this.fault ??= fault(this.options.file, `is not valid gzip: ${cause.message}`, FORMAT_RULE, cause);
    });
    this.inflater = inflater;
  }

  private feed(piece: Buffer, callback: TransformCallback): void {
    const inflater = this.inflater;
    if (piece.length === 0 || inflater === undefined) return callback();
    this.fed += piece.length;
    inflater.write(piece, () => {
      if (this.fault !== undefined) return callback(this.fault);
      // the raw inflater stops consuming where the deflate body ends: the rest of this piece is the trailer
      const unused = this.fed - inflater.bytesWritten;
      if (unused > 0) {
        this.bodyEnded = true;
        return callback(this.trailerBytes(piece.subarray(piece.length - unused)));
      }
      callback();
    });
  }

  /** Bytes after the deflate body: 8 trailer bytes at most; anything more is refused at once. */
  private trailerBytes(piece: Buffer): Error | undefined {
    this.after = Buffer.concat([this.after, piece]);
    if (this.after.length > 8) {
      const offset = this.headerBytes + (this.inflater?.bytesWritten ?? 0) + 8;
      this.fault = trailingData(this.after.subarray(8), offset, this.options.file);
    }
    return this.fault;
  }
}

/** `new StrictGunzip(…)` as a function, in the shape of `createGunzip`. */
export function createStrictGunzip(options: { file?: string | undefined; chunkSize?: number } = {}): StrictGunzip {
  return new StrictGunzip(options);
}
