/**
 * The fingerprint signers read aloud to each other: derived from everything
 * that decides what a signer's screen says — the canonical signed bytes of
 * every role in the request and the identity (sha256 of the signed bytes) of
 * each diff basis: the trusted root and each role's trusted version; with delegated roles, also who delegates
 * to each and the identity of every role of the delegating chain. Never
 * from signatures, so it stays the same as signatures are collected; never
 * from display-only notes (labels, URI hints, purpose). 100 bits in Crockford
 * base32 (no I, L, O, U), five groups of four: short enough to read out, long
 * enough that nobody can prepare a second payload with the same fingerprint
 * (2^50 work for a collision).
 */
import { createHash } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DOMAIN = 'tufsign-fingerprint-v2\n';

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

export interface FingerprintInput {
  /** per role in request order: the sha256 of the canonical signed bytes being signed */
  roles: readonly { role: string; signedSha256: string }[];
  /** sha256 of the trusted root's signed bytes, or null for a new repository */
  trustedRoot: string | null;
  /** per role in request order: the sha256 of its diff basis (for root: the trusted root), or null */
  bases: readonly { role: string; signedSha256: string | null }[];
  /** delegated roles: the role delegating to each (whose keys and threshold sign it) */
  delegated?: readonly { role: string; delegatedBy: string }[];
  /** the delegating chain, top-level targets first: the identity of every role whose keys the screen believes */
  delegators?: readonly { role: string; delegatedBy: string | null; signedSha256: string }[];
}

/** Fingerprint over the signed payload and the identity of every diff basis. */
export function fingerprintOf(input: FingerprintInput): string {
  const h = createHash('sha256').update(DOMAIN);
  for (const r of input.roles) h.update(`${r.role} ${r.signedSha256}\n`);
  h.update(`trusted_root ${input.trustedRoot ?? 'none'}\n`);
  for (const b of input.bases) h.update(`basis ${b.role} ${b.signedSha256 ?? 'none'}\n`);
  // Only requests with delegated roles have these lines: a top-level request's fingerprint is unchanged.
  for (const d of input.delegated ?? []) h.update(`delegated_by ${d.role} ${d.delegatedBy}\n`);
  for (const d of input.delegators ?? [])
    h.update(`delegator ${d.role} ${d.delegatedBy ?? 'none'} ${d.signedSha256}\n`);
  return group(base32Crockford(h.digest(), 20));
}

/** The fingerprint of one role's signed bytes alone (status shows it per role; signers compare the request fingerprint). */
export function roleFingerprint(role: string, signedSha256: string): string {
  return fingerprintOf({ roles: [{ role, signedSha256 }], trustedRoot: null, bases: [] });
}
