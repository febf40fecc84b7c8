/** Finding tokens and key objects that match a URI, and reading their public keys. */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { TufsignError } from '../../errors';
import { keyFromPublicKeyObject, type Key, type Scheme } from '../../tuf/key';
import {
  CKA_CLASS,
  CKA_EC_PARAMS,
  CKA_EC_POINT,
  CKA_ID,
  CKA_KEY_TYPE,
  CKA_LABEL,
  CKA_MODULUS,
  CKA_PUBLIC_EXPONENT,
  CKA_VALUE,
  CKK_EC,
  CKK_EC_EDWARDS,
  CKK_RSA,
  CKM_ECDSA,
  CKM_ECDSA_SHA256,
  CKM_EC_EDWARDS_KEY_PAIR_GEN,
  CKM_EC_KEY_PAIR_GEN,
  CKM_EDDSA,
  CKM_RSA_PKCS_KEY_PAIR_GEN,
  CKM_RSA_PKCS_PSS,
  CKM_SHA256_RSA_PKCS_PSS,
  CKO_CERTIFICATE,
  CKO_PRIVATE_KEY,
  CKO_PUBLIC_KEY,
  type Attribute,
  type Handle,
} from './api';
import { curveOfParams, ecPublicKey, rsaPublicKey, unwrapEcPoint } from './encoding';
import { deviceError, type LoadedModule, type TokenDescription, type TokenSession } from './runtime';
import type { Pkcs11UriPath } from './uri';

export interface TokenMatch {
  slot: Handle;
  token: TokenDescription;
}

function tokenSummary(t: TokenDescription): Record<string, string | number> {
  return { label: t.label, serial: t.serial, manufacturer: t.manufacturer, model: t.model, slotId: t.slotId };
}

/** The one token the URI names (BAD-55 none, BAD-56 several). Uninitialized tokens never match. */
export function selectToken(module: LoadedModule, uri: Pkcs11UriPath): TokenMatch {
  const info = module.info();
  const lib = {
    manufacturer: info.manufacturerID.replace(/[\s\0]+$/, ''),
    description: info.libraryDescription.replace(/[\s\0]+$/, ''),
    version: `${info.libraryVersion.major}.${info.libraryVersion.minor}`,
  };
  if (uri['library-manufacturer'] !== undefined && uri['library-manufacturer'] !== lib.manufacturer)
    return noToken(module, uri, []);
  if (uri['library-description'] !== undefined && uri['library-description'] !== lib.description)
    return noToken(module, uri, []);
  if (uri['library-version'] !== undefined && uri['library-version'] !== lib.version) return noToken(module, uri, []);
  const all = module.tokens().filter((t) => t.token.flags.tokenInitialized);
  const matches = all.filter(({ token: t }) => {
    if (uri.token !== undefined && t.label !== uri.token) return false;
    if (uri.serial !== undefined && t.serial !== uri.serial) return false;
    if (uri.manufacturer !== undefined && t.manufacturer !== uri.manufacturer) return false;
    if (uri.model !== undefined && t.model !== uri.model) return false;
    if (uri['slot-id'] !== undefined && t.slotId !== uri['slot-id']) return false;
    if (uri['slot-description'] !== undefined && t.slotDescription !== uri['slot-description']) return false;
    if (uri['slot-manufacturer'] !== undefined && t.slotManufacturer !== uri['slot-manufacturer']) return false;
    return true;
  });
  const [first, second] = matches;
  if (first === undefined)
    return noToken(
      module,
      uri,
      all.map((t) => t.token),
    );
  if (second !== undefined) {
    throw new TufsignError(
      'TOKEN_AMBIGUOUS',
      `${matches.length} tokens match the key URI: ${matches.map((m) => `"${m.token.label}" (serial ${m.token.serial})`).join(', ')}`,
      {
        rule: 'BAD-56 exactly one token must match',
        suggestion: `Add serial=… to the URI to pick one, e.g. pkcs11:serial=${first.token.serial};… (the serials are listed by \`tufsign devices\`).`,
        details: { tokens: matches.map((m) => tokenSummary(m.token)) },
      },
    );
  }
  return first;
}

