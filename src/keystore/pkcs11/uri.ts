/**
 * RFC 7512 PKCS#11 URIs: `pkcs11:token=ci;object=targets;id=%02?module-path=/usr/lib/softhsm/libsofthsm2.so`.
 *
 * Strict on purpose: an unknown or repeated attribute is an error (a typo must
 * not silently widen the match to "any key on any token"), and `pin-value` is
 * refused because a URI ends up in argv, shell history and tufsign.json.
 */
import { TufsignError } from '../../errors';

/** Path attributes (what identifies the token and the object). */
export interface Pkcs11UriPath {
  token?: string;
  manufacturer?: string;
  serial?: string;
  model?: string;
  object?: string;
  id?: Buffer;
  type?: 'private' | 'public' | 'cert' | 'secret-key' | 'data';
  'library-manufacturer'?: string;
  'library-description'?: string;
  'library-version'?: string;
  'slot-description'?: string;
  'slot-manufacturer'?: string;
  'slot-id'?: number;
}

export interface Pkcs11Uri extends Pkcs11UriPath {
  pinSource?: string;
  moduleName?: string;
  modulePath?: string;
}

const TEXT_PATH_ATTRS = [
  'token',
  'manufacturer',
  'serial',
  'model',
  'object',
  'library-manufacturer',
  'library-description',
  'library-version',
  'slot-description',
  'slot-manufacturer',
] as const;
type TextPathAttr = (typeof TEXT_PATH_ATTRS)[number];
const PATH_ATTRS: readonly string[] = [...TEXT_PATH_ATTRS, 'id', 'type', 'slot-id'];
const QUERY_ATTRS: readonly string[] = ['pin-source', 'pin-value', 'module-name', 'module-path'];
const TYPES: readonly string[] = ['private', 'public', 'cert', 'secret-key', 'data'];

const RULE = 'RFC 7512 pkcs11:ATTR=VALUE;...?QUERY=VALUE&...';
const EXAMPLE =
  "Example (quoted: the shell splits at ';'): 'pkcs11:token=my-hsm;object=targets-1?module-path=/usr/lib/softhsm/libsofthsm2.so'";

function invalid(message: string, suggestion = EXAMPLE): TufsignError {
  return new TufsignError('KEY_URI_INVALID', message, { rule: RULE, suggestion });
}

