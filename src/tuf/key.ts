/**
 * TUF public keys: parsing, keyids, and signature verification for the three
 * schemes tufsign writes (ed25519, ecdsa-sha2-nistp256, rsassa-pss-sha256),
 * plus the historical encodings clients still accept (legacy keytype
 * `ecdsa-sha2-nistp256`, hex-encoded EC points, PEM ed25519).
 */
import { createPublicKey, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import { TufsignError } from '../errors';
import { sha256Hex } from '../io/hash';
import { canonicalize } from './canonical-json';
import { asObject, reqObject, reqString, schemaError, unrecognized } from './fields';
import { newObject, type JsonObject, type JsonValue } from './json';

export type Scheme = 'ed25519' | 'ecdsa-sha2-nistp256' | 'rsassa-pss-sha256';
export const SCHEMES: readonly Scheme[] = ['ed25519', 'ecdsa-sha2-nistp256', 'rsassa-pss-sha256'];

/** The keytype tufsign writes for each scheme (SPEC-06). */
export const KEYTYPE_FOR_SCHEME: Record<Scheme, string> = {
  ed25519: 'ed25519',
  'ecdsa-sha2-nistp256': 'ecdsa',
  'rsassa-pss-sha256': 'rsa',
};

const ACCEPTED_KEYTYPES: Record<Scheme, readonly string[]> = {
  ed25519: ['ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa', 'ecdsa-sha2-nistp256'],
  'rsassa-pss-sha256': ['rsa'],
};

export function isScheme(s: string): s is Scheme {
  return (SCHEMES as readonly string[]).includes(s);
}

const SPKI_P256_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class Key {
  private cachedKeyObject: KeyObject | undefined;

  constructor(
    readonly keytype: string,
    readonly scheme: string,
    readonly keyval: JsonObject,
    readonly unrecognizedFields: JsonObject = newObject(),
  ) {}

  get publicValue(): string {
    const p = this.keyval['public'];
    return typeof p === 'string' ? p : '';
  }

  static fromJSON(value: JsonValue | undefined, path: string): Key {
    const obj = asObject(value, path, 'SPEC-06 key object');
    const keytype = reqString(obj, 'keytype', path, 'BAD-18 key needs keytype');
    const scheme = reqString(obj, 'scheme', path, 'BAD-18 key needs scheme');
    const keyval = reqObject(obj, 'keyval', path, 'BAD-18 key needs keyval');
    reqString(keyval, 'public', `${path}.keyval`, 'BAD-18 keyval.public must be a string');
    const key = new Key(keytype, scheme, keyval, unrecognized(obj, ['keytype', 'scheme', 'keyval']));
    key.validate(path);
    return key;
  }

  /** Check the keytype/scheme pair and that the public key decodes for it (BAD-19, BAD-20). */
  validate(path: string): void {
    if (!isScheme(this.scheme)) {
      throw schemaError(
        `${path}.scheme`,
        `unsupported signature scheme "${this.scheme}"`,
        'BAD-19 known schemes only: ' + SCHEMES.join(', '),
      );
    }
    if (!ACCEPTED_KEYTYPES[this.scheme].includes(this.keytype)) {
      throw schemaError(
        `${path}.keytype`,
        `keytype "${this.keytype}" does not go with scheme "${this.scheme}"`,
        'BAD-19 keytype/scheme mismatch',
      );
    }
    try {
      this.keyObject();
    } catch (cause) {
      if (cause instanceof TufsignError)
        throw new TufsignError(cause.code, cause.message, { path: `${path}.keyval.public`, rule: cause.rule, cause });
      throw new TufsignError('KEY_INVALID', 'public key does not decode', {
        path: `${path}.keyval.public`,
        rule: 'BAD-20 well-formed public key',
        cause,
      });
    }
  }

  toJSON(): JsonObject {
    const out = newObject();
    Object.assign(out, this.unrecognizedFields);
    out['keytype'] = this.keytype;
    out['scheme'] = this.scheme;
    out['keyval'] = this.keyval;
    return out;
  }

  /** keyid = hex sha256 of the canonical form of the whole key object (SPEC-05). */
  keyid(): string {
    return sha256Hex(canonicalize(this.toJSON()));
  }

  /** The Node KeyObject for this public key; throws KEY_INVALID with the rule broken. */
  keyObject(): KeyObject {
    if (this.cachedKeyObject !== undefined) return this.cachedKeyObject;
    const pub = this.publicValue;
    const bad = (msg: string): never => {
      throw new TufsignError('KEY_INVALID', msg, { rule: 'BAD-20 well-formed public key' });
    };
    let ko: KeyObject;
    if (this.scheme === 'ed25519') {
      if (/^[0-9a-f]{64}$/.test(pub)) {
        ko = createPublicKey({
          key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(pub, 'hex')]),
          format: 'der',
          type: 'spki',
        });
      } else if (pub.startsWith('-----BEGIN PUBLIC KEY-----')) {
        ko = pemKey(pub, bad);
      } else return bad('ed25519 public key must be 64 lowercase hex characters');
      if (ko.asymmetricKeyType !== 'ed25519') bad('not an ed25519 key');
    } else if (this.scheme === 'ecdsa-sha2-nistp256') {
      if (/^04[0-9a-f]{128}$/.test(pub)) {
        // historical go-tuf encoding: hex uncompressed point (read only)
        ko = createPublicKey({
          key: Buffer.concat([SPKI_P256_PREFIX, Buffer.from(pub, 'hex')]),
          format: 'der',
          type: 'spki',
        });
      } else ko = pemKey(pub, bad);
      if (ko.asymmetricKeyType !== 'ec' || ko.asymmetricKeyDetails?.namedCurve !== 'prime256v1') bad('not a P-256 key');
    } else {
      ko = pemKey(pub, bad);
      if (ko.asymmetricKeyType !== 'rsa' && ko.asymmetricKeyType !== 'rsa-pss') bad('not an RSA key');
      if ((ko.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) bad('RSA keys must be at least 2048 bits');
    }
    this.cachedKeyObject = ko;
    return ko;
  }

  /** Verify a raw signature over `data`. Never throws for a bad signature: returns false. */
  verify(signature: Uint8Array, data: Uint8Array): boolean {
    try {
      const ko = this.keyObject();
      switch (this.scheme) {
        case 'ed25519':
          return signature.length === 64 && cryptoVerify(null, data, ko, signature);
        case 'ecdsa-sha2-nistp256':
          return cryptoVerify('sha256', data, { key: ko, dsaEncoding: 'der' }, signature);
        case 'rsassa-pss-sha256':
          return cryptoVerify(
            'sha256',
            data,
            { key: ko, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
            signature,
          );
        default:
          return false;
      }
    } catch {
      return false;
    }
  }

  /** Whether two keys are the same public key, whatever their encoding (BAD-22). */
  samePublicKey(other: Key): boolean {
    try {
      const a = this.keyObject().export({ format: 'der', type: 'spki' });
      const b = other.keyObject().export({ format: 'der', type: 'spki' });
      return a.equals(b);
    } catch {
      return false;
    }
  }

  /** A stable identity of the public key material, used to count each key once (SPEC-11). */
  publicKeyFingerprint(): string {
    try {
      return sha256Hex(this.keyObject().export({ format: 'der', type: 'spki' }));
    } catch {
      return `invalid:${this.keyid()}`;
    }
  }
}

function pemKey(pem: string, bad: (msg: string) => never): KeyObject {
  const m = /^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=\n]+)-----END PUBLIC KEY-----\n?$/.exec(pem);
  if (m === null) return bad('public key must be a PEM SubjectPublicKeyInfo with nothing around it');
  try {
    return createPublicKey({ key: pem, format: 'pem' });
  } catch {
    return bad('PEM public key does not decode');
  }
}

