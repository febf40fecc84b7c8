/** BER-TLV as PIV uses it: one- or two-byte tags, definite lengths up to 0xFFFF. */
import { TufsignError } from '../../errors';

export function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
  throw new TufsignError('MESSAGE_TOO_LARGE', `TLV value of ${n} bytes is too long for PIV`, { rule: 'PIV lengths fit in two bytes' });
}

/** Encode one TLV; `tag` may be one byte (0x7c) or two (0x7f49). */
export function tlv(tag: number, value: Uint8Array): Buffer {
  const t = tag > 0xff ? Buffer.from([tag >> 8, tag & 0xff]) : Buffer.from([tag]);
  return Buffer.concat([t, encodeLength(value.length), Buffer.from(value)]);
}

export interface Tlv {
  tag: number;
  value: Buffer;
}

function malformed(what: string): TufsignError {
  return new TufsignError('DEVICE_ERROR', `malformed TLV from the card: ${what}`, { rule: 'PIV BER-TLV' });
}

/** Decode a sequence of TLVs. Tags whose low 5 bits are all set take a second byte (0x7f49, 0x5fc1…). */
export function parseTlvs(data: Uint8Array): Tlv[] {
  const buf = Buffer.from(data);
  const out: Tlv[] = [];
  let i = 0;
  while (i < buf.length) {
    let tag = buf[i++] ?? 0;
    if ((tag & 0x1f) === 0x1f) {
      if (i >= buf.length) throw malformed('truncated tag');
      tag = (tag << 8) | (buf[i++] ?? 0);
    }
    if (i >= buf.length) throw malformed('missing length');
    let len = buf[i++] ?? 0;
    if (len === 0x81) {
      len = buf[i++] ?? -1;
    } else if (len === 0x82) {
      len = ((buf[i] ?? 0) << 8) | (buf[i + 1] ?? 0);
      i += 2;
    } else if (len > 0x82) throw malformed(`length form 0x${len.toString(16)}`);
    if (len < 0 || i + len > buf.length) throw malformed('value runs past the end');
    out.push({ tag, value: buf.subarray(i, i + len) });
    i += len;
  }
  return out;
}

export function findTlv(data: Uint8Array | Tlv[], tag: number): Buffer | undefined {
  const list = Array.isArray(data) ? data : parseTlvs(data);
  return list.find((t) => t.tag === tag)?.value;
}

export function requireTlv(data: Uint8Array | Tlv[], tag: number, what: string): Buffer {
  const v = findTlv(data, tag);
  if (v === undefined) throw malformed(`${what} (tag 0x${tag.toString(16)}) missing`);
  return v;
}
