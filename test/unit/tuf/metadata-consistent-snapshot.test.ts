/** A root's `consistent_snapshot`: absent stays absent (clients read it as false), present round-trips (ADR 0001). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalString } from '../../../src/tuf/canonical-json';
import { Metadata, type Root } from '../../../src/tuf/metadata';

const ROOT_V1 = join(__dirname, '..', '..', 'fixtures', 'import', 'python-tuf', 'metadata', '1.root.json');

function someRoot(): Record<string, any> {
  return JSON.parse(readFileSync(ROOT_V1, 'utf8')) as Record<string, any>;
}

describe('consistent_snapshot', () => {
  it('absent: read as absent (not true) and written back without it', () => {
    const raw = someRoot();
    delete raw['signed']['consistent_snapshot'];
    const md = Metadata.fromJSON(raw) as Metadata<Root>;
    expect(md.signed.consistentSnapshot).toBeUndefined();
    expect(Object.keys(md.signed.toJSON())).not.toContain('consistent_snapshot');
  });

  it.each([true, false])('%s round-trips', (value) => {
    const raw = someRoot();
    raw['signed']['consistent_snapshot'] = value;
    const md = Metadata.fromJSON(raw) as Metadata<Root>;
    expect(md.signed.consistentSnapshot).toBe(value);
    expect(canonicalString(md.signed.toJSON())).toBe(canonicalString(raw['signed']));
  });
});
