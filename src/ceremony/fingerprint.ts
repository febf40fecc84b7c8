/**
 * The fingerprint signers read aloud to each other: derived only from the
 * canonical signed bytes of every role in the request (never from
 * signatures, so it stays the same as signatures are collected). 100 bits in
 * Crockford base32 (no I, L, O, U), five groups of four: short enough to read
 * out, long enough that nobody can prepare a second payload with the same
 * fingerprint (2^50 work for a collision).
 */
import { createHash } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DOMAIN = 'tufsign-fingerprint-v1\n';

export function base32Crockford(bytes: Uint8Array, chars: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += CROCKFORD[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
    if (out.length >= chars) break;
  }
  return out;
}

function group(s: string): string {
  return (s.match(/.{1,4}/g) ?? []).join('-');
}

/** Fingerprint over `(role, sha256 of canonical signed bytes)` pairs, in request order. */
export function fingerprintOf(roles: readonly { role: string; signedSha256: string }[]): string {
  const h = createHash('sha256').update(DOMAIN);
  for (const r of roles) h.update(`${r.role} ${r.signedSha256}\n`);
  return group(base32Crockford(h.digest(), 20));
}

/** The fingerprint of one role alone (status shows it per role; signers compare the request fingerprint). */
export function roleFingerprint(role: string, signedSha256: string): string {
  return fingerprintOf([{ role, signedSha256 }]);
}
