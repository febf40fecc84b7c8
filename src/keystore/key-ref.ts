/**
 * Where a key's private part lives, parsed once: `file:PATH`, `pkcs11:…` (RFC 7512) or `yubikey:serial=N;slot=9c`.
 *
 * A `KeyRef` is made only by `parseKeyRef` (a `unique symbol` brand a literal cannot write), at the boundary where
 * the text arrives: a flag, `tufsign.json`, a device listing. Backends open a `KeyRef` and never parse a URI again.
 * `uri` keeps the text as given, for messages, JSON output and `tufsign.json`.
 *
 * Where the text came from matters (#9): a URI read from an input file — a signing request, a bundle, anything
 * that arrived on a stick — must never choose a library to load, a device to open or a file outside the workspace.
 * `parseKeyRef(text, 'input')` therefore accepts only a relative `file:` path that stays inside the folder it is
 * resolved against; `pkcs11:` (whose `module-path`/`module-name` would `dlopen` code, whose `pin-source` would read
 * a file) and `yubikey:` are refused there.
 */
import { isAbsolute, resolve } from 'node:path';
import { TufsignError } from '../errors';
import { parsePkcs11Uri, type Pkcs11Uri } from './pkcs11/uri';
import { parseYubiKeyUri } from './yubikey/uri';

declare const keyRefBrand: unique symbol;
interface Branded {
  readonly [keyRefBrand]: true;
  /** the URI as written (never contains a secret: `pin-value` is refused) */
  readonly uri: string;
}

export interface FileKeyRef extends Branded {
  readonly backend: 'file';
  /** the decoded path, absolute or relative to the folder it is resolved against (the workspace) */
  readonly path: string;
}
export interface Pkcs11KeyRef extends Branded {
  readonly backend: 'pkcs11';
  readonly pkcs11: Readonly<Pkcs11Uri>;
}
export interface YubiKeyRef extends Branded {
  readonly backend: 'yubikey';
  /** absent: the one YubiKey plugged in */
  readonly serial: number | undefined;
  readonly slot: number;
}
export type KeyRef = FileKeyRef | Pkcs11KeyRef | YubiKeyRef;

/** Where the text came from: this machine's operator (flags, environment, `tufsign.json`), or an input file. */
export type KeyRefOrigin = 'operator' | 'input';

const EXAMPLES =
  "Examples (quoted: the shell splits at ';'): file:keys/root-1.pem, 'pkcs11:token=ci;object=targets?module-path=/usr/lib/softhsm/libsofthsm2.so', 'yubikey:serial=12345678;slot=9c'";

function invalid(message: string, rule: string, suggestion?: string): TufsignError {
  return new TufsignError('KEY_URI_INVALID', message, { rule, ...(suggestion !== undefined ? { suggestion } : {}) });
}

function parseFilePath(text: string): string {
  let p: string;
  try {
    p = decodeURIComponent(text.slice('file:'.length).replace(/^\/\/(?=\/)/, ''));
  } catch {
    throw invalid(`bad percent-encoding in the key URI "${text}"`, 'file:PATH');
  }
  if (p === '') throw invalid('file: URI has no path', 'file:PATH');
  if (p.includes('\0')) throw invalid('a file: URI holds a NUL character', 'file:PATH');
  return p;
}

const INPUT_RULE = 'a key URI read from an input file names only a key file inside the workspace (file:RELATIVE-PATH)';