/** The TUF key object tufsign writes for a Node public KeyObject: exactly keytype, scheme, keyval.public. */
export function keyFromPublicKeyObject(ko: KeyObject, scheme: Scheme): Key {
  const keyval = newObject();
  if (scheme === 'ed25519') {
    if (ko.asymmetricKeyType !== 'ed25519') throw new TufsignError('KEY_INVALID', 'key is not ed25519');
    const der = ko.export({ format: 'der', type: 'spki' });
    keyval['public'] = der.subarray(der.length - 32).toString('hex');
  } else {
    const pem = ko.export({ format: 'pem', type: 'spki' }).toString();
    keyval['public'] = pem;
  }
  const key = new Key(KEYTYPE_FOR_SCHEME[scheme], scheme, keyval);
  key.validate('$');
  return key;
}

/** Infer the TUF scheme for a public key object. */
export function schemeForKeyObject(ko: KeyObject): Scheme {
  if (ko.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (ko.asymmetricKeyType === 'ec' && ko.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return 'ecdsa-sha2-nistp256';
  if (ko.asymmetricKeyType === 'rsa') return 'rsassa-pss-sha256';
  throw new TufsignError('SCHEME_UNSUPPORTED', `unsupported key type ${ko.asymmetricKeyType ?? 'unknown'}`, {
    suggestion: 'Use an ed25519, P-256 or RSA (>= 2048 bits) key.',
  });
}
