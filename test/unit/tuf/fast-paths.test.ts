/**
 * The fast paths added for PEP 458 scale (issue #12) keep exact results:
 * - `compareCodePoints` (a code-unit loop) orders like a comparison by code point, surrogates included;
 * - `serializeSignedFrom` (signatures added to the unsigned text) gives the bytes `serializeMetadata` gives;
 * - the strict parser reports the same error paths (built only on failure).
 */
import fc from 'fast-check';
import { canonicalString, compareCodePoints, sortedKeys } from '../../../src/tuf/canonical-json';
import { parseJson, stringifyPretty } from '../../../src/tuf/json';
import { Metadata, MetaFile, Signature, Snapshot } from '../../../src/tuf/metadata';
import { serializeMetadata, serializeSignedFrom } from '../../../src/repository/workspace';
import { TufsignError } from '../../../src/errors';
import { collisionKey, findCollision } from '../../../src/tuf/paths';

/** The reference: compare code point by code point (what the spec's canonical JSON sorts by). */
function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0) ?? 0);
  const y = [...b].map((c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++)
    if (x[i] !== y[i]) return (x[i] as number) < (y[i] as number) ? -1 : 1;
  return Math.sign(x.length - y.length);
}

const wellFormed = fc
  .string({ unit: 'binary', maxLength: 8 })
  .filter((s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed());
// mostly the interesting region: around U+E000–U+FFFF and astral characters, plus ASCII
const tricky = fc
  .array(fc.constantFrom('a', 'b', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{1F600}', '\u{10FFFF}'), {
    maxLength: 5,
  })
  .map((a) => a.join(''));

describe('compareCodePoints', () => {
  it('agrees with a comparison by code point', () => {
    fc.assert(
      fc.property(fc.oneof(wellFormed, tricky), fc.oneof(wellFormed, tricky), (a, b) => {
        expect(compareCodePoints(a, b)).toBe(byCodePoint(a, b));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('serializeSignedFrom', () => {
  const snapshot = (): Metadata<Snapshot> => {
    const s = new Snapshot(7, new Date('2030-01-01T00:00:00Z'));
    for (let i = 0; i < 50; i++) s.meta.set(`bins-${i.toString(16).padStart(2, '0')}.json`, new MetaFile(i + 1));
    return new Metadata(s);
  };

  it('gives exactly the bytes of a full serialization, for 0, 1 and 3 signatures', () => {
    for (const n of [0, 1, 3]) {
      const md = snapshot();
      const unsigned = serializeMetadata(md);
      for (let i = 0; i < n; i++) md.addSignature(new Signature(`${i}`.repeat(64), 'ab'.repeat(64)));
      expect(serializeSignedFrom(unsigned, md)).toBe(serializeMetadata(md));
    }
  });

  it('falls back to a full serialization when an unknown top-level field sorts before "signatures"', () => {
    const md = snapshot();
    md.unrecognizedFields['a-first'] = { signatures: [] };
    const unsigned = serializeMetadata(md);
    md.addSignature(new Signature('f'.repeat(64), 'cd'.repeat(64)));
    expect(serializeSignedFrom(unsigned, md)).toBe(serializeMetadata(md));
  });
});

describe('strict parser error paths', () => {
  it.each([
    ['{"signed": {"meta": {"a.json": {"version": 1.5}}}}', '$.signed.meta["a.json"].version', 'JSON_NUMBER'],
    ['{"a": [1, 2, {"b": "x", "b": "y"}]}', '$.a[2].b', 'JSON_DUPLICATE_KEY'],
    ['{"a": [1, 2 3]}', '$.a', 'JSON_SYNTAX'],
    ['{"a": {"b": "\\ud800"}}', '$.a.b', 'JSON_STRING'],
    ['{"a": "ok", "b": "esc\\q"}', '$.b', 'JSON_SYNTAX'],
  ])('%s → %s', (text, path, code) => {
    let caught: unknown;
    try {
      parseJson(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TufsignError);
    expect((caught as TufsignError).code).toBe(code);
    expect((caught as TufsignError).path).toBe(path);
  });

  it('decodes escapes between plain runs', () => {
    expect(parseJson('{"k": "a\\"b\\\\c\\u00e9d\\n"}')).toEqual({ k: 'a"b\\céd\n' });
  });
});

describe('snapshot entries of the form {"version": N}', () => {
  const doc = (meta: Record<string, unknown>): string =>
    JSON.stringify({
      signatures: [],
      signed: { _type: 'snapshot', spec_version: '1.0.31', version: 1, expires: '2030-01-01T00:00:00Z', meta },
    });

  it('read the same as through the general reader, other shapes unchanged', () => {
    const meta = {
      'targets.json': { version: 3 },
      'bins-0.json': { version: 1, length: 10 },
      'bins-1.json': { version: 2, hashes: { sha256: 'ab'.repeat(32) } },
      'bins-2.json': { version: 4, 'x-extra': true },
    };
    const md = Metadata.fromBytes(Buffer.from(doc(meta)), 'snapshot.json', 'snapshot');
    expect(md.signed.toJSON()['meta']).toEqual(meta);
    expect(md.signed.meta.get('targets.json')?.length).toBeUndefined();
  });

  it.each([
    [{ version: 0 }, '$.signed.meta["targets.json"].version'],
    [{ version: -1 }, '$.signed.meta["targets.json"].version'],
    [{}, '$.signed.meta["targets.json"].version'],
    [{ version: '1' }, '$.signed.meta["targets.json"].version'],
  ])('refuses %j at %s like before', (entry, path) => {
    let caught: unknown;
    try {
      Metadata.fromBytes(Buffer.from(doc({ 'targets.json': entry })), 'snapshot.json', 'snapshot');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TufsignError);
    expect((caught as TufsignError).path).toBe(path);
  });
});

/** The writers as they were before their fast paths: the references the fast paths must match byte for byte. */
function prettyReference(value: unknown): string {
  const escape = (s: string): string =>
    JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  const write = (v: unknown, indent: string): string => {
    if (v === null || typeof v === 'boolean' || typeof v === 'number') return String(v);
    if (typeof v === 'string') return escape(v);
    const inner = indent + '  ';
    if (Array.isArray(v))
      return v.length === 0 ? '[]' : '[\n' + v.map((x) => inner + write(x, inner)).join(',\n') + '\n' + indent + ']';
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort(compareCodePoints);
    if (keys.length === 0) return '{}';
    return '{\n' + keys.map((k) => `${inner}${escape(k)}: ${write(obj[k], inner)}`).join(',\n') + '\n' + indent + '}';
  };
  return write(value, '') + '\n';
}

function canonicalReference(v: unknown): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return '"' + v.replace(/[\\"]/g, (c) => '\\' + c) + '"';
  if (Array.isArray(v)) return '[' + v.map(canonicalReference).join(',') + ']';
  const obj = v as Record<string, unknown>;
  return (
    '{' +
    Object.keys(obj)
      .sort(compareCodePoints)
      .map((k) => canonicalReference(k) + ':' + canonicalReference(obj[k]))
      .join(',') +
    '}'
  );
}

describe('the writers and the number reader after their fast paths (#12)', () => {
  // keys and strings: plain ASCII (the fast path), quotes, backslashes, controls, non-ASCII, astral characters
  const text = fc.oneof(
    fc.stringMatching(/^[a-z0-9.-]{0,12}$/),
    fc.string({ maxLength: 6 }),
    fc.constantFrom('"', '\\', 'a"b', 'a\\b', '\n', '\u007f', 'é', '\u{1F600}', '\ue000', ''),
  );
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.maxSafeInteger(),
      text,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(text, tie('value'), { maxKeys: 5 }),
    ),
  })).value;

  it('stringifyPretty writes what the previous writer wrote', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(stringifyPretty(v)).toBe(prettyReference(v));
      }),
      { numRuns: 500 },
    );
  });

  it('canonicalString writes what the previous encoder wrote', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(canonicalString(v)).toBe(canonicalReference(v));
      }),
      { numRuns: 500 },
    );
  });

  it('sortedKeys orders like a code-point sort, whether or not the keys came in order', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(wellFormed, tricky), { maxLength: 12 }), (keys) => {
        const expected = [...keys].sort(compareCodePoints);
        expect(sortedKeys([...keys])).toEqual(expected);
        expect(sortedKeys([...expected])).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('integers read like JSON.parse; fractions, exponents, -0, leading zeros and unsafe integers are refused', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(parseJson(`{"n": ${n}}`)).toEqual({ n });
      }),
      { numRuns: 500 },
    );
    for (const [doc, code] of [
      ['{"n": 1.5}', 'JSON_NUMBER'],
      ['{"n": 1e3}', 'JSON_NUMBER'],
      ['{"n": 1E3}', 'JSON_NUMBER'],
      ['{"n": -0}', 'JSON_NUMBER'],
      ['{"n": 01}', 'JSON_SYNTAX'],
      ['{"n": -}', 'JSON_SYNTAX'],
      ['{"n": -a}', 'JSON_SYNTAX'],
      ['{"n": 9007199254740992}', 'JSON_NUMBER'],
      ['{"n": 12345678901234567890}', 'JSON_NUMBER'],
      ['[1, 2, 3.0]', 'JSON_NUMBER'],
    ] as const) {
      let caught: unknown;
      try {
        parseJson(doc);
      } catch (e) {
        caught = e;
      }
      expect([doc, (caught as TufsignError | undefined)?.code]).toEqual([doc, code]);
    }
  });

  it('a duplicate key is found without a set of seen keys, whatever the key', () => {
    for (const key of ['a', 'constructor', 'toString', 'hasOwnProperty', '0', ''])
      expect(() => parseJson(`{${JSON.stringify(key)}: 1, ${JSON.stringify(key)}: 2}`)).toThrow(
        expect.objectContaining({ code: 'JSON_DUPLICATE_KEY' }) as Error,
      );
    expect(parseJson('{"constructor": 1, "toString": 2}')).toEqual({ constructor: 1, toString: 2 });
  });
});