/** Parse a key URI once; throws `KEY_URI_INVALID` (or `SECRET_IN_ARGV` for a `pkcs11:` URI carrying a PIN). */
export function parseKeyRef(text: string, origin: KeyRefOrigin = 'operator'): KeyRef {
  const scheme = text.slice(0, Math.max(0, text.indexOf(':')));
  let ref:
    | Omit<FileKeyRef, typeof keyRefBrand>
    | Omit<Pkcs11KeyRef, typeof keyRefBrand>
    | Omit<YubiKeyRef, typeof keyRefBrand>;
  if (scheme === 'file') ref = { backend: 'file', uri: text, path: parseFilePath(text) };
  else if (scheme === 'pkcs11') ref = { backend: 'pkcs11', uri: text, pkcs11: parsePkcs11Uri(text) };
  else if (scheme === 'yubikey') ref = { backend: 'yubikey', uri: text, ...parseYubiKeyUri(text) };
  else throw invalid(`unknown key URI "${text}"`, 'key URIs start with file:, pkcs11: or yubikey:', EXAMPLES);
  if (origin === 'input') {
    if (ref.backend !== 'file')
      throw invalid(
        `a ${ref.backend}: key URI from an input file is not used: it would choose a device or a library to load`,
        INPUT_RULE,
        'Name the key on this machine instead (--key URI, or tufsign.json).',
      );
    if (isAbsolute(ref.path) || ref.path.split(/[\\/]/).includes('..'))
      throw invalid(`the key file of a key URI from an input file leaves the workspace`, INPUT_RULE);
  }
  return ref as KeyRef;
}

/** `parseKeyRef`, or undefined for text that is not a valid key URI (for labels and display only). */
export function tryParseKeyRef(text: string, origin: KeyRefOrigin = 'operator'): KeyRef | undefined {
  try {
    return parseKeyRef(text, origin);
  } catch {
    return undefined;
  }
}

/** The key file a `file:` reference names, resolved against `baseDir` (the workspace) when relative. */
export function keyFilePath(ref: FileKeyRef, baseDir: string): string {
  return isAbsolute(ref.path) ? ref.path : resolve(baseDir, ref.path);
}

/** `parseKeyRef` for a place that takes one backend's keys only: another scheme is `KEY_URI_INVALID`. */
export function parseKeyRefOf<B extends KeyRef['backend']>(
  backend: B,
  text: string,
  origin: KeyRefOrigin = 'operator',
): Extract<KeyRef, { backend: B }> {
  const ref = parseKeyRef(text, origin);
  if (ref.backend !== backend)
    throw invalid(`"${text}" is not a ${backend}: key URI`, `a ${backend}:… key URI is expected here`);
  return ref as Extract<KeyRef, { backend: B }>;
}

/**
 * A key URI from `tufsign.json` that did not parse. The workspace loader parses every entry once; an entry that
 * fails keeps its text and its error here, and the error is thrown only when the key is opened, so a bad URI for
 * a key a run never uses fails nothing (as when the text was parsed at open time). `scheme` is what the text
 * claims, for display (`key list`, `status`).
 */
export interface UnusableKeyRef {
  readonly backend: undefined;
  readonly uri: string;
  readonly scheme: KeyRef['backend'] | undefined;
  readonly error: Error;
}

/** What a `tufsign.json` key entry names: a parsed `KeyRef`, or text whose parse error waits until the key is used. */
export type ConfiguredKeyRef = KeyRef | UnusableKeyRef;

/** Parse a `tufsign.json` key URI once, at load: a `KeyRef`, or an `UnusableKeyRef` carrying the parse error. */
export function parseConfiguredKeyRef(text: string): ConfiguredKeyRef {
  try {
    return parseKeyRef(text);
  } catch (e) {
    const scheme = text.slice(0, Math.max(0, text.indexOf(':')));
    return {
      backend: undefined,
      uri: text,
      scheme: scheme === 'file' || scheme === 'pkcs11' || scheme === 'yubikey' ? scheme : undefined,
      error: e instanceof Error ? e : new Error(String(e)),
    };
  }
}

/** The `KeyRef` of a configured key, or its parse error (thrown where the key is about to be used). */
export function usableKeyRef(ref: ConfiguredKeyRef): KeyRef {
  if (ref.backend === undefined) throw ref.error;
  return ref;
}

/** The backend a configured key names, for display: its scheme even when the rest did not parse. */
export function backendLabel(ref: ConfiguredKeyRef): string {
  return ref.backend ?? ref.scheme ?? 'unknown';
}
