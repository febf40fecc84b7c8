/**
 * The snapshot writers without an object per entry (src/tuf/snapshot-text.ts, issue #12) give exactly the bytes
 * of the general writers — the pretty file and the canonical bytes that are signed — and step aside for any
 * snapshot they do not cover (lengths, hashes, unrecognized fields, names that need escaping).
 */
import fc from 'fast-check';
import { canonicalize } from '../../../src/tuf/canonical-json';
import { stringifyPretty } from '../../../src/tuf/json';
import { Metadata, MetaFile, Signature, Snapshot } from '../../../src/tuf/metadata';
import { snapshotCanonical, snapshotPretty } from '../../../src/tuf/snapshot-text';
import { serializeMetadata } from '../../../src/repository/workspace';

const general = (md: Metadata<Snapshot>): { pretty: string; canonical: Buffer } => ({
  pretty: stringifyPretty(md.toJSON()),
  canonical: Buffer.from(canonicalize(md.signed.toJSON())),
});

// names: mostly bin-like, plus quotes, backslashes, control and non-ASCII characters, in any insertion order
const name = fc
  .oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((i) => `bins-${i.toString(16).padStart(4, '0')}`) },
    fc.string({ maxLength: 6 }),
    fc
      .string({ unit: 'binary', maxLength: 4 })
      .filter((s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()),
    fc.constantFrom('a"b', 'a\\b', 'tab\there', 'é', '\u007f', '__proto__', 'constructor'),
  )
  .map((s) => `${s}.json`);
const version = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const entry = fc.oneof(
  { weight: 30, arbitrary: version.map((v) => new MetaFile(v)) },
  fc.tuple(version, fc.integer({ min: 0, max: 1 << 30 })).map(([v, l]) => new MetaFile(v, l)),
  version.map((v) => new MetaFile(v, undefined, new Map([['sha256', 'ab'.repeat(32)]]))),
);
const rare = fc.constantFrom(false, false, false, false, false, false, false, false, false, false, false, false, true);
const snapshotMd = fc
  .record({
    version: fc.integer({ min: 1, max: 1 << 30 }),
    entries: fc.array(fc.tuple(name, entry), { maxLength: 40 }),
    signatures: fc.integer({ min: 0, max: 3 }),
    // each of these sends the snapshot to the general writers: one run in five has one
    extraSigned: rare,
    extraTop: rare,
    extraEntry: rare,
  })
  .map((r) => {
    const s = new Snapshot(r.version, new Date('2030-01-01T00:00:00Z'));
    for (const [n, e] of r.entries) s.meta.set(n, e);
    if (r.extraSigned) s.unrecognizedFields['x-meta'] = { meta: {} };
    const targets = s.meta.get('targets.json');
    if (r.extraEntry && targets !== undefined) targets.unrecognizedFields['custom'] = 'x';
    const md = new Metadata(s);
    if (r.extraTop) md.unrecognizedFields['meta'] = {};
    for (let i = 0; i < r.signatures; i++) md.addSignature(new Signature(`${i}`.repeat(64), 'cd'.repeat(64)));
    return md;
  });

describe('snapshot writers', () => {
  it('match the general writers byte for byte, or step aside', () => {
    let written = 0;
    fc.assert(
      fc.property(snapshotMd, (md) => {
        const want = general(md);
        const pretty = snapshotPretty(md);
        const canonical = snapshotCanonical(md.signed);
        if (pretty !== undefined) written += 1;
        if (pretty !== undefined) expect(pretty).toBe(want.pretty);
        if (canonical !== undefined) expect(Buffer.from(canonical, 'utf8')).toEqual(want.canonical);
        // what callers get is always the general writers' bytes
        expect(serializeMetadata(md)).toBe(want.pretty);
        expect(Buffer.from(md.signedBytes())).toEqual(want.canonical);
      }),
      { numRuns: 200 },
    );
    // the fast path was taken often enough to mean something
    expect(written).toBeGreaterThan(40);
  });

  it('write a bin snapshot (version-only entries, plain names, inserted out of order) themselves', () => {
    const s = new Snapshot(9, new Date('2030-01-01T00:00:00Z'));
    for (const i of [3, 0, 2, 1]) s.meta.set(`bins-${i}.json`, new MetaFile(i + 2));
    const md = new Metadata(s);
    md.addSignature(new Signature('a'.repeat(64), 'cd'.repeat(64)));
    expect(snapshotPretty(md)).toBe(general(md).pretty);
    expect(Buffer.from(snapshotCanonical(s) ?? '', 'utf8')).toEqual(general(md).canonical);
  });

  it.each([
    ['a length', (s: Snapshot) => s.meta.set('bins-0.json', new MetaFile(1, 10))],
    ['hashes', (s: Snapshot) => s.meta.set('bins-0.json', new MetaFile(1, undefined, new Map([['sha256', 'ab']])))],
    ['a name to escape', (s: Snapshot) => s.meta.set('bin"s.json', new MetaFile(1))],
    ['a non-ASCII name', (s: Snapshot) => s.meta.set('bïns.json', new MetaFile(1))],
    ['an unrecognized field', (s: Snapshot) => (s.unrecognizedFields['meta-x'] = 1)],
  ])('leave a snapshot with %s to the general writers', (_what, change) => {
    const s = new Snapshot(2, new Date('2030-01-01T00:00:00Z'));
    change(s);
    expect(snapshotCanonical(s)).toBeUndefined();
    expect(snapshotPretty(new Metadata(s))).toBeUndefined();
  });
});
