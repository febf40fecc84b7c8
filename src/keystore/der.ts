/** A minimal DER reader (tag, length, value), shared by the key-file and attestation code. Throws on malformed input. */
export interface Der {
  tag: number;
  body: Buffer;
  /** offset just past this element in the buffer it was read from */
  end: number;
}

export function readDer(buf: Buffer, at: number): Der {
  const tag = buf[at];
  let len = buf[at + 1];
  if (tag === undefined || len === undefined) throw new Error('truncated DER');
  let off = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 4) throw new Error('DER length field too long');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[off + i] ?? 0);
    off += n;
  }
  if (off + len > buf.length) throw new Error('truncated DER');
  return { tag, body: buf.subarray(off, off + len), end: off + len };
}

/** The elements inside a constructed element's body. */
export function derChildren(body: Buffer): Der[] {
  const out: Der[] = [];
  for (let i = 0; i < body.length; ) {
    const d = readDer(body, i);
    out.push(d);
    i = d.end;
  }
  return out;
}
