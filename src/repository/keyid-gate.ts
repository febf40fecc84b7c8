/**
 * The keyid gate (ADR 0015): nothing tufsign publishes may carry a keyid that
 * a strict client (tough, sigstore-rs) recomputes differently. It checks every
 * key object in a new root and in any targets metadata that delegates, as the
 * object is stored (extra fields included). Metadata that carries no keys
 * (snapshot, timestamp, targets without delegations) passes, so a workspace
 * whose *published* root still has tufup-era keyids keeps releasing until the
 * keyid-migration root (`tufsign root rotate --fix-keyids`) goes out.
 */
import { TufsignError } from '../errors';
import { describeKeyidProblem, keyidProblems, type KeyidProblem } from '../tuf/keyids';
import type { Metadata } from '../tuf/metadata';

/** The command that re-lists root keys under their correct keyids. */
export const FIX_KEYIDS_COMMAND = 'tufsign root rotate --fix-keyids';

/** Metadata whose keys would reach clients: every root, and targets metadata with delegations. */
export function publishProblems(mds: readonly Metadata[]): KeyidProblem[] {
  return mds.flatMap((md) => keyidProblems(md.signed));
}

/** Refuse to publish `mds` when any keyid in them is not sha256 of its stored key object. */
export function assertPublishableKeyids(mds: readonly Metadata[]): void {
  const problems = publishProblems(mds);
  const first = problems[0];
  if (first === undefined) return;
  const inRoot = problems.some((p) => p.where.startsWith('root '));
  throw new TufsignError(
    'KEYID_MISMATCH',
    `${problems.length} keyid(s) a strict client would recompute differently; nothing was written. ${describeKeyidProblem(first)}`,
    {
      path: first.where,
      rule: 'SPEC-05 keyid gate: every published keyid = sha256(canonical key object as stored)',
      suggestion: inRoot
        ? `Publish a keyid-migration root first: \`${FIX_KEYIDS_COMMAND}\` re-adds each key under its correct keyid (signed under the old and the new keyids).`
        : 'Re-add the delegated key under its correct keyid (remove it from the delegation and add it again) before re-signing.',
      details: { problems: problems.map((p) => ({ ...p })) },
    },
  );
}
