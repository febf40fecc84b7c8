/**
 * The bytes the patch engine reads: a buffer, or a file read in pieces. With
 * files (the CLI's build: both tars are written to its staging folder) neither
 * tar is ever held whole; the engine loads only the members it is diffing
 * (docs/adr/0005, "Memory bound").
 */
import { PositionalFile } from '../io/stream-file';

export interface ByteSource {
  readonly length: number;
  /** Bytes [at, at + len): a view of memory, or read into `scratch` (≥ len bytes) and valid until its next use. */
  view(at: number, len: number, scratch: Uint8Array): Uint8Array;
  /**
   * Bytes [at, at + len) to keep (a job's input): in shared memory when `shared`, so workers read them in place.
   * A file source reads them into `slot.bytes`, grown when too small and then kept for the next job: the same
   * memory job after job instead of garbage the collector frees late and malloc keeps.
   */
  slice(at: number, len: number, shared: boolean, slot?: Slot): Uint8Array;
}

/** A reusable buffer for `ByteSource.slice`. */
export interface Slot {
  bytes?: Uint8Array | undefined;
}

/** `len` bytes of `slot` (grown to at least `len`, with some room so that a slightly larger next job fits). */
export function fromSlot(slot: Slot | undefined, len: number, shared: boolean): Uint8Array {
  if (slot === undefined) return fresh(len, shared);
  if (slot.bytes === undefined || slot.bytes.length < len) slot.bytes = fresh(len + (len >> 3), shared);
  return slot.bytes.subarray(0, len);
}

function fresh(len: number, shared: boolean): Uint8Array {
  return shared ? new Uint8Array(new SharedArrayBuffer(len)) : new Uint8Array(len);
}

/** A buffer as a source; for workers it is copied into shared memory once (unless it already is shared). */
export function memorySource(bytes: Uint8Array, shared: boolean): ByteSource {
  let buf = bytes;
  if (shared && !(bytes.buffer instanceof SharedArrayBuffer)) {
    buf = fresh(bytes.length, true);
    buf.set(bytes);
  }
  return {
    length: buf.length,
    view: (at, len) => buf.subarray(at, at + len),
    slice: (at, len) => buf.subarray(at, at + len),
  };
}

/**
 * Bytes a `FileSource` reads ahead when small views walk forward through the file (tar headers one after
 * another, each member's first and last bytes, small members compared and copied in order): one positional read
 * per window instead of one per view. 100,000 small members otherwise cost ~800,000 `pread` calls.
 */
export const READ_AHEAD = 256 << 10;

/** A file as a source (a scratch tar), read with positional reads; `close` when done. */
export class FileSource implements ByteSource {
  private readonly file: PositionalFile;
  readonly length: number;
  /** The read-ahead window: file bytes [windowAt, windowAt + windowLen). */
  private window: Uint8Array | undefined;
  private windowAt = 0;
  private windowLen = 0;
  /** End of the last view; a small view starting at or up to READ_AHEAD after it is read ahead. */
  private lastEnd = -1;

  constructor(path: string) {
    this.file = new PositionalFile(path);
    this.length = this.file.length;
  }

  view(at: number, len: number, scratch: Uint8Array): Uint8Array {
    const out = scratch.subarray(0, len);
    const from = at - this.windowAt;
    if (this.window !== undefined && from >= 0 && from + len <= this.windowLen) {
      out.set(this.window.subarray(from, from + len));
    } else if (
      len <= READ_AHEAD / 4 &&
      at + len <= this.length &&
      this.lastEnd >= 0 &&
      at >= this.lastEnd &&
      at - this.lastEnd < READ_AHEAD
    ) {
      // Walking forward: read a window from here (a random access reads just its bytes, below).
      this.window ??= new Uint8Array(READ_AHEAD);
      this.windowAt = at;
      this.windowLen = Math.min(READ_AHEAD, this.length - at);
      this.file.readInto(at, this.window.subarray(0, this.windowLen));
      out.set(this.window.subarray(0, len));
    } else {
      this.file.readInto(at, out);
    }
    this.lastEnd = at + len;
    return out;
  }

  slice(at: number, len: number, shared: boolean, slot?: Slot): Uint8Array {
    const out = fromSlot(slot, len, shared);
    this.file.readInto(at, out);
    return out;
  }

  close(): void {
    this.window = undefined;
    this.file.close();
  }
}
