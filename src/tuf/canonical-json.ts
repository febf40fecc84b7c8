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

/**
 * Compare two strings by Unicode code point. UTF-16 code-unit order agrees with it except where a surrogate
 * (part of a code point above U+FFFF) meets a BMP character at or above U+E000: only that case is special.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa === sb) return ca < cb ? -1 : 1;
    return sa ? 1 : -1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** `keys` in code-point order, sorted in place; keys that are in order already (parsed metadata) are only checked. */
export function sortedKeys(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++)
    if (compareCodePoints(keys[i - 1] as string, keys[i] as string) > 0) return keys.sort(compareCodePoints);
  return keys;
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

/** The path of the value being encoded, built only for an error message. */
function pathOf(stack: readonly (string | number)[]): string {
  let p = '$';
  for (const k of stack) p = typeof k === 'number' ? `${p}[${k}]` : `${p}.${k}`;
  return p;
}

function encodeString(s: string, stack: readonly (string | number)[]): string {
  if (hasLoneSurrogate(s)) throw new CanonicalJsonError('string contains a lone surrogate', pathOf(stack));
  if (s.indexOf('"') < 0 && s.indexOf('\\') < 0) return '"' + s + '"';
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

function encode(value: unknown, stack: (string | number)[], out: string[]): void {
  if (value === null) {
    out.push('null');
  } else if (value === true || value === false) {
    out.push(value ? 'true' : 'false');
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) {
      throw new CanonicalJsonError(`not a canonical integer: ${String(value)}`, pathOf(stack));
    }
    out.push(String(value));
  } else if (typeof value === 'string') {
    out.push(encodeString(value, stack));
  } else if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      stack.push(i);
      encode(value[i], stack, out);
      stack.pop();
    }
    out.push(']');
  } else if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = sortedKeys(Object.keys(obj));
    out.push('{');
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const item = obj[key];
      stack.push(key);
      if (item === undefined) throw new CanonicalJsonError('undefined value', pathOf(stack));
      if (i > 0) out.push(',');
      out.push(encodeString(key, stack), ':');
      encode(item, stack, out);
      stack.pop();
    }
    out.push('}');
  } else {
    throw new CanonicalJsonError(`cannot encode a ${typeof value}`, pathOf(stack));
  }
}

/** Canonical JSON text (a JS string; encode as UTF-8 to get the signed bytes). */
export function canonicalString(value: unknown): string {
  const out: string[] = [];
  encode(value, [], out);
  return out.join('');
}

/** Canonical JSON bytes: exactly what TUF signs and hashes. */
export function canonicalize(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalString(value));
}
