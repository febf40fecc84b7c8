import { derChildren, readDer } from '../../../src/keystore/der';

describe('DER reader', () => {
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
