/**
 * The keyid rule (SPEC-05): a keyid is the hex sha256 of the canonical JSON of
 * its key object *as stored*, every field included (`x-…` fields,
 * `keyid_hash_algorithms`). Strict clients (tough, and so sigstore-rs)
 * recompute it and refuse a mismatch; python-tuf, tuf-js, go-tuf and tufup
 * treat keyids as opaque (TAP 12). This module finds the mismatches in a
 * metadata payload and says how each wrong keyid was most likely derived, so
 * reports can tell a tufup-era keyid from a corrupted one.
 */
import { sha256Hex } from '../io/hash';
import { canonicalize } from './canonical-json';
import { newObject } from './json';
import type { Key } from './key';
import type { Signed } from './metadata';

/**
 * How a keyid that is not sha256(stored key) was derived:
 * - `securesystemslib-legacy`: over the key plus `"keyid_hash_algorithms": ["sha256","sha512"]`,
 *   which is not stored (securesystemslib < 1.0 `interface`/`keys`, so tufup and go-tuf v0);
 * - `without-extra-fields`: over keytype/scheme/keyval only, while the stored key carries
 *   extra fields (a custom `x-…` field added after the keyid was computed);
 * - `unknown`: neither; the keyid does not follow from the key at all.
 */
export type KeyidDerivation = 'securesystemslib-legacy' | 'without-extra-fields' | 'unknown';

export interface KeyidProblem {
  /** where the key sits, e.g. `root v3 keys` or `targets v7 delegations.keys` */
  where: string;
  keyid: string;
  /** sha256 of the canonical key object as stored: what a strict client computes */
  expected: string;
  derivation: KeyidDerivation;
}

const sha256Canonical = (obj: Parameters<typeof canonicalize>[0]): string => sha256Hex(canonicalize(obj));

/** The keyid a strict client computes for `key`: sha256 of the whole stored object. */
export function strictKeyid(key: Key): string {
  return key.keyid();
}

/** Explain a keyid that does not match its key. */
export function keyidDerivation(key: Key, keyid: string): KeyidDerivation {
  const legacy = key.toJSON();
  if (legacy['keyid_hash_algorithms'] === undefined) {
    legacy['keyid_hash_algorithms'] = ['sha256', 'sha512'];
    if (sha256Canonical(legacy) === keyid) return 'securesystemslib-legacy';
  }
  const bare = newObject();
  bare['keytype'] = key.keytype;
  bare['scheme'] = key.scheme;
  bare['keyval'] = key.keyval;
  if (sha256Canonical(bare) === keyid) return 'without-extra-fields';
  const bareLegacy = { ...bare, keyid_hash_algorithms: ['sha256', 'sha512'] };
  if (sha256Canonical(bareLegacy) === keyid) return 'securesystemslib-legacy';
  return 'unknown';
}

function problemsIn(keys: ReadonlyMap<string, Key>, where: string): KeyidProblem[] {
  const out: KeyidProblem[] = [];
  for (const [keyid, key] of keys) {
    const expected = strictKeyid(key);
    if (expected !== keyid) out.push({ where, keyid, expected, derivation: keyidDerivation(key, keyid) });
  }
  return out;
}

/** Every key in `signed` (root keys, or a targets role's delegation keys) whose keyid is not sha256(stored key). */
export function keyidProblems(signed: Signed, roleName: string = signed.type): KeyidProblem[] {
  if (signed.type === 'root') return problemsIn(signed.keys, `${roleName} v${signed.version} keys`);
  if (signed.type === 'targets' && signed.delegations !== undefined)
    return problemsIn(signed.delegations.keys, `${roleName} v${signed.version} delegations.keys`);
  return [];
}

/** One line for reports. */
export function describeKeyidProblem(p: KeyidProblem): string {
  const how =
    p.derivation === 'securesystemslib-legacy'
      ? 'legacy securesystemslib keyid (hashed with keyid_hash_algorithms, as tufup and go-tuf v0 wrote)'
      : p.derivation === 'without-extra-fields'
        ? 'hashed without the key’s extra fields'
        : 'does not follow from the key';
  return `${p.where}: keyid ${p.keyid} but sha256(key as stored) is ${p.expected} (${how})`;
}
