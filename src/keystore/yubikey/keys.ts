/** Host-side crypto around the card: public keys from PIV TLVs, ECDSA digests, EMSA-PSS encoding. */
import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { TufsignError } from '../../errors';
import type { Scheme } from '../../tuf/key';
import { ALG, ALG_NAMES, Version } from './piv';
import { findTlv, parseTlvs, requireTlv } from './tlv';

const SPKI_PREFIX: Record<number, Buffer> = {
  [ALG.ECCP256]: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
  [ALG.ECCP384]: Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'),
  [ALG.ED25519]: Buffer.from('302a300506032b6570032100', 'hex'),
};

export function isRsaAlg(alg: number): boolean {
  return alg === ALG.RSA1024 || alg === ALG.RSA2048 || alg === ALG.RSA3072 || alg === ALG.RSA4096;
}

/** Public key from a GENERATE answer (7F49 contents) or a metadata tag 04. */
export function publicKeyFromTlv(alg: number, value: Uint8Array): KeyObject {
  const tlvs = parseTlvs(value);
  try {
    if (isRsaAlg(alg)) {
      const n = requireTlv(tlvs, 0x81, 'RSA modulus');
      const e = requireTlv(tlvs, 0x82, 'RSA exponent');
      return createPublicKey({
        key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') },
        format: 'jwk',
      });
    }
    const prefix = SPKI_PREFIX[alg];
    if (prefix === undefined)
      throw new TufsignError('SCHEME_UNSUPPORTED', `unsupported PIV algorithm ${ALG_NAMES[alg] ?? alg}`);
    const point = requireTlv(tlvs, 0x86, 'public point');
    return createPublicKey({ key: Buffer.concat([prefix, point]), format: 'der', type: 'spki' });
  } catch (cause) {
    if (cause instanceof TufsignError) throw cause;
    throw new TufsignError('DEVICE_ERROR', 'the YubiKey returned a public key that does not decode', { cause });
  }
}

/** PIV algorithm of a public key (for keys read from certificates). */
export function algOfKeyObject(ko: KeyObject): number {
  if (ko.asymmetricKeyType === 'ed25519') return ALG.ED25519;
  if (ko.asymmetricKeyType === 'ec') {
    if (ko.asymmetricKeyDetails?.namedCurve === 'prime256v1') return ALG.ECCP256;
    if (ko.asymmetricKeyDetails?.namedCurve === 'secp384r1') return ALG.ECCP384;
  }
  if (ko.asymmetricKeyType === 'rsa') {
    const bits = ko.asymmetricKeyDetails?.modulusLength;
    if (bits === 1024) return ALG.RSA1024;
    if (bits === 2048) return ALG.RSA2048;
    if (bits === 3072) return ALG.RSA3072;
    if (bits === 4096) return ALG.RSA4096;
  }
  throw new TufsignError('SCHEME_UNSUPPORTED', `unsupported key type ${ko.asymmetricKeyType ?? 'unknown'}`);
}

/** The TUF scheme a PIV algorithm signs with; undefined for keys TUF cannot use here (P-384, RSA-1024, X25519). */
export function schemeForAlg(alg: number): Scheme | undefined {
  if (alg === ALG.ECCP256) return 'ecdsa-sha2-nistp256';
  if (alg === ALG.ED25519) return 'ed25519';
  if (alg === ALG.RSA2048 || alg === ALG.RSA3072 || alg === ALG.RSA4096) return 'rsassa-pss-sha256';
  return undefined;
}

/** The PIV algorithm tufsign generates for a scheme, or FIRMWARE_UNSUPPORTED naming the firmware. */
export function algForScheme(scheme: Scheme, version: Version): number {
  switch (scheme) {
    case 'ecdsa-sha2-nistp256':
      return ALG.ECCP256;
    case 'ed25519':
      if (!version.atLeast(5, 7)) {
        throw new TufsignError(
          'FIRMWARE_UNSUPPORTED',
          `Ed25519 keys need YubiKey firmware 5.7 or later; this YubiKey has firmware ${version.toString()}`,
          {
            details: { firmware: version.toString(), required: '5.7.0' },
            suggestion: 'Use --scheme ecdsa-sha2-nistp256 (supported by every YubiKey 4 and 5).',
          },
        );
      }
      return ALG.ED25519;
    case 'rsassa-pss-sha256':
      // RSA 3072 only exists from 5.7; older keys top out at 2048.
      return version.atLeast(5, 7) ? ALG.RSA3072 : ALG.RSA2048;
  }
}

export function rsaModulusBytes(alg: number): number {
  switch (alg) {
    case ALG.RSA1024:
      return 128;
    case ALG.RSA2048:
      return 256;
    case ALG.RSA3072:
      return 384;
    default:
      return 512;
  }
}

function mgf1(seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0; out.length * 32 < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash('sha256').update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-256, MGF1-SHA-256 and a 32-byte salt; `modBits` of the RSA key. */
export function emsaPssEncode(message: Uint8Array, modBits: number, salt: Buffer = randomBytes(32)): Buffer {
  const hLen = 32;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + salt.length + 2)
    throw new TufsignError('MECHANISM_UNSUPPORTED', 'RSA key too small for PSS with a 32-byte salt');
  const mHash = createHash('sha256').update(message).digest();
  const h = createHash('sha256').update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.alloc(emLen - hLen - 1);
  db[emLen - salt.length - hLen - 2] = 0x01;
  salt.copy(db, db.length - salt.length);
  const mask = mgf1(h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  // The card works on a block as long as the modulus.
  return em.length < Math.ceil(modBits / 8)
    ? Buffer.concat([Buffer.alloc(Math.ceil(modBits / 8) - em.length), em])
    : em;
}

/** What the card signs for ECDSA: the hash of the message, computed on the host. */
export function ecdsaDigest(alg: number, message: Uint8Array): Buffer {
  return createHash(alg === ALG.ECCP384 ? 'sha384' : 'sha256')
    .update(message)
    .digest();
}

/** Left-pad a raw RSA result to the modulus length (cards may drop leading zero bytes). */
export function padRsaSignature(sig: Buffer, modulusBytes: number): Buffer {
  if (sig.length >= modulusBytes) return sig;
  return Buffer.concat([Buffer.alloc(modulusBytes - sig.length), sig]);
}

export { findTlv };
