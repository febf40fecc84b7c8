/**
 * A role's threshold: how many of its keys must sign (SPEC-10). A `Threshold` is made only by its parsers, at
 * the boundary where the value arrives: `parseThresholdText` for a flag or a prompt answer (`src/cli`),
 * `parseThreshold` for a value (the metadata reader, a library entry). The rule that depends on the keys —
 * no more than the role's distinct keys (BAD-25) — can only be checked where the keys are known; its one home
 * is `checkThresholdReachable`, which every use case that sets keys or a threshold calls.
 */
import { TufsignError } from '../errors';

declare const thresholdBrand: unique symbol;
/** A positive safe integer (SPEC-10/BAD-24), branded so that a literal cannot be one. */
export type Threshold = number & { readonly [thresholdBrand]: true };

const RULE = 'SPEC-10/BAD-24 threshold is a positive integer';

/** A threshold from a value (metadata, a library caller): a number that is a safe integer ≥ 1, nothing else. */
export function parseThreshold(value: unknown, what = 'threshold'): Threshold {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new TufsignError(
      'THRESHOLD_INVALID',
      `${what} ${typeof value === 'string' ? JSON.stringify(value) : String(value)} is not a positive integer`,
      { rule: RULE },
    );
  return value as Threshold;
}

/** A threshold from text (a flag, a prompt answer): ASCII decimal digits only, then `parseThreshold`. */
export function parseThresholdText(text: string, what = 'threshold'): Threshold {
  // Digits only: `Number()` would also take " 2", "2e0", "0x2", "２"… (and `parseInt` "2abc").
  if (!/^[0-9]{1,16}$/.test(text))
    throw new TufsignError('THRESHOLD_INVALID', `${what} ${JSON.stringify(text)} is not a positive integer`, {
      rule: RULE,
    });
  return parseThreshold(Number(text), what);
}

/**
 * The rule that needs the keys: a role keeps at least one key and its threshold is no more than its distinct
 * keys (BAD-25), else no set of signatures could ever meet it. `keys` counts distinct keyids.
 */
export function checkThresholdReachable(
  role: string,
  threshold: Threshold,
  keys: number,
  suggestion = 'Lower --threshold or add keys.',
): void {
  if (keys === 0)
    throw new TufsignError('THRESHOLD_INVALID', `${role} would have no keys left`, {
      rule: 'every role keeps at least one key',
    });
  if (threshold > keys)
    throw new TufsignError('THRESHOLD_INVALID', `${role} threshold ${threshold} is more than its ${keys} key(s)`, {
      rule: 'BAD-25 threshold <= number of keys',
      suggestion,
    });
}
