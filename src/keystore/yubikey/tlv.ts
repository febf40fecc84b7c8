/** BER-TLV as PIV uses it (one- or two-byte tags, lengths up to 0xFFFF), on top of the one DER reader/writer. */
import { TufsignError } from '../../errors';
import { derChildren, derLength, derTlv } from '../der';

const PIV_MAX_LENGTH = 0xffff;

export function encodeLength(n: number): Buffer {
  if (n > PIV_MAX_LENGTH)
    throw new TufsignError('MESSAGE_TOO_LARGE', `TLV value of ${n} bytes is too long for PIV`, {
      rule: 'PIV lengths fit in two bytes',
    });
  return derLength(n);
}

/** Encode one TLV; `tag` may be one byte (0x7c) or two (0x7f49). */
export function tlv(tag: number, value: Uint8Array): Buffer {
  encodeLength(value.length);
  return derTlv(tag, value);
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
  try {
    return derChildren(Buffer.from(data), 2).map((d) => ({ tag: d.tag, value: d.body }));
  } catch (cause) {
    throw malformed((cause as Error).message);
  }
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
