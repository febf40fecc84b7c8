/**
 * A deterministic `.tar.gz`: ustar entries sorted by path, regular files
 * only, mode 0644, uid/gid 0, empty owner names, mtime 0, and a gzip header
 * with mtime 0 and OS "unknown" — the same files always give the same bytes
 * (on the same zlib), whoever builds the bundle and when.
 */
import { gzipSync, gunzipSync } from 'node:zlib';
import { TufsignError } from '../errors';

export interface TarEntry {
  path: string;
  data: Uint8Array;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  // ustar: prefix (155) + '/' + name (100)
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new TufsignError('BUNDLE_INVALID', `path too long for a ustar archive: ${path}`, { rule: 'bundle paths fit ustar (255 bytes)' });
}

function header(path: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  const { name, prefix } = splitPath(path);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii');
  h.write(octal(0, 8), 116, 8, 'ascii');
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(0, 12), 136, 12, 'ascii');
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return h;
}

export function tarBytes(entries: readonly TarEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Buffer[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i];
    if (e === undefined) continue;
    if (i > 0 && sorted[i - 1]?.path === e.path) throw new TufsignError('BUNDLE_INVALID', `duplicate archive entry ${e.path}`, { rule: 'unique bundle paths' });
    parts.push(header(e.path, e.data.length), Buffer.from(e.data));
    const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}

export function deterministicTarGz(entries: readonly TarEntry[]): Buffer {
  const gz = gzipSync(tarBytes(entries), { level: 9 });
  // gzip header: bytes 4..7 mtime (zlib writes 0), byte 9 OS — fixed to 255 so the host OS does not show.
  gz.writeUInt32LE(0, 4);
  gz[9] = 0xff;
  return gz;
}

/** Read back a tarball written by `deterministicTarGz` (tests and `verify`). */
export function readTarGz(data: Uint8Array): TarEntry[] {
  const tar = gunzipSync(data);
  const out: TarEntry[] = [];
  let off = 0;
  while (off + BLOCK <= tar.length) {
    const h = tar.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = h.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim(), 8);
    if (!Number.isSafeInteger(size) || size < 0) throw new TufsignError('ARCHIVE_INVALID', 'bad tar header', { rule: 'ustar' });
    off += BLOCK;
    out.push({ path: prefix !== '' ? `${prefix}/${name}` : name, data: Buffer.from(tar.subarray(off, off + size)) });
    off += Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
