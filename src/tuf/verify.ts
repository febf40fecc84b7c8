/**
 * Threshold accounting that reports who signed and who is missing, without
 * throwing (the ceremony and `status` render it; enforcement uses
 * `assertVerified`). Each distinct public key counts once (SPEC-11, BAD-22,
 * BAD-29), and only keys of the role count.
 */
import { TufsignError } from '../errors';
import type { Key } from './key';
import type { Metadata, Role, Root } from './metadata';

export interface VerificationResult {
  role: string;
  threshold: number;
  /** keyids of the role whose signatures verify, each public key counted once */
  signed: string[];
  /** keyids of the role with no valid signature */
  unsigned: string[];
  /** keyids of the role whose signature is present but does not verify */
  invalid: string[];
  /** keyids with a signature that are not keys of this role (ignored) */
  foreign: string[];
  /** keyids whose valid signature was not counted because the same public key already counted */
  duplicates: string[];
  verified: boolean;
  /** how many more signatures are needed */
  missing: number;
}

/** Verify `md` against `role` whose keys are looked up in `keys` (root.keys or delegations.keys). */
export function verificationResult(
  roleName: string,
  role: Role,
  keys: ReadonlyMap<string, Key>,
  md: Metadata,
  /** `md.signedBytes()` when the caller has it already (a large snapshot is costly to canonicalize twice) */
  signedBytes?: Uint8Array,
): VerificationResult {
  const data = signedBytes ?? md.signedBytes();
  const signed: string[] = [];
  const unsigned: string[] = [];
  const invalid: string[] = [];
  const duplicates: string[] = [];
  const countedKeys = new Set<string>();
  for (const keyid of role.keyids) {
    const key = keys.get(keyid);
    const sig = md.signatures.get(keyid);
    if (key === undefined || sig === undefined) {
      unsigned.push(keyid);
      continue;
    }
    if (!key.verify(sig.bytes(), data)) {
      invalid.push(keyid);
      unsigned.push(keyid);
      continue;
    }
    const fp = key.publicKeyFingerprint();
    if (countedKeys.has(fp)) {
      duplicates.push(keyid);
      continue;
    }
    countedKeys.add(fp);
    signed.push(keyid);
  }
  const foreign = [...md.signatures.keys()].filter((k) => !role.keyids.includes(k));
  const missing = Math.max(0, role.threshold - signed.length);
  return {
    role: roleName,
    threshold: role.threshold,
    signed,
    unsigned,
    invalid,
    foreign,
    duplicates,
    verified: missing === 0,
    missing,
  };
}

export interface RootVerificationResult {
  /** against the previous (trusted) root's root role; absent for a first root verified against itself */
  previous: VerificationResult;
  /** against the new root's own root role */
  current: VerificationResult;
  verified: boolean;
}

/** A new root must meet both the previous root's threshold and its own (SPEC-14). */
export function rootVerificationResult(previous: Root, next: Metadata<Root>): RootVerificationResult {
  const prev = verificationResult('root', previous.role('root'), previous.keys, next);
  const cur = verificationResult('root', next.signed.role('root'), next.signed.keys, next);
  return { previous: prev, current: cur, verified: prev.verified && cur.verified };
}

export function assertVerified(result: VerificationResult, file?: string): void {
  if (result.verified) return;
  throw new TufsignError(
    'THRESHOLD_NOT_MET',
    `${result.role}: ${result.signed.length} of ${result.threshold} required signatures are valid (missing ${result.missing})`,
    { file, rule: 'SPEC-11 threshold of distinct keys', details: { ...result } },
  );
}

/** Sum up a verification result in one line, for reports. */
export function describeResult(r: VerificationResult): string {
  const parts = [`${r.signed.length}/${r.threshold} valid signatures`];
  if (r.invalid.length > 0) parts.push(`${r.invalid.length} invalid`);
  if (r.duplicates.length > 0) parts.push(`${r.duplicates.length} duplicate key(s) not counted`);
  if (r.foreign.length > 0) parts.push(`${r.foreign.length} from keys outside the role (ignored)`);
  return parts.join(', ');
}