function noToken(module: LoadedModule, uri: Pkcs11UriPath, present: TokenDescription[]): never {
  const wanted = [
    uri.token === undefined ? undefined : `label "${uri.token}"`,
    uri.serial === undefined ? undefined : `serial ${uri.serial}`,
    uri.manufacturer === undefined ? undefined : `manufacturer "${uri.manufacturer}"`,
    uri.model === undefined ? undefined : `model "${uri.model}"`,
    uri['slot-id'] === undefined ? undefined : `slot ${uri['slot-id']}`,
  ].filter((s): s is string => s !== undefined);
  const seen =
    present.length === 0
      ? 'no initialized token is present'
      : `present: ${present.map((t) => `"${t.label}" (serial ${t.serial})`).join(', ')}`;
  throw new TufsignError(
    'TOKEN_NOT_PRESENT',
    `no token with ${wanted.length > 0 ? wanted.join(', ') : "the URI's attributes"} in ${module.path} (${seen})`,
    {
      rule: 'BAD-55 the token must be present',
      suggestion:
        'Insert or connect the token, or correct token=/serial= in the key URI; `tufsign devices` lists the tokens this machine sees.',
      details: { module: module.path, present: present.map(tokenSummary) },
    },
  );
}

export function findObjects(session: TokenSession, template: Attribute[]): Handle[] {
  const api = session.api;
  try {
    api.C_FindObjectsInit(session.handle, template);
    try {
      const out: Handle[] = [];
      for (;;) {
        const batch = api.C_FindObjects(session.handle, 32);
        out.push(...batch);
        if (batch.length < 32) return out;
      }
    } finally {
      api.C_FindObjectsFinal(session.handle);
    }
  } catch (e) {
    throw deviceError(e, 'searching the token for keys', session.token);
  }
}

/** One attribute, or undefined when the object does not have it (or keeps it secret). */
export function readAttribute(session: TokenSession, object: Handle, type: number): Buffer | undefined {
  try {
    const [attr] = session.api.C_GetAttributeValue(session.handle, object, [{ type }]);
    return attr?.value;
  } catch {
    return undefined;
  }
}

function readUlong(session: TokenSession, object: Handle, type: number): number | undefined {
  const v = readAttribute(session, object, type);
  if (v === undefined || v.length < 4) return undefined;
  // CK_ULONG in host order; values tufsign reads are small, so the low 32 bits suffice
  return v.readUInt32LE(0);
}

export interface KeyObjectInfo {
  handle: Handle;
  label: string;
  id: Buffer;
}

export function describeObject(session: TokenSession, handle: Handle): KeyObjectInfo {
  return {
    handle,
    label: readAttribute(session, handle, CKA_LABEL)?.toString('utf8') ?? '',
    id: readAttribute(session, handle, CKA_ID) ?? Buffer.alloc(0),
  };
}

export function objectTemplate(
  cls: number,
  uri: { object?: string | undefined; id?: Buffer | undefined },
): Attribute[] {
  const t: Attribute[] = [{ type: CKA_CLASS, value: cls }];
  if (uri.object !== undefined) t.push({ type: CKA_LABEL, value: uri.object });
  if (uri.id !== undefined) t.push({ type: CKA_ID, value: uri.id });
  return t;
}

export function findKeys(
  session: TokenSession,
  cls: number,
  uri: { object?: string | undefined; id?: Buffer | undefined },
): KeyObjectInfo[] {
  return findObjects(session, objectTemplate(cls, uri)).map((h) => describeObject(session, h));
}

export function keyListing(keys: KeyObjectInfo[]): { label: string; id: string }[] {
  return keys.map((k) => ({ label: k.label, id: k.id.toString('hex') }));
}

export interface TokenPublicKey {
  keyObject: KeyObject;
  scheme: Scheme;
}

function schemeUnsupported(what: string): TufsignError {
  return new TufsignError(
    'SCHEME_UNSUPPORTED',
    `the key on the token is ${what}, which TUF signing with tufsign does not support`,
    {
      rule: 'schemes: ed25519, ecdsa-sha2-nistp256, rsassa-pss-sha256',
      suggestion: 'Generate an ed25519, P-256 or RSA key with `tufsign key generate --backend pkcs11`.',
    },
  );
}

