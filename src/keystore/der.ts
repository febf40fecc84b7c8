/**
 * The one ASN.1 DER / BER-TLV reader and writer of tufsign: encrypted PKCS#8 key files, YubiKey attestation
 * certificates, the key encodings PKCS#11 hands back, and PIV card messages all go through here.
 * Definite lengths only; a tag is one byte, or two when its low five bits are all set (PIV's 0x7f49, 0x5fc1).
 * The reader throws a plain Error on malformed input; callers turn it into their own coded error.
 */

export interface Der {
  tag: number;
  body: Buffer;
  /** offset just past this element in the buffer it was read from */
  end: number;
}

/** Read one element at `at`. `maxLengthBytes` caps the long-form length field (PIV allows 2, X.509 needs up to 4). */
export function readDer(buf: Buffer, at: number, maxLengthBytes = 4): Der {
  let off = at;
  let tag = buf[off++];
  if (tag === undefined) throw new Error('truncated DER: no tag');
  if ((tag & 0x1f) === 0x1f) {
    const second = buf[off++];
    if (second === undefined) throw new Error('truncated DER: two-byte tag');
    tag = (tag << 8) | second;
  }
  let len = buf[off++];
  if (len === undefined) throw new Error('truncated DER: no length');
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > maxLengthBytes) throw new Error(`DER length form 0x${len.toString(16)} not allowed`);
    if (off + n > buf.length) throw new Error('truncated DER: length field');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[off + i] ?? 0);
    off += n;
  }
  if (off + len > buf.length) throw new Error('truncated DER: value runs past the end');
  return { tag, body: buf.subarray(off, off + len), end: off + len };
}

/** The elements inside a constructed element's body (or any concatenation of elements). */
export function derChildren(body: Buffer, maxLengthBytes = 4): Der[] {
  const out: Der[] = [];
  for (let i = 0; i < body.length;) {
    const d = readDer(body, i, maxLengthBytes);
    out.push(d);
    i = d.end;
  }
  return out;
}

/** An INTEGER's body read as an unsigned number (small values: iteration counts, key sizes). */
export function derUint(body: Buffer): number {
  let n = 0;
  for (const x of body) n = n * 256 + x;
  return n;
}

// ---- writer

/** Minimal definite-length encoding. */
export function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element; `tag` may be one byte (0x30) or two (0x7f49). */
export function derTlv(tag: number, body: Uint8Array): Buffer {
  const t = tag > 0xff ? Buffer.from([tag >> 8, tag & 0xff]) : Buffer.from([tag]);
  return Buffer.concat([t, derLength(body.length), body]);
}

export const derSequence = (...items: Uint8Array[]): Buffer => derTlv(0x30, Buffer.concat(items));
export const derOid = (hex: string): Buffer => derTlv(0x06, Buffer.from(hex, 'hex'));
export const derOctets = (b: Uint8Array): Buffer => derTlv(0x04, b);
export const DER_NULL = Buffer.from([0x05, 0x00]);

/** A non-negative INTEGER from a number or big-endian bytes: minimal, with a 0x00 pad when the top bit is set. */
export function derInteger(value: number | Uint8Array): Buffer {
  let bytes: number[];
  if (typeof value === 'number') {
    bytes = [];
    for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  } else {
    let i = 0;
    while (i < value.length - 1 && value[i] === 0) i++;
    bytes = [...value.subarray(i)];
  }
  if (bytes.length === 0 || (bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return derTlv(0x02, Buffer.from(bytes));
}
