/**
 * NaCl secretbox (XSalsa20-Poly1305) opening, for go-tuf v0's encrypted key
 * files: published vectors (libsodium's core1/secretbox tests, RFC 8439
 * §2.5.2) and Debian's PyNaCl (libsodium) as an oracle on random inputs, both
 * directions, plus every single-bit tamper of a box.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { hsalsa20, poly1305, secretboxOpen, xsalsa20Xor } from '../../../src/import/nacl-secretbox';
import { SYSTEM_PYTHON } from '../../helpers/cli';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');

/** The construction written out (tag ‖ ciphertext), as the test's own sealer. */
function seal(message: Buffer, nonce: Buffer, key: Buffer): Buffer {
  const stream = xsalsa20Xor(key, nonce, Buffer.concat([Buffer.alloc(32), message]));
  const ciphertext = stream.subarray(32);
  return Buffer.concat([poly1305(stream.subarray(0, 32), ciphertext), ciphertext]);
}

// libsodium test/default/core1.c, secretbox.c and secretbox.exp (NaCl's original vectors)
const SHARED = hex('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
const FIRSTKEY = hex('1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389');
const NONCE = hex('69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37');
const MESSAGE = hex(
  `be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705`,
);
const BOX = hex(`f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186a
c0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae
90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5`);

describe('published vectors', () => {
  test('HSalsa20 (libsodium core1): shared secret, zero input → firstkey', () => {
    expect(hsalsa20(SHARED, Buffer.alloc(16)).toString('hex')).toBe(FIRSTKEY.toString('hex'));
  });

  test('secretbox (libsodium secretbox.exp): open gives the message, seal gives the box', () => {
    expect(MESSAGE.length).toBe(131);
    expect(BOX.length).toBe(147);
    expect(secretboxOpen(BOX, NONCE, FIRSTKEY)?.toString('hex')).toBe(MESSAGE.toString('hex'));
    expect(seal(MESSAGE, NONCE, FIRSTKEY).toString('hex')).toBe(BOX.toString('hex'));
  });

  test('Poly1305 (RFC 8439 §2.5.2)', () => {
    const key = hex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b');
    expect(poly1305(key, Buffer.from('Cryptographic Forum Research Group')).toString('hex')).toBe(
      'a8061dc1305136c6c22b8baf0c0127a9',
    );
  });

  test('a box shorter than its tag, a wrong key or nonce, and every flipped bit are refused (null)', () => {
    expect(secretboxOpen(BOX.subarray(0, 15), NONCE, FIRSTKEY)).toBeNull();
    const otherKey = Buffer.from(FIRSTKEY);
    otherKey[31] = (otherKey[31] as number) ^ 1;
    expect(secretboxOpen(BOX, NONCE, otherKey)).toBeNull();
    const otherNonce = Buffer.from(NONCE);
    otherNonce[0] = (otherNonce[0] as number) ^ 0x80;
    expect(secretboxOpen(BOX, otherNonce, FIRSTKEY)).toBeNull();
    let accepted = 0;
    for (let bit = 0; bit < BOX.length * 8; bit++) {
      const t = Buffer.from(BOX);
      t[bit >> 3] = (t[bit >> 3] as number) ^ (1 << (bit & 7));
      if (secretboxOpen(t, NONCE, FIRSTKEY) !== null) accepted++;
    }
    expect(accepted).toBe(0);
    expect(secretboxOpen(Buffer.concat([BOX, Buffer.from([0])]), NONCE, FIRSTKEY)).toBeNull();
  });
});

describe('PyNaCl (Debian python3-nacl, libsodium) as the oracle', () => {
  // lengths around Salsa20's 64-byte blocks and Poly1305's 16-byte blocks, and a multi-block one
  const lengths = [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 1000, 4099];
  const cases = lengths.map((len) => ({ key: randomBytes(32), nonce: randomBytes(24), message: randomBytes(len) }));

  test('our open reads PyNaCl boxes, PyNaCl opens ours, byte for byte', () => {
    const script = `
import json, sys
from nacl.secret import SecretBox
out = []
for c in json.load(sys.stdin):
    key, nonce, msg, ours = (bytes.fromhex(c[k]) for k in ('key', 'nonce', 'message', 'ours'))
    box = SecretBox(key)
    out.append({'theirs': box.encrypt(msg, nonce).ciphertext.hex(), 'opened': box.decrypt(ours, nonce).hex()})
print(json.dumps(out))
`;
    const input = cases.map((c) => ({
      key: c.key.toString('hex'),
      nonce: c.nonce.toString('hex'),
      message: c.message.toString('hex'),
      ours: seal(c.message, c.nonce, c.key).toString('hex'),
    }));
    const out = JSON.parse(
      execFileSync(SYSTEM_PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' }),
    ) as { theirs: string; opened: string }[];
    expect(out).toHaveLength(cases.length);
    cases.forEach((c, i) => {
      const r = out[i] as { theirs: string; opened: string };
      expect(r.theirs).toBe(input[i]?.ours);
      expect(r.opened).toBe(c.message.toString('hex'));
      expect(secretboxOpen(Buffer.from(r.theirs, 'hex'), c.nonce, c.key)?.toString('hex')).toBe(
        c.message.toString('hex'),
      );
    });
  });
});
