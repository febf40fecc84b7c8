/**
 * tufsign.json periods (`expiry`, `min_validity`, `max_expiry`, `signing_window`, `delegated_expiry`) are parsed
 * into `Period`s once, when the config is read: the file's bytes round-trip unchanged (the text as written, even
 * "0090d" or "52w"), the use cases read `.seconds`, and a bad period is CONFIG_INVALID naming the file, the field
 * and the rule.
 */
import { isTufsignError, TufsignError } from '../../../src/errors';
import { parseConfig, serializeConfig } from '../../../src/repository/config';
import { expiryFor, minValiditySeconds } from '../../../src/repository/expiry';
import { roleExpiry } from '../../../src/repository/targets-publish';
import { signingWindowSeconds } from '../../../src/repository/status';

function configBytes(fields: Record<string, unknown>): Uint8Array {
  const doc = { format: 'tufsign-workspace', version: 1, name: 'unit', expiry: {}, min_validity: {}, keys: {} };
  return new TextEncoder().encode(JSON.stringify({ ...doc, ...fields }, null, 2));
}

const periods = {
  expiry: { root: '52w', targets: '0090d', snapshot: '7d', timestamp: '36h' },
  min_validity: { root: '14d', targets: '1d' },
  max_expiry: { root: '1y' },
  signing_window: { timestamp: '6h' },
  delegated_expiry: { 'bins-*': '30d', proj: '2w' },
};

describe('tufsign.json periods, parsed where the config is read', () => {
  test('serializing gives the same bytes, and every period is a Period with its text and seconds', () => {
    const once = serializeConfig(parseConfig(configBytes(periods), 'tufsign.json'));
    const config = parseConfig(new TextEncoder().encode(once), 'tufsign.json');
    expect(serializeConfig(config)).toBe(once);
    for (const [field, value] of Object.entries(periods)) expect(JSON.parse(once)[field]).toEqual(value);
    expect(config.expiry.targets).toMatchObject({ text: '0090d', seconds: 90 * 86400 });
    expect(config.expiry.root.seconds).toBe(52 * 7 * 86400);
    expect(config.delegatedExpiry?.get('bins-*')?.seconds).toBe(30 * 86400);
    expect(config.maxExpiry?.root?.seconds).toBe(365 * 86400);
  });

  test('the use cases read the parsed seconds', () => {
    const config = parseConfig(configBytes(periods), 'tufsign.json');
    const now = new Date('2026-01-01T00:00:00Z');
    expect(expiryFor(config, 'timestamp', now).toISOString()).toBe('2026-01-02T12:00:00.000Z');
    expect(minValiditySeconds(config)).toEqual({ root: 14 * 86400, targets: 86400 });
    expect(roleExpiry(config, 'bins-0f', now).toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(roleExpiry(config, 'proj', now).toISOString()).toBe('2026-01-15T00:00:00.000Z');
    expect(signingWindowSeconds(config, 'timestamp')).toEqual({ seconds: 6 * 3600, text: '6h' });
  });

  test.each([
    ['expiry', 'targets', '0d'],
    ['expiry', 'root', '-1d'],
    ['expiry', 'snapshot', '1.5d'],
    ['min_validity', 'root', '90'],
    ['max_expiry', 'targets', '90D'],
    ['signing_window', 'timestamp', '1000000d'],
    ['expiry', 'timestamp', '９０d'],
    ['expiry', 'root', 90],
    ['delegated_expiry', 'proj', 'soon'],
    ['delegated_expiry', 'bins-*', ''],
  ])('%s.%s = %j is CONFIG_INVALID naming file, field and rule', (field, role, bad) => {
    let err: unknown;
    try {
      parseConfig(configBytes({ [field]: { [role]: bad } }), '/ws/tufsign.json');
    } catch (e) {
      err = e;
    }
    expect(isTufsignError(err, 'CONFIG_INVALID')).toBe(true);
    const e = err as TufsignError;
    expect(e.file).toBe('/ws/tufsign.json');
    expect(e.path).toBe(`$.${field}.${role}`);
    expect(e.rule).toBeDefined();
  });
});
