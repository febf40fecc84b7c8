/**
 * Deterministic tar, laid out exactly as CPython's `tarfile` (PAX_FORMAT)
 * writes it for `tar.add(dir, arcname='.')`, which is what tufup builds:
 * members `./`, `./name`, … depth first with each directory's entries sorted
 * by code point; ustar headers, with a `././@PaxHeader` record only for names
 * that are not ASCII or longer than 100 bytes; the archive closed by two zero
 * blocks and padded to 10240-byte records.
 *
 * Everything host-dependent is fixed: mtime is the release time, uid/gid 0,
 * uname/gname empty, modes 0755 (directories, executables) or 0644.
 */
import { createHash, type Hash } from 'node:crypto';
import { TufsignError } from '../errors';
import type { TarRegion } from './bsdiff';
import { memorySource, type ByteSource } from './source';
import { isPlainRelativePath } from '../tuf/paths';

export const BLOCK = 512;
export const RECORD = 10240;

export interface TarMember {
  /** Path inside the bundle, `/`-separated, '' for the bundle root. */
  path: string;
  type: 'file' | 'dir';
  mode: 0o755 | 0o644;
  size: number;
}

export interface TarLayout {
  size: number;
  /** For each member, where its data starts in the tar (files only; -1 for directories). */
  dataOffsets: number[];
}

