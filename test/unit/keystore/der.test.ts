import fc from 'fast-check';
import { TufsignError } from '../../../src/errors';
import { findTlv, parseTlvs, tlv } from '../../../src/keystore/yubikey/tlv';
import {
  DER_NULL,
  derChildren,
  derInteger,
  derLength,
  derOctets,
  derOid,
  derSequence,
  derTlv,
  derUint,
  readDer,
} from '../../../src/keystore/der';

describe('DER reader (src/keystore/der.ts, the one DER module)', () => {
  it('reads short and long lengths and nested elements', () => {
    // SEQUENCE { INTEGER 5, OCTET STRING (200 bytes) }
    const octets = Buffer.concat([Buffer.from([0x04, 0x81, 200]), Buffer.alloc(200, 7)]);
    const body = Buffer.concat([Buffer.from([0x02, 0x01, 0x05]), octets]);
    const seq = Buffer.concat([Buffer.from([0x30, 0x81, body.length]), body]);
    const top = readDer(seq, 0);
    expect(top.tag).toBe(0x30);
    expect(top.end).toBe(seq.length);
    const [int, os] = derChildren(top.body);
    expect(int).toMatchObject({ tag: 0x02, body: Buffer.from([5]) });
    expect(os?.tag).toBe(0x04);
    expect(os?.body.length).toBe(200);
  });

  it.each([
    ['empty input', Buffer.alloc(0)],
    ['length past the end', Buffer.from([0x04, 0x05, 0x00])],
    ['long-form length past the end', Buffer.from([0x04, 0x82, 0x01])],
    ['length field of 5 bytes', Buffer.from([0x04, 0x85, 0, 0, 0, 0, 1, 0])],
  ])('refuses %s', (_name, buf) => {
    expect(() => readDer(buf, 0)).toThrow();
  });
});

describe('DER writer', () => {
  const hex = (b: Buffer): string => b.toString('hex');

  it('writes minimal lengths and integers (X.690 vectors)', () => {
    expect(hex(derLength(0x7f))).toBe('7f');
    expect(hex(derLength(0x80))).toBe('8180');
    expect(hex(derLength(0x100))).toBe('820100');
    expect(hex(derInteger(0))).toBe('020100');
    expect(hex(derInteger(0x7f))).toBe('02017f');
    expect(hex(derInteger(0x80))).toBe('02020080');
    expect(hex(derInteger(600000))).toBe('02030927c0');
    expect(hex(derInteger(Buffer.from([0, 0, 0x7f])))).toBe('02017f');
    expect(hex(derInteger(Buffer.from([0, 0xff])))).toBe('020200ff');
    expect(hex(derInteger(Buffer.from([0, 0])))).toBe('020100');
    expect(hex(derSequence(derOid('2a864886f70d01050d'), DER_NULL))).toBe('300d06092a864886f70d01050d0500');
    expect(hex(derOctets(Buffer.from('ab', 'hex')))).toBe('0401ab');
    expect(hex(derTlv(0x7f49, Buffer.from([1])))).toBe('7f490101');
  });

  it('what it writes, it reads back (tags of one and two bytes, bodies up to 70000 bytes)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 0xfe }).filter((t) => (t & 0x1f) !== 0x1f),
          fc.constantFrom(0x7f49, 0x5f50, 0xbf20),
        ),
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.integer({ min: 0, max: 70000 }).map((n) => new Uint8Array(n).fill(n & 0xff)),
        ),
        (tag, body) => {
          const enc = derTlv(tag, body);
          const d = readDer(enc, 0);
          expect(d.tag).toBe(tag);
          expect(Buffer.compare(d.body, Buffer.from(body))).toBe(0);
          expect(d.end).toBe(enc.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a two-byte length field is the most PIV accepts', () => {
    const big = derTlv(0x53, new Uint8Array(0x10000)); // length form 0x83
    expect(() => readDer(big, 0, 2)).toThrow();
    expect(readDer(big, 0).body.length).toBe(0x10000);
  });

  it('refuses the indefinite length form', () => {
    expect(() => readDer(Buffer.from([0x30, 0x80, 0x00, 0x00]), 0)).toThrow();
  });

  it('reads INTEGER bodies as unsigned numbers', () => {
    expect(derUint(readDer(derInteger(600000), 0).body)).toBe(600000);
    expect(derUint(Buffer.alloc(0))).toBe(0);
  });
});

describe('PIV BER-TLV over the DER module', () => {
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return e instanceof TufsignError ? e.code : 'not a TufsignError';
    }
    return undefined;
  };

  it('parses the card templates tufsign reads, with two-byte tags', () => {
    const msg = Buffer.concat([
      tlv(0x7f49, Buffer.concat([tlv(0x86, Buffer.alloc(65, 4))])),
      tlv(0x53, Buffer.alloc(300, 1)),
    ]);
    const [pub, obj] = parseTlvs(msg);
    expect(pub?.tag).toBe(0x7f49);
    expect(findTlv(pub!.value, 0x86)?.length).toBe(65);
    expect(obj).toMatchObject({ tag: 0x53 });
    expect(obj?.value.length).toBe(300);
  });

  it.each([
    ['a value past the end', Buffer.from([0x53, 0x05, 0x00])],
    ['a three-byte length field', Buffer.from([0x53, 0x83, 0x00, 0x00, 0x01, 0x00])],
    ['the indefinite length form', Buffer.from([0x7c, 0x80, 0x00, 0x00])],
    ['a truncated two-byte tag', Buffer.from([0x7f])],
    ['a missing length', Buffer.from([0x53])],
  ])('refuses %s from the card as DEVICE_ERROR', (_name, buf) => {
    expect(code(() => parseTlvs(buf))).toBe('DEVICE_ERROR');
  });

  it('refuses to encode a value PIV cannot carry', () => {
    expect(code(() => tlv(0x53, new Uint8Array(0x10000)))).toBe('MESSAGE_TOO_LARGE');
    expect(tlv(0x53, new Uint8Array(0xffff)).subarray(0, 4).toString('hex')).toBe('5382ffff');
  });
});
