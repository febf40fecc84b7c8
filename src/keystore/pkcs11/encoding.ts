/**
 * The few encodings PKCS#11 hands back: CKA_EC_PARAMS (curve OID), CKA_EC_POINT
 * (an OCTET STRING around the point, or a bare point on some HSMs), and raw
 * r‖s ECDSA output that TUF wants as a DER SEQUENCE of two INTEGERs. The DER
 * itself is read and written by `../der`.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { TufsignError } from '../../errors';
import { derInteger, derSequence, readDer } from '../der';

export const EC_PARAMS_P256 = Buffer.from('06082a8648ce3d030107', 'hex');
export const EC_PARAMS_ED25519 = Buffer.from('06032b6570', 'hex');
// PKCS#11 3.0 also allows the curve name as a PrintableString.
const EC_PARAMS_ED25519_NAME = Buffer.concat([Buffer.from([0x13, 12]), Buffer.from('edwards25519', 'ascii')]);
const SPKI_P256_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export type Curve = 'p256' | 'ed25519';

/** Curve of CKA_EC_PARAMS, or undefined for curves tufsign cannot use (P-384, ...). */
export function curveOfParams(params: Buffer): Curve | undefined {
  if (params.equals(EC_PARAMS_P256)) return 'p256';
  if (params.equals(EC_PARAMS_ED25519) || params.equals(EC_PARAMS_ED25519_NAME)) return 'ed25519';
  return undefined;
}

/**
 * The bare point from CKA_EC_POINT. The expected point length decides between
 * "DER-wrapped" and "bare": both start with 0x04 for P-256, so sniffing bytes
 * alone would misread one point in 256.
 */
export function unwrapEcPoint(value: Buffer, curve: Curve): Buffer {
  const pointLen = curve === 'p256' ? 65 : 32;
  if (value.length === pointLen && (curve === 'ed25519' || value[0] === 0x04)) return value;
  if (value[0] === 0x04) {
    const wrapped = readOctetString(value);
    if (wrapped !== undefined && wrapped.length === pointLen && (curve === 'ed25519' || wrapped[0] === 0x04))
      return wrapped;
  }
  throw new TufsignError('KEY_INVALID', `the token returned an EC point tufsign cannot read (${value.length} bytes)`, {
    rule: 'CKA_EC_POINT is a DER OCTET STRING around an uncompressed point',
  });
}

/** The body of an OCTET STRING that fills `value` exactly (length field of at most 2 bytes), or undefined. */
function readOctetString(value: Buffer): Buffer | undefined {
  try {
    const d = readDer(value, 0, 2);
    return d.tag === 0x04 && d.end === value.length ? d.body : undefined;
  } catch {
    return undefined;
  }
}

export function ecPublicKey(point: Buffer, curve: Curve): KeyObject {
  const prefix = curve === 'p256' ? SPKI_P256_PREFIX : SPKI_ED25519_PREFIX;
  return createPublicKey({ key: Buffer.concat([prefix, point]), format: 'der', type: 'spki' });
}

export function rsaPublicKey(modulus: Buffer, exponent: Buffer): KeyObject {
  return createPublicKey({
    key: { kty: 'RSA', n: modulus.toString('base64url'), e: exponent.toString('base64url') },
    format: 'jwk',
  });
}

/** PKCS#11 ECDSA output (r‖s, each the curve size) to the DER that TUF and securesystemslib verify. */
export function ecdsaRawToDer(raw: Buffer): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0 || raw.length > 132) {
    throw new TufsignError('DEVICE_ERROR', `the token returned an ECDSA signature of ${raw.length} bytes`, {
      rule: 'CKM_ECDSA returns r||s',
    });
  }
  const half = raw.length / 2;
  return derSequence(derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half)));
}
