/**
 * OLPC canonical JSON, the byte form TUF signs (spec §"metaformat").
 *
 * - object keys sorted by Unicode code point (equivalently by UTF-8 bytes),
 *   NOT JavaScript's default UTF-16 code-unit order;
 * - strings escape only `\` and `"`; everything else is written raw as UTF-8;
 * - integers only: floats, -0, NaN and unsafe integers are refused;
 * - no whitespace.
 *
 * Deliberately free of imports so it can be audited on its own.
 */

export type CanonicalValue =
  null | boolean | number | string | readonly CanonicalValue[] | { readonly [key: string]: CanonicalValue };

export class CanonicalJsonError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'CanonicalJsonError';
  }
}

/** Compare two strings by Unicode code point. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done === true) return cb.done === true ? 0 : -1;
    if (cb.done === true) return 1;
    const da = ca.value.codePointAt(0) ?? 0;
    const db = cb.value.codePointAt(0) ?? 0;
    if (da !== db) return da < db ? -1 : 1;
  }
}

export function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = s.charCodeAt(i + 1);
      if (!(n >= 0xdc00 && n <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return true;
    }
  }
  return false;
}

function encodeString(s: string, path: string): string {
  if (hasLoneSurrogate(s)) throw new CanonicalJsonError('string contains a lone surrogate', path);
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

function encode(value: unknown, path: string, out: string[]): void {
  if (value === null) {
    out.push('null');
  } else if (value === true || value === false) {
    out.push(value ? 'true' : 'false');
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) {
      throw new CanonicalJsonError(`not a canonical integer: ${String(value)}`, path);
    }
    out.push(String(value));
  } else if (typeof value === 'string') {
    out.push(encodeString(value, path));
  } else if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, i) => {
      if (i > 0) out.push(',');
      encode(item, `${path}[${i}]`, out);
    });
    out.push(']');
  } else if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).sort(compareCodePoints);
    out.push('{');
    keys.forEach((key, i) => {
      const item = obj[key];
      if (item === undefined) throw new CanonicalJsonError('undefined value', `${path}.${key}`);
      if (i > 0) out.push(',');
      out.push(encodeString(key, `${path}.${key}`), ':');
      encode(item, `${path}.${key}`, out);
    });
    out.push('}');
  } else {
    throw new CanonicalJsonError(`cannot encode a ${typeof value}`, path);
  }
}

/** Canonical JSON text (a JS string; encode as UTF-8 to get the signed bytes). */
export function canonicalString(value: unknown): string {
  const out: string[] = [];
  encode(value, '$', out);
  return out.join('');
}

/** Canonical JSON bytes: exactly what TUF signs and hashes. */
export function canonicalize(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalString(value));
}
