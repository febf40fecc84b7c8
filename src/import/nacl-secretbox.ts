/**
 * NaCl `crypto_secretbox` (XSalsa20-Poly1305), opening only: the cipher of
 * go-tuf v0's encrypted key files. Node's crypto has neither Salsa20 nor a
 * bare Poly1305, and a runtime dependency for one legacy import path is not
 * worth it (ADR 0015), so this is the reference construction, small enough to
 * read against the papers:
 *
 * - HSalsa20(key, nonce[0..16]) → subkey; Salsa20(subkey, nonce[16..24]) is the stream;
 * - the first 32 stream bytes are the one-time Poly1305 key, the rest XORs the message;
 * - the box is tag(16) ‖ ciphertext (Go's `secretbox.Seal`, PyNaCl's `.ciphertext`).
 *
 * Checked against libsodium's and RFC 8439's published vectors and against
 * PyNaCl (libsodium) on random inputs (test/unit/import/nacl-secretbox.test.ts).
 * Poly1305 uses BigInt: not constant-time, acceptable for decrypting a local
 * key file once (no attacker can query it); the tag comparison is.
 */
import { timingSafeEqual } from 'node:crypto';

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]; // "expand 32-byte k"

export const SECRETBOX_KEY_BYTES = 32;
export const SECRETBOX_NONCE_BYTES = 24;
export const SECRETBOX_TAG_BYTES = 16;

function rotl(v: number, c: number): number {
  return (v << c) | (v >>> (32 - c));
}

/** Salsa20's quarterround on words a, b, c, d of the state. */
function quarter(x: Uint32Array, a: number, b: number, c: number, d: number): void {
  let ya = x[a] as number;
  let yb = x[b] as number;
  let yc = x[c] as number;
  let yd = x[d] as number;
  yb ^= rotl((ya + yd) | 0, 7);
  yc ^= rotl((yb + ya) | 0, 9);
  yd ^= rotl((yc + yb) | 0, 13);
  ya ^= rotl((yd + yc) | 0, 18);
  x[a] = ya;
  x[b] = yb;
  x[c] = yc;
  x[d] = yd;
}

/** The 20-round Salsa20 permutation of a 16-word state, in place (10 column rounds + 10 row rounds). */
function salsa20Rounds(x: Uint32Array): void {
  for (let i = 0; i < 20; i += 2) {
    quarter(x, 0, 4, 8, 12);
    quarter(x, 5, 9, 13, 1);
    quarter(x, 10, 14, 2, 6);
    quarter(x, 15, 3, 7, 11);
    quarter(x, 0, 1, 2, 3);
    quarter(x, 5, 6, 7, 4);
    quarter(x, 10, 11, 8, 9);
    quarter(x, 15, 12, 13, 14);
  }
}

/** Salsa20 input block: constants on the diagonal, key around them, 16 bytes of nonce/counter in the middle. */
function initialState(key: Uint8Array, input16: Uint8Array): Uint32Array {
  const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  const n = Buffer.from(input16.buffer, input16.byteOffset, input16.byteLength);
  const s = new Uint32Array(16);
  s[0] = SIGMA[0]!;
  s[5] = SIGMA[1]!;
  s[10] = SIGMA[2]!;
  s[15] = SIGMA[3]!;
  for (let i = 0; i < 4; i++) {
    s[1 + i] = k.readUInt32LE(4 * i);
    s[11 + i] = k.readUInt32LE(16 + 4 * i);
    s[6 + i] = n.readUInt32LE(4 * i);
  }
  return s;
}

/** HSalsa20: derives XSalsa20's subkey from the key and the first 16 nonce bytes. */
export function hsalsa20(key: Uint8Array, nonce16: Uint8Array): Buffer {
  const x = initialState(key, nonce16);
  salsa20Rounds(x);
  const out = Buffer.alloc(32);
  [0, 5, 10, 15, 6, 7, 8, 9].forEach((w, i) => out.writeUInt32LE(x[w]!, 4 * i));
  x.fill(0);
  return out;
}

/** XSalsa20 keystream XORed into `data` (a copy), starting at block counter 0. */
export function xsalsa20Xor(key: Uint8Array, nonce: Uint8Array, data: Uint8Array): Buffer {
  if (key.length !== SECRETBOX_KEY_BYTES || nonce.length !== SECRETBOX_NONCE_BYTES)
    throw new RangeError('XSalsa20 takes a 32-byte key and a 24-byte nonce');
  const subkey = hsalsa20(key, nonce.subarray(0, 16));
  const input = Buffer.alloc(16);
  Buffer.from(nonce.subarray(16, 24)).copy(input, 0);
  const out = Buffer.from(data);
  const block = Buffer.alloc(64);
  try {
    for (let off = 0, counter = 0; off < out.length; off += 64, counter++) {
      input.writeUInt32LE(counter >>> 0, 8);
      input.writeUInt32LE(Math.floor(counter / 0x100000000), 12);
      const s = initialState(subkey, input);
      const x = Uint32Array.from(s);
      salsa20Rounds(x);
      for (let i = 0; i < 16; i++) block.writeUInt32LE((x[i]! + s[i]!) >>> 0, 4 * i);
      const n = Math.min(64, out.length - off);
      for (let i = 0; i < n; i++) out[off + i] = (out[off + i] as number) ^ (block[i] as number);
      s.fill(0);
      x.fill(0);
    }
  } finally {
    subkey.fill(0);
    block.fill(0);
  }
  return out;
}

function leBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

const P1305 = (1n << 130n) - 5n;

/** Poly1305 one-time authenticator (RFC 8439 §2.5). */
export function poly1305(key: Uint8Array, message: Uint8Array): Buffer {
  if (key.length !== 32) throw new RangeError('Poly1305 takes a 32-byte key');
  const r = leBigInt(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = leBigInt(key.subarray(16, 32));
  let acc = 0n;
  for (let off = 0; off < message.length; off += 16) {
    const chunk = message.subarray(off, Math.min(off + 16, message.length));
    const n = leBigInt(chunk) + (1n << BigInt(8 * chunk.length));
    acc = ((acc + n) * r) % P1305;
  }
  acc = (acc + s) & ((1n << 128n) - 1n);
  const tag = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) {
    tag[i] = Number(acc & 0xffn);
    acc >>= 8n;
  }
  return tag;
}

/**
 * Open a NaCl secretbox (`tag ‖ ciphertext`). Returns the plaintext, or null
 * when the tag does not verify (wrong key or altered box): nothing is
 * decrypted before the tag is checked.
 */
export function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | null {
  if (box.length < SECRETBOX_TAG_BYTES) return null;
  const tag = box.subarray(0, SECRETBOX_TAG_BYTES);
  const ciphertext = box.subarray(SECRETBOX_TAG_BYTES);
  const polyKey = xsalsa20Xor(key, nonce, Buffer.alloc(32));
  try {
    const expected = poly1305(polyKey, ciphertext);
    if (!timingSafeEqual(expected, tag)) return null;
  } finally {
    polyKey.fill(0);
  }
  const stream = xsalsa20Xor(key, nonce, Buffer.concat([Buffer.alloc(32), ciphertext]));
  const plaintext = Buffer.from(stream.subarray(32));
  stream.fill(0);
  return plaintext;
}