/** Public key of a CKO_PUBLIC_KEY object, or undefined when its values are not readable. */
export function readPublicKeyObject(session: TokenSession, handle: Handle): TokenPublicKey | undefined {
  const keyType = readUlong(session, handle, CKA_KEY_TYPE);
  if (keyType === CKK_RSA) {
    const n = readAttribute(session, handle, CKA_MODULUS);
    const e = readAttribute(session, handle, CKA_PUBLIC_EXPONENT);
    if (n === undefined || e === undefined) return undefined;
    const ko = rsaPublicKey(n, e);
    if ((ko.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw schemeUnsupported(`a ${ko.asymmetricKeyDetails?.modulusLength ?? 0}-bit RSA key`);
    return { keyObject: ko, scheme: 'rsassa-pss-sha256' };
  }
  if (keyType === CKK_EC || keyType === CKK_EC_EDWARDS) {
    const params = readAttribute(session, handle, CKA_EC_PARAMS);
    const point = readAttribute(session, handle, CKA_EC_POINT);
    if (params === undefined || point === undefined) return undefined;
    const curve = curveOfParams(params);
    if (curve === undefined) throw schemeUnsupported(`an EC key on curve ${params.toString('hex')}`);
    return {
      keyObject: ecPublicKey(unwrapEcPoint(point, curve), curve),
      scheme: curve === 'p256' ? 'ecdsa-sha2-nistp256' : 'ed25519',
    };
  }
  if (keyType === undefined) return undefined;
  throw schemeUnsupported(`of PKCS#11 key type 0x${keyType.toString(16)}`);
}

function schemeOfKeyObject(ko: KeyObject): Scheme | undefined {
  if (ko.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (ko.asymmetricKeyType === 'ec' && ko.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return 'ecdsa-sha2-nistp256';
  if (ko.asymmetricKeyType === 'rsa' && (ko.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048)
    return 'rsassa-pss-sha256';
  return undefined;
}

/** Public key from a certificate object (ykcs11 and smart cards keep one beside each key). */
export function readCertificatePublicKey(session: TokenSession, handle: Handle): TokenPublicKey | undefined {
  const der = readAttribute(session, handle, CKA_VALUE);
  if (der === undefined) return undefined;
  try {
    const ko = new X509Certificate(der).publicKey;
    const scheme = schemeOfKeyObject(ko);
    return scheme === undefined ? undefined : { keyObject: ko, scheme };
  } catch {
    return undefined;
  }
}

export interface LocatedPublicKey {
  publicKey: TokenPublicKey;
  object: KeyObjectInfo;
}

/**
 * The public half of the key the URI names, from a public-key object or else a
 * certificate with the same label/id. Throws KEY_AMBIGUOUS when several match;
 * returns undefined when nothing readable matches (yet: some tokens only show
 * public objects after login).
 */
export function locatePublicKey(
  session: TokenSession,
  uri: { object?: string | undefined; id?: Buffer | undefined },
): LocatedPublicKey | undefined {
  for (const cls of [CKO_PUBLIC_KEY, CKO_CERTIFICATE]) {
    const found = findKeys(session, cls, uri);
    if (found.length > 1) throw ambiguousKeys(session, found);
    const [obj] = found;
    if (obj === undefined) continue;
    const pk =
      cls === CKO_PUBLIC_KEY ? readPublicKeyObject(session, obj.handle) : readCertificatePublicKey(session, obj.handle);
    if (pk !== undefined) return { publicKey: pk, object: obj };
  }
  return undefined;
}

export function ambiguousKeys(session: TokenSession, found: KeyObjectInfo[]): TufsignError {
  return new TufsignError(
    'KEY_AMBIGUOUS',
    `${found.length} keys on token "${session.token.label}" match the key URI: ${found.map((k) => `"${k.label}" (id ${k.id.toString('hex')})`).join(', ')}`,
    {
      rule: 'BAD-56 exactly one key must match',
      suggestion: 'Name the key by both object= and id= (id=%01%02 for hex 0102); `tufsign devices` lists the keys.',
      details: { keys: keyListing(found) },
    },
  );
}

export function privateKeyOf(
  session: TokenSession,
  uri: { object?: string | undefined; id?: Buffer | undefined },
  pairedId: Buffer | undefined,
): KeyObjectInfo {
  let found = findKeys(session, CKO_PRIVATE_KEY, uri);
  // A label shared by several keys is still unambiguous when the public key told us the id.
  if (found.length > 1 && pairedId !== undefined && pairedId.length > 0)
    found = found.filter((k) => k.id.equals(pairedId));
  if (found.length > 1) throw ambiguousKeys(session, found);
  const [key] = found;
  if (key === undefined) throw keyNotFound(session, uri);
  return key;
}

export function keyNotFound(
  session: TokenSession,
  uri: { object?: string | undefined; id?: Buffer | undefined },
): TufsignError {
  const keys = findKeys(session, CKO_PRIVATE_KEY, {});
  const pubs = keys.length > 0 ? keys : findKeys(session, CKO_PUBLIC_KEY, {});
  const wanted = [
    uri.object === undefined ? undefined : `label "${uri.object}"`,
    uri.id === undefined ? undefined : `id ${uri.id.toString('hex')}`,
  ]
    .filter((s) => s !== undefined)
    .join(' and ');
  return new TufsignError(
    'KEY_NOT_FOUND',
    `no private key with ${wanted === '' ? "the URI's attributes" : wanted} on token "${session.token.label}"`,
    {
      rule: 'BAD-56 the key must exist on the token',
      suggestion:
        pubs.length > 0
          ? `Keys on this token: ${pubs.map((k) => `"${k.label}" (id ${k.id.toString('hex')})`).join(', ')}. Correct object=/id= in the URI.`
          : 'This token holds no key tufsign can see. Generate one with `tufsign key generate --backend pkcs11`.',
      details: { keys: keyListing(pubs) },
    },
  );
}

export function tufKey(pk: TokenPublicKey, expected: Key | undefined): Key {
  return keyFromPublicKeyObject(pk.keyObject, (expected?.scheme as Scheme | undefined) ?? pk.scheme);
}

/** How a token signs each scheme, given its mechanism list; undefined when it cannot. */
export interface SignMechanism {
  mechanism: number;
  /** hash on the host before handing the digest to the token */
  prehash: boolean;
}

export function signMechanism(scheme: Scheme, mechs: Set<number>): SignMechanism | undefined {
  switch (scheme) {
    case 'ed25519':
      return mechs.has(CKM_EDDSA) ? { mechanism: CKM_EDDSA, prehash: false } : undefined;
    case 'ecdsa-sha2-nistp256':
      if (mechs.has(CKM_ECDSA)) return { mechanism: CKM_ECDSA, prehash: true };
      return mechs.has(CKM_ECDSA_SHA256) ? { mechanism: CKM_ECDSA_SHA256, prehash: false } : undefined;
    case 'rsassa-pss-sha256':
      if (mechs.has(CKM_RSA_PKCS_PSS)) return { mechanism: CKM_RSA_PKCS_PSS, prehash: true };
      return mechs.has(CKM_SHA256_RSA_PKCS_PSS) ? { mechanism: CKM_SHA256_RSA_PKCS_PSS, prehash: false } : undefined;
  }
}

export const KEYGEN_MECHANISM: Record<Scheme, number> = {
  ed25519: CKM_EC_EDWARDS_KEY_PAIR_GEN,
  'ecdsa-sha2-nistp256': CKM_EC_KEY_PAIR_GEN,
  'rsassa-pss-sha256': CKM_RSA_PKCS_KEY_PAIR_GEN,
};

export function signingSchemes(mechs: Set<number>): Scheme[] {
  return (['ed25519', 'ecdsa-sha2-nistp256', 'rsassa-pss-sha256'] as const).filter(
    (s) => signMechanism(s, mechs) !== undefined,
  );
}

export function generatableSchemes(mechs: Set<number>): Scheme[] {
  return signingSchemes(mechs).filter((s) => mechs.has(KEYGEN_MECHANISM[s]));
}

export function mechanismUnsupported(
  token: TokenDescription,
  scheme: Scheme,
  mechs: Set<number>,
  action: 'sign' | 'generate',
): TufsignError {
  const can = action === 'sign' ? signingSchemes(mechs) : generatableSchemes(mechs);
  return new TufsignError(
    'MECHANISM_UNSUPPORTED',
    `token "${token.label}" cannot ${action === 'sign' ? 'sign with' : 'generate'} ${scheme} keys`,
    {
      rule: 'the token must offer the PKCS#11 mechanism for the scheme',
      suggestion:
        can.length > 0
          ? `This token can ${action} ${can.join(', ')}; choose one of those schemes.`
          : `This token offers none of the mechanisms tufsign ${action === 'sign' ? 'signs' : 'generates keys'} with.`,
      details: { scheme, supportedSchemes: can },
    },
  );
}