/** Percent-decode into bytes; refuses a stray `%`. */
export function percentDecode(value: string, attr: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value.charAt(i);
    if (ch === '%') {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex))
        throw invalid(`bad percent-encoding in the "${attr}" attribute of a pkcs11: URI`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(ch, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function decodeText(value: string, attr: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(percentDecode(value, attr));
  } catch (e) {
    if (e instanceof TufsignError) throw e;
    throw invalid(`the "${attr}" attribute of a pkcs11: URI is not valid UTF-8`);
  }
}

function splitAttr(part: string, sep: string): [string, string] {
  const eq = part.indexOf('=');
  // The part is not echoed: a mistyped URI may hold a secret.
  if (eq <= 0) throw invalid(`an attribute in a pkcs11: URI is not NAME=VALUE (attributes are separated by "${sep}")`);
  return [part.slice(0, eq).toLowerCase(), part.slice(eq + 1)];
}

export function isPkcs11Uri(uri: string): boolean {
  return /^pkcs11:/i.test(uri);
}

export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (!isPkcs11Uri(uri)) throw invalid('not a pkcs11: URI');
  const body = uri.slice('pkcs11:'.length);
  const q = body.indexOf('?');
  const pathPart = q === -1 ? body : body.slice(0, q);
  const queryPart = q === -1 ? '' : body.slice(q + 1);
  if (/#/.test(body)) throw invalid('a pkcs11: URI has no fragment ("#")');

  // Refuse a PIN before anything else, and never echo the URI that holds it.
  if (/(^|&)pin-value=/i.test(queryPart) || /(^|;)pin-value=/i.test(pathPart)) {
    throw new TufsignError('SECRET_IN_ARGV', 'the key URI carries a PIN (pin-value); tufsign refuses secrets in URIs', {
      rule: 'secrets never travel in argv or config files',
      suggestion:
        'Remove pin-value from the URI. Type the PIN when asked, set TUFSIGN_PIN, or use pin-source=file:PATH (a 0600 file).',
    });
  }

  const out: Pkcs11Uri = {};
  const seen = new Set<string>();
  const once = (name: string): void => {
    if (seen.has(name)) throw invalid(`the "${name}" attribute appears twice in a pkcs11: URI`);
    seen.add(name);
  };

  if (pathPart !== '') {
    for (const part of pathPart.split(';')) {
      if (part === '') throw invalid('empty attribute in a pkcs11: URI (two ";" in a row, or a trailing ";")');
      const [name, raw] = splitAttr(part, ';');
      if (!PATH_ATTRS.includes(name)) {
        throw invalid(
          `unknown attribute "${name}" in a pkcs11: URI`,
          `Known path attributes: ${PATH_ATTRS.join(', ')}. Query attributes (after "?"): module-path, module-name, pin-source.`,
        );
      }
      once(name);
      if (name === 'id') {
        out.id = percentDecode(raw, name);
        if (out.id.length === 0) throw invalid('empty "id" in a pkcs11: URI');
      } else if (name === 'type') {
        const t = decodeText(raw, name);
        if (!TYPES.includes(t))
          throw invalid(
            `unknown object type "${t}" in a pkcs11: URI`,
            'type is one of private, public, cert (tufsign signs with private keys).',
          );
        out.type = t as Pkcs11Uri['type'];
      } else if (name === 'slot-id') {
        const t = decodeText(raw, name);
        if (!/^[0-9]{1,15}$/.test(t)) throw invalid('"slot-id" in a pkcs11: URI must be a decimal number');
        out['slot-id'] = Number(t);
      } else {
        out[name as TextPathAttr] = decodeText(raw, name);
      }
    }
  }
  if (queryPart !== '') {
    for (const part of queryPart.split('&')) {
      if (part === '') throw invalid('empty query attribute in a pkcs11: URI');
      const [name, raw] = splitAttr(part, '&');
      if (!QUERY_ATTRS.includes(name)) {
        throw invalid(
          `unknown query attribute "${name}" in a pkcs11: URI`,
          'Known query attributes: module-path, module-name, pin-source.',
        );
      }
      once(name);
      const value = decodeText(raw, name);
      if (value === '') throw invalid(`empty "${name}" in a pkcs11: URI`);
      if (name === 'pin-source') out.pinSource = value;
      else if (name === 'module-name') out.moduleName = value;
      else out.modulePath = value;
    }
  }
  if (out.type !== undefined && out.type !== 'private' && out.type !== 'public') {
    throw invalid(
      `a signing key URI names a key pair, not a "${out.type}" object`,
      'Use type=private or leave type out.',
    );
  }
  return out;
}

// RFC 3986 unreserved characters stay as they are; everything else is %XX.
function encodeText(value: string, extra: RegExp = /[A-Za-z0-9\-._~]/): string {
  let s = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    s += byte < 0x80 && extra.test(ch) ? ch : `%${byte.toString(16).padStart(2, '0')}`;
  }
  return s;
}

export function encodeId(id: Uint8Array): string {
  return Array.from(id, (b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

/** Format a URI tufsign writes into tufsign.json; attribute order follows RFC 7512 examples. */
export function formatPkcs11Uri(u: Pkcs11Uri): string {
  const path: string[] = [];
  for (const name of ['token', 'manufacturer', 'serial', 'model', 'object'] as const) {
    const v = u[name];
    if (v !== undefined) path.push(`${name}=${encodeText(v)}`);
  }
  if (u.id !== undefined) path.push(`id=${encodeId(u.id)}`);
  if (u.type !== undefined) path.push(`type=${u.type}`);
  const query: string[] = [];
  if (u.moduleName !== undefined) query.push(`module-name=${encodeText(u.moduleName)}`);
  if (u.modulePath !== undefined) query.push(`module-path=${encodeText(u.modulePath, /[A-Za-z0-9\-._~/]/)}`);
  if (u.pinSource !== undefined) query.push(`pin-source=${encodeText(u.pinSource, /[A-Za-z0-9\-._~/:]/)}`);
  return `pkcs11:${path.join(';')}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

/** The URI without query attributes (for labels shown to users). */
export function describeKey(u: Pkcs11UriPath): string {
  const parts: string[] = [];
  if (u.token !== undefined) parts.push(`token "${u.token}"`);
  if (u.serial !== undefined) parts.push(`serial ${u.serial}`);
  if (u.object !== undefined) parts.push(`object "${u.object}"`);
  if (u.id !== undefined) parts.push(`id ${Buffer.from(u.id).toString('hex')}`);
  return parts.length > 0 ? parts.join(', ') : 'any key';
}
