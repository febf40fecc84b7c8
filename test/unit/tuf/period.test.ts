/** Period: `--expires`, `--within`, `--max-expiry` and init's expiry flags parsed once, into a type only the parser makes. */
import { isTufsignError } from '../../../src/errors';
import { DEFAULT_EXPIRY } from '../../../src/repository/config';
import { expiryFor } from '../../../src/repository/expiry';
import { expiresOption } from '../../../src/cli/flags';
import { parseDuration, parsePeriod, type Period } from '../../../src/tuf/time';

function codeOf(text: string): string {
  try {
    parsePeriod(text, '--expires');
    return 'ok';
  } catch (e) {
    return isTufsignError(e) ? e.code : 'other';
  }
}

describe('parsePeriod', () => {
  test.each([
    ['90d', 90 * 86400],
    ['12h', 12 * 3600],
    ['2w', 14 * 86400],
    ['1y', 365 * 86400],
    ['30m', 1800],
    ['45s', 45],
    ['999999d', 999999 * 86400],
  ])('%s is %d seconds, and keeps its text', (text, seconds) => {
    const p = parsePeriod(text);
    expect(p.seconds).toBe(seconds);
    expect(p.text).toBe(text);
    expect(p.seconds).toBe(parseDuration(text));
  });

  test.each([
    '',
    '0d',
    '-1d',
    '1.5d',
    '90',
    'd',
    '90D',
    '90 d',
    '1000000d',
    '9'.repeat(100_000) + 'd',
    '90d\n1d',
    '90d\0',
    '٩٠d',
    '９０d',
    '1e3d',
    '0x10d',
    '__proto__',
  ])('%j is refused with USAGE', (text) => {
    expect(codeOf(text)).toBe('USAGE');
  });

  test('the message names the flag it came from', () => {
    expect(() => parsePeriod('soon', '--within')).toThrow(/--within "soon" is not a period/);
  });

  test('only the parser makes a Period', () => {
    // @ts-expect-error a plain object cannot be typed as a Period
    const forged: Period = { text: '1d', seconds: 86400 };
    expect(forged.seconds).toBe(86400);
  });
});

describe('the CLI parses --expires; use cases take the Period', () => {
  test('expiresOption: absent gives no option, a bad period fails before any use case runs', () => {
    expect(expiresOption(undefined)).toEqual({});
    expect(expiresOption('30d').expires?.seconds).toBe(30 * 86400);
    expect(() => expiresOption('30 days')).toThrow(/--expires "30 days"/);
  });

  test('expiryFor uses the Period as given, else the config period', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const config = { expiry: { ...DEFAULT_EXPIRY } };
    expect(expiryFor(config, 'targets', now, parsePeriod('1d')).toISOString()).toBe('2030-01-02T00:00:00.000Z');
    expect(expiryFor(config, 'targets', now).toISOString()).toBe('2030-04-01T00:00:00.000Z');
  });
});