describe('collisionKey: the ASCII fast path (100,000-file bundles)', () => {
  /** The full folding, as written for any text. */
  const fullKey = (p: string): string => p.normalize('NFKC').toLowerCase().replace(/ß/g, 'ss').normalize('NFKC');

  test('every ASCII code, alone and in paths, folds exactly as the full normalisation does', () => {
    for (let c = 0; c < 0x80; c++) {
      const ch = String.fromCharCode(c);
      expect(collisionKey(ch)).toBe(fullKey(ch));
      expect(collisionKey(`Dir${ch}/File${ch}.TXT`)).toBe(fullKey(`Dir${ch}/File${ch}.TXT`));
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 40 }), (p) => collisionKey(p) === fullKey(p)),
      { numRuns: 2000 },
    );
  });

  test('non-ASCII paths still take the full folding (ß, ligatures, composed and decomposed forms)', () => {
    expect(collisionKey('Straße/x')).toBe(collisionKey('STRASSE/X'));
    expect(collisionKey('ﬁle')).toBe(collisionKey('FILE'));
    expect(collisionKey('caf\u00e9')).toBe(collisionKey('cafe\u0301'));
    expect(findCollision(['a/Été.txt', 'a/e\u0301te\u0301.TXT'])).toEqual(['a/Été.txt', 'a/e\u0301te\u0301.TXT']);
    expect(findCollision(['README.md', 'readme.MD'])).toEqual(['README.md', 'readme.MD']);
    expect(findCollision(['a.txt', 'b.txt'])).toBeUndefined();
  });
});
