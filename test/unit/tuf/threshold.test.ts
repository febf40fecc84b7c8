/**
 * Threshold: made only by its parsers at the boundary (a flag's text, a value from metadata or a library caller);
 * the rule relative to the keys has one home, `checkThresholdReachable`.
 */
import { isTufsignError } from '../../../src/errors';
import { thresholdOption } from '../../../src/cli/flags';
import { Role } from '../../../src/tuf/metadata';
import {
  checkThresholdReachable,
  parseThreshold,
  parseThresholdText,
  type Threshold,
} from '../../../src/tuf/threshold';

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isTufsignError(e) ? e.code : 'other';
  }
}

describe('parseThreshold (a value)', () => {
  test.each([1, 2, 17, Number.MAX_SAFE_INTEGER])('%d is a threshold', (n) => {
    expect(parseThreshold(n)).toBe(n);
  });

  test.each([
    ['0', 0],
    ['-1', -1],
    ['-0', -0],
    ['2^53', 2 ** 53],
    ['1.5', 1.5],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['the string "2"', '2'],
    ['null', null],
    ['undefined', undefined],
    ['a boxed number', Object(2)],
    ['a bigint', 2n],
  ])('%s is refused with THRESHOLD_INVALID', (_label, value) => {
    expect(codeOf(() => parseThreshold(value))).toBe('THRESHOLD_INVALID');
  });
});

describe('parseThresholdText (a flag or a prompt answer)', () => {
  test.each([
    ['1', 1],
    ['3', 3],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('%j is %d', (text, n) => {
    expect(parseThresholdText(text)).toBe(n);
  });

  test.each([
    '',
    '0',
    '-1',
    '1.5',
    '2e0',
    '0x2',
    ' 2',
    '2 ',
    '2\n',
    '+2',
    '２',
    '٢',
    '9007199254740992',
    '1'.repeat(100_000),
    'Infinity',
    '__proto__',
  ])('%j is refused with THRESHOLD_INVALID', (text) => {
    expect(codeOf(() => parseThresholdText(text, '--threshold'))).toBe('THRESHOLD_INVALID');
  });

  test('the flag helper names the flag', () => {
    expect(() => thresholdOption('0', '--root-threshold')).toThrow(/--root-threshold/);
  });

  test('only the parsers make a Threshold', () => {
    // @ts-expect-error a plain number cannot be typed as a Threshold
    const t: Threshold = 2;
    expect(t).toBe(2);
  });
});

describe('checkThresholdReachable: the one home of "no more than the keys"', () => {
  const two = parseThreshold(2);
  test('equal to the keys passes, more than the keys or no keys is THRESHOLD_INVALID', () => {
    expect(codeOf(() => checkThresholdReachable('targets', two, 2))).toBe('ok');
    expect(codeOf(() => checkThresholdReachable('targets', two, 3))).toBe('ok');
    expect(codeOf(() => checkThresholdReachable('targets', two, 1))).toBe('THRESHOLD_INVALID');
    expect(codeOf(() => checkThresholdReachable('targets', parseThreshold(1), 0))).toBe('THRESHOLD_INVALID');
  });
});

describe('thresholds read back from metadata', () => {
  test('a parsed role carries the threshold the parser made', () => {
    expect(Role.fromJSON({ keyids: [], threshold: 2 }, 'root.json').threshold).toBe(2);
  });
  test.each([0, -1, 2 ** 53, '2', 1.5])('%j is refused with the schema error naming the field', (t) => {
    let err: unknown;
    try {
      Role.fromJSON({ keyids: [], threshold: t }, 'root.json');
    } catch (e) {
      err = e;
    }
    expect(isTufsignError(err, 'METADATA_SCHEMA')).toBe(true);
    expect((err as Error).message).toMatch(/threshold/);
  });
});