function memberName(m: TarMember): string {
  if (m.path === '') return './';
  return m.type === 'dir' ? `./${m.path}/` : `./${m.path}`;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function needsPax(name: string): boolean {
  return !isAscii(name) || name.length > 100;
}

/** CPython's pax record: "%d path=%s\n" where the length counts itself. */
function paxRecords(name: string): Buffer {
  const kv = Buffer.from(`path=${name}\n`, 'utf8');
  const l = kv.length + 1; // the space
  let p = 0;
  for (;;) {
    const n = l + String(p).length;
    if (n === p) break;
    p = n;
  }
  return Buffer.concat([Buffer.from(`${p} `, 'ascii'), kv]);
}

function padded(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

/** Sizes and data offsets, so that file contents can be read straight into place. */
export function layoutTar(members: readonly TarMember[]): TarLayout {
  let off = 0;
  const dataOffsets: number[] = [];
  for (const m of members) {
    const name = memberName(m);
    if (needsPax(name)) off += BLOCK + padded(paxRecords(name).length);
    off += BLOCK;
    dataOffsets.push(m.type === 'file' ? off : -1);
    if (m.type === 'file') off += padded(m.size);
  }
  off += 2 * BLOCK;
  return { size: Math.ceil(off / RECORD) * RECORD, dataOffsets };
}

/**
 * Latin-1 (here only ASCII) text into `buf` at `at`, byte by byte: a header's fields are a few bytes each, and a
 * JS loop is several times cheaper than `Buffer.write`'s native call (nine fields per member).
 */
function putText(buf: Buffer, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i);
}

function octal(buf: Buffer, at: number, width: number, value: number): void {
  // "%0*o" % (width-1) then NUL, as CPython's itn() for values that fit.
  const s = value.toString(8).padStart(width - 1, '0');
  if (s.length > width - 1)
    throw new TufsignError('RELEASE_INVALID', `tar field value ${value} does not fit`, { rule: 'tar ustar limits' });
  putText(buf, at, s);
  buf[at + width - 1] = 0;
}

function writeHeader(
  buf: Buffer,
  at: number,
  name: string,
  mode: number,
  size: number,
  mtime: number,
  type: string,
): void {
  buf.fill(0, at, at + BLOCK);
  // CPython encodes the ustar name with 'ascii'/'replace' and truncates to 100 bytes.
  const ascii = isAscii(name) ? name : Array.from(name, (ch) => (ch.codePointAt(0)! < 0x80 ? ch : '?')).join('');
  putText(buf, at, ascii.slice(0, 100));
  octal(buf, at + 100, 8, mode);
  octal(buf, at + 108, 8, 0);
  octal(buf, at + 116, 8, 0);
  octal(buf, at + 124, 12, size);
  octal(buf, at + 136, 12, mtime);
  putText(buf, at + 148, '        ');
  putText(buf, at + 156, type);
  putText(buf, at + 257, 'ustar\x0000');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += buf[at + i]!;
  putText(buf, at + 148, `${sum.toString(8).padStart(6, '0')}\0`);
}

function checkMtime(mtime: number): void {
  if (!Number.isSafeInteger(mtime) || mtime < 0 || mtime >= 8 ** 11) {
    throw new TufsignError('RELEASE_INVALID', `release time ${mtime} is not a valid tar mtime`, {
      rule: 'SOURCE_DATE_EPOCH is a non-negative integer',
    });
  }
}

/** The header blocks of one member (its pax record first, when it needs one), exactly as the tar holds them. */
export function memberHeader(m: TarMember, mtime: number): Buffer {
  checkMtime(mtime);
  const name = memberName(m);
  const rec = needsPax(name) ? paxRecords(name) : undefined;
  const paxLen = rec === undefined ? 0 : BLOCK + padded(rec.length);
  const out = Buffer.alloc(paxLen + BLOCK);
  if (rec !== undefined) {
    writeHeader(out, 0, '././@PaxHeader', 0, rec.length, 0, 'x');
    rec.copy(out, BLOCK);
  }
  writeHeader(out, paxLen, name, m.mode, m.type === 'file' ? m.size : 0, mtime, m.type === 'file' ? '0' : '5');
  return out;
}

/**
 * Write all headers into `buf` (length `layout.size`, zero-filled). File data
 * is copied in by the caller at `layout.dataOffsets[i]`.
 */
export function writeTarHeaders(buf: Buffer, members: readonly TarMember[], layout: TarLayout, mtime: number): void {
  checkMtime(mtime);
  let off = 0;
  members.forEach((m, i) => {
    off += memberHeader(m, mtime).copy(buf, off);
    if (m.type === 'file') {
      if (layout.dataOffsets[i] !== off) throw new TufsignError('INTERNAL', 'tar layout mismatch');
      off += padded(m.size);
    }
  });
}

// ------------------------------------------------------------------ reading

/**
 * A numeric header field: octal digits, leading spaces and trailing NULs or spaces allowed, empty meaning 0
 * (what `tarfile` accepts), or GNU base-256. Read byte by byte: 100,000 small members are ~400,000 fields.
 */
function readOctal(buf: Uint8Array, at: number, width: number): number | undefined {
  const first = buf[at]!;
  if (first & 0x80) {
    // GNU base-256: only small positive values make sense here.
    if (first !== 0x80) return undefined;
    let v = 0;
    for (let i = 1; i < width; i++) v = v * 256 + buf[at + i]!;
    return Number.isSafeInteger(v) ? v : undefined;
  }
  let end = Math.min(at + width, buf.length);
  while (end > at && (buf[end - 1] === 0 || buf[end - 1] === 0x20)) end--;
  let p = at;
  while (p < end && buf[p] === 0x20) p++;
  let v = 0;
  for (; p < end; p++) {
    const d = buf[p]! - 0x30;
    if (d < 0 || d > 7) return undefined;
    v = v * 8 + d;
  }
  return v;
}

function headerChecksumOk(buf: Uint8Array, at: number): boolean {
  const stored = readOctal(buf, at + 148, 8);
  // The checksum field itself counts as eight spaces.
  let sum = 8 * 0x20;
  for (let i = at; i < at + 148; i++) sum += buf[i]!;
  for (let i = at + 156; i < at + BLOCK; i++) sum += buf[i]!;
  return stored === sum;
}

function isZeroBlock(buf: Uint8Array, at: number): boolean {
  for (let i = 0; i < BLOCK; i++) if (buf[at + i] !== 0) return false;
  return true;
}

function cString(buf: Uint8Array, at: number, width: number): string {
  let end = at;
  while (end < at + width && end < buf.length && buf[end] !== 0) end++;
  // Decoded in place (no copy); invalid UTF-8 becomes U+FFFD as before.
  return Buffer.from(buf.buffer, buf.byteOffset + at, end - at).toString('utf8');
}

function parsePax(data: Uint8Array, where: string): Map<string, string> {
  const out = new Map<string, string>();
  let p = 0;
  while (p < data.length) {
    const sp = data.indexOf(0x20, p);
    if (sp === -1) throw archiveError(`${where}: malformed pax record`, 'BAD-50 well-formed pax headers');
    const len = Number(Buffer.from(data.subarray(p, sp)).toString('ascii'));
    if (!Number.isSafeInteger(len) || len <= sp - p + 1 || p + len > data.length || data[p + len - 1] !== 0x0a) {
      throw archiveError(`${where}: malformed pax record length`, 'BAD-50 well-formed pax headers');
    }
    const rec = data.subarray(sp + 1, p + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq === -1) throw archiveError(`${where}: pax record without "="`, 'BAD-50 well-formed pax headers');
    const key = Buffer.from(rec.subarray(0, eq)).toString('utf8');
    const valueBytes = rec.subarray(eq + 1);
    if ((key === 'path' || key === 'linkpath') && valueBytes.includes(0))
      throw archiveError(`${where}: NUL in pax ${key}`, 'BAD-50 no NUL in pax paths');
    out.set(key, Buffer.from(valueBytes).toString('utf8'));
    p += len;
  }
  return out;
}

function archiveError(message: string, rule: string, path?: string): TufsignError {
  return new TufsignError('ARCHIVE_INVALID', message, { rule, path });
}

export interface TarEntry {
  /** Path relative to the archive root ('' for the root directory). */
  path: string;
  type: 'file' | 'dir';
  mode: number;
  mtime: number;
  size: number;
  offset: number;
}

export interface ReadTarLimits {
  maxEntries?: number;
  /** stop after the first member (`buf` may then be just a prefix of the archive) */
  firstOnly?: boolean;
}

/** Largest pax extended header the readers take (CPython writes a few hundred bytes). */
const MAX_PAX_BYTES = 1 << 20;

/**
 * The strict reader's rules (BAD-48 … BAD-52), one header at a time, for `readTar` over a whole buffer and
 * `TarStreamReader` over pieces: one home for what a tufup-style archive may hold.
 */
class TarHeaderRules {
  private pax: Map<string, string> | undefined;
  private readonly seen = new Set<string>();
  private readonly files = new Set<string>();
  private readonly folders = new Set<string>();
  count = 0;

  constructor(private readonly maxEntries: number) {}

  /**
   * The 512-byte header at `buf[off]` (not a zero block). `room` is how many archive bytes follow it
   * (Infinity while streaming: the end is checked when it comes). A pax header returns its data size (its
   * records go to `paxData`), a member its entry without the data offset.
   */
  header(buf: Uint8Array, off: number, room: number): { pax: number } | { entry: Omit<TarEntry, 'offset'> } {
    if (!headerChecksumOk(buf, off))
      throw archiveError(`bad header checksum at byte ${off}`, 'BAD-51 consistent archive');
    const type = String.fromCharCode(buf[off + 156]!);
    const size = readOctal(buf, off + 124, 12);
    if (size === undefined) throw archiveError(`unreadable entry size at byte ${off}`, 'BAD-51 valid sizes');
    const pax = this.pax;
    const effSize = pax?.has('size') === true ? Number(pax.get('size')) : size;
    if (!Number.isSafeInteger(effSize) || effSize < 0 || effSize > room) {
      throw archiveError(
        `entry at byte ${off} declares ${effSize} bytes, beyond the archive`,
        'BAD-51 sizes inside the archive',
      );
    }
    if (type === 'x') {
      if (pax !== undefined) throw archiveError('two pax headers in a row', 'BAD-50 well-formed pax headers');
      if (size > MAX_PAX_BYTES)
        throw archiveError(`pax header at byte ${off} holds ${size} bytes`, 'BAD-50 well-formed pax headers');
      return { pax: size };
    }
    if (type !== '0' && type !== '\0' && type !== '5') {
      const what: Record<string, string> = {
        '1': 'hard link',
        '2': 'symlink',
        '3': 'character device',
        '4': 'block device',
        '6': 'FIFO',
        L: 'GNU long name',
        K: 'GNU long link',
        g: 'global pax header',
      };
      throw archiveError(
        `entry at byte ${off} is a ${what[type] ?? `type ${JSON.stringify(type)} entry`}`,
        'BAD-49 files and directories only',
      );
    }
    let name =
      pax?.get('path') ??
      (() => {
        const prefix = cString(buf, off + 345, 155);
        const base = cString(buf, off, 100);
        return prefix === '' ? base : `${prefix}/${base}`;
      })();
    if (pax?.has('path') === true && /^[0-9]+$/.test(name))
      throw archiveError(`pax path ${JSON.stringify(name)} is all digits`, 'BAD-50 suspicious pax path');
    this.pax = undefined;
    if (name.includes('\0')) throw archiveError('NUL in an entry name', 'BAD-50 no NUL in paths');
    const isDir = type === '5';
    if (isDir && name.endsWith('/')) name = name.slice(0, -1);
    let rel: string;
    if (name === '.' || name === '') rel = '';
    else if (name.startsWith('./')) rel = name.slice(2);
    else
      throw archiveError(
        `entry ${JSON.stringify(name)} is not under "./"`,
        'BAD-48 entries relative to the archive root',
        name,
      );
    if (rel !== '') {
      if (!isPlainRelativePath(rel)) {
        throw new TufsignError('PATH_UNSAFE', `archive entry ${JSON.stringify(name)} is not a plain relative path`, {
          rule: 'BAD-48 no absolute or ../ entries',
          path: name,
        });
      }
    }
    if (this.seen.has(rel))
      throw archiveError(`duplicate entry ${JSON.stringify(name)}`, 'BAD-52 no duplicate entries', name);
    // A path is a file or a folder, never both: nothing beneath a file, no file where a folder was implied.
    const parents = rel
      .split('/')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    if ((!isDir && this.folders.has(rel)) || parents.some((p) => this.files.has(p)))
      throw archiveError(
        `entry ${JSON.stringify(name)} is beneath a file or is a file where a folder is`,
        'BAD-52 a path is a file or a folder, not both',
        name,
      );
    this.seen.add(rel);
    if (isDir) this.folders.add(rel);
    else this.files.add(rel);
    for (const p of parents) this.folders.add(p);
    if (this.count >= this.maxEntries)
      throw archiveError(`more than ${this.maxEntries} entries`, 'BAD-51 entry count cap');
    this.count += 1;
    const mode = readOctal(buf, off + 100, 8) ?? 0;
    const mtime = readOctal(buf, off + 136, 12) ?? 0;
    return { entry: { path: rel, type: isDir ? 'dir' : 'file', mode, mtime, size: isDir ? 0 : effSize } };
  }

  /** The records of the pax header at byte `off`, for the member that follows. */
  paxData(data: Uint8Array, off: number): void {
    this.pax = parsePax(data, `pax header at byte ${off}`);
  }

  /** The end-of-archive marker was reached. */
  end(): void {
    if (this.pax !== undefined) throw archiveError('pax header without a member', 'BAD-50 well-formed pax headers');
  }
}

/**
 * Strict reader for tufup-style archives (BAD-48 … BAD-52): only directories
 * and regular files under `./`, pax headers without NUL or numeric paths, no
 * duplicates, sizes inside the archive, valid checksums. Nothing is extracted.
 */
export function readTar(buf: Uint8Array, limits: ReadTarLimits = {}): TarEntry[] {
  const rules = new TarHeaderRules(limits.maxEntries ?? 1_000_000);
  const entries: TarEntry[] = [];
  let off = 0;
  while (off + BLOCK <= buf.length) {
    if (isZeroBlock(buf, off)) {
      // End of archive: everything after must be zero padding too.
      for (let i = off; i < buf.length; i++)
        if (buf[i] !== 0) throw archiveError('data after the end-of-archive marker', 'BAD-51 consistent archive');
      rules.end();
      return entries;
    }
    const dataAt = off + BLOCK;
    const h = rules.header(buf, off, buf.length - dataAt);
    if ('pax' in h) {
      rules.paxData(buf.subarray(dataAt, dataAt + h.pax), off);
      off = dataAt + padded(h.pax);
      continue;
    }
    entries.push({ ...h.entry, offset: dataAt });
    if (limits.firstOnly === true) return entries;
    off = dataAt + padded(h.entry.size);
  }
  throw archiveError('archive ends without an end-of-archive marker', 'BAD-51 consistent archive');
}

/** A member of a tar read as it streams past: a file's data is hashed, never held. */
export interface TarMemberDigest {
  path: string;
  type: 'file' | 'dir';
  mode: number;
  mtime: number;
  size: number;
  /** sha256 of the data ('' for a folder) */
  sha256: string;
}

/** What a `TarStreamReader` hands on as it reads (a bundle tarball unpacked while it streams). */
export interface TarMemberSink {
  /** a member passed the rules; its data (a file's) follows */
  member(m: TarMemberDigest): void;
  /** the next piece of that member's data (a view: copy what must outlive the call) */
  data(piece: Uint8Array): void;
}

/**
 * `readTar`'s rules over a tar that arrives in pieces (a release archive as it is expanded): holds one header
 * (and a pax header's records, ≤ 1 MiB) at a time, and hashes each file's data as it passes.
 */
export class TarStreamReader {
  private readonly rules: TarHeaderRules;
  readonly members: TarMemberDigest[] = [];
  private readonly head = Buffer.alloc(BLOCK);
  private headFill = 0;
  /** bytes of archive consumed so far */
  private at = 0;
  private state: 'header' | 'pax' | 'data' | 'pad' | 'end' = 'header';
  /** what is left of the current pax records, data or padding */
  private left = 0;
  private pax: Buffer[] = [];
  private paxAt = 0;
  private paxSize = 0;
  private hash: Hash | undefined;
  private current: TarMemberDigest | undefined;

  /** `sink`, when given, sees each member as its header is accepted, then its data piece by piece (unpacking). */
  constructor(
    maxEntries = 1_000_000,
    private readonly sink?: TarMemberSink,
  ) {
    this.rules = new TarHeaderRules(maxEntries);
  }

  push(piece: Uint8Array): void {
    let p = 0;
    while (p < piece.length) {
      if (this.state === 'end') {
        for (; p < piece.length; p++)
          if (piece[p] !== 0) throw archiveError('data after the end-of-archive marker', 'BAD-51 consistent archive');
        break;
      }
      if (this.state === 'header') {
        const n = Math.min(BLOCK - this.headFill, piece.length - p);
        this.head.set(piece.subarray(p, p + n), this.headFill);
        this.headFill += n;
        p += n;
        if (this.headFill === BLOCK) this.onHeader();
        continue;
      }
      const n = Math.min(this.left, piece.length - p);
      const bytes = piece.subarray(p, p + n);
      if (this.state === 'pax') this.pax.push(Buffer.from(bytes));
      else if (this.state === 'data') {
        this.hash!.update(bytes);
        this.sink?.data(bytes);
      }
      this.left -= n;
      this.at += n;
      p += n;
      if (this.left === 0) this.afterPart();
    }
  }

  /** The stream ended: it must have ended the archive. */
  end(): TarMemberDigest[] {
    if (this.state === 'data' || this.state === 'pax')
      throw archiveError(
        `entry at byte ${this.at - (this.state === 'pax' ? this.paxSize - this.left : 0)} declares bytes beyond the archive`,
        'BAD-51 sizes inside the archive',
      );
    if (this.state !== 'end')
      throw archiveError('archive ends without an end-of-archive marker', 'BAD-51 consistent archive');
    return this.members;
  }

  private onHeader(): void {
    const off = this.at;
    this.at += BLOCK;
    this.headFill = 0;
    if (isZeroBlock(this.head, 0)) {
      this.rules.end();
      this.state = 'end';
      return;
    }
    const h = this.rules.header(this.head, 0, Infinity);
    if ('pax' in h) {
      this.state = 'pax';
      this.pax = [];
      this.paxAt = off;
      this.paxSize = h.pax;
      this.left = h.pax;
    } else {
      this.current = { ...h.entry, sha256: '' };
      this.members.push(this.current);
      this.sink?.member(this.current);
      this.state = 'data';
      this.hash = createHash('sha256');
      this.left = h.entry.size;
    }
    if (this.left === 0) this.afterPart();
  }

  /** The pax records or the member's data are complete: the padding to the next header. */
  private afterPart(): void {
    if (this.state === 'pax') {
      this.rules.paxData(Buffer.concat(this.pax), this.paxAt);
      this.pax = [];
      this.left = padded(this.paxSize) - this.paxSize;
    } else if (this.state === 'data') {
      const m = this.current!;
      if (m.type === 'file') m.sha256 = this.hash!.digest('hex');
      this.hash = undefined;
      this.left = padded(m.size) - m.size;
    } else {
      this.state = 'header';
      return;
    }
    this.state = this.left === 0 ? 'header' : 'pad';
  }
}

/**
 * Where member data lives (and under which name), for the patch builder.
 * Lenient on purpose: this only steers the search, and any tar it cannot follow (or any non-tar) just
 * gets the plain whole-file diff.
 */
export function tarRegions(src: Uint8Array | ByteSource): TarRegion[] | undefined {
  // Headers (and pax records) are read one at a time, so a tar in a file is never held whole.
  const source: ByteSource = src instanceof Uint8Array ? memorySource(src, false) : src;
  const length = source.length;
  // Headers and pax records have a scratch each: a header is still read after its pax records (not copied).
  const headerScratch = new Uint8Array(BLOCK);
  let scratch = new Uint8Array(BLOCK);
  const read = (at: number, len: number): Uint8Array => {
    if (scratch.length < len) scratch = new Uint8Array(len);
    return source.view(at, len, scratch);
  };
  const out: TarRegion[] = [];
  let off = 0;
  let paxSize: number | undefined;
  let paxPath: string | undefined;
  while (off + BLOCK <= length) {
    const header = source.view(off, BLOCK, headerScratch);
    if (isZeroBlock(header, 0)) return out;
    if (!headerChecksumOk(header, 0)) return undefined;
    const type = String.fromCharCode(header[156]!);
    const hdrSize = readOctal(header, 124, 12);
    if (hdrSize === undefined) return undefined;
    const size = type === 'x' || type === 'g' || type === 'L' || type === 'K' ? hdrSize : (paxSize ?? hdrSize);
    const dataAt = off + BLOCK;
    if (dataAt + size > length) return undefined;
    if (type === 'x') {
      const records = Buffer.from(read(dataAt, size)).toString('utf8');
      const m = /(?:^|\n)\d+ size=(\d+)\n/.exec(records);
      paxSize = m === null ? undefined : Number(m[1]);
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(records)?.[1];
    } else if (type !== 'g' && type !== 'L' && type !== 'K') {
      if ((type === '0' || type === '\0' || type === '7') && size > 0) {
        const prefix = cString(header, 345, 155);
        const base = cString(header, 0, 100);
        out.push({ offset: dataAt, size, path: paxPath ?? (prefix === '' ? base : `${prefix}/${base}`) });
      }
      paxSize = undefined;
      paxPath = undefined;
      if (type === '5' || type === '1' || type === '2' || type === '3' || type === '4' || type === '6') {
        off = dataAt;
        continue;
      }
    }
    off = dataAt + padded(size);
  }
  return undefined;
}
