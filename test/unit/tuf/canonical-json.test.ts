import { canonicalize, canonicalString, compareCodePoints, CanonicalJsonError } from '../../../src/tuf/canonical-json';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Expected bytes produced by securesystemslib 0.26 `encode_canonical` (the python-tuf encoder), UTF-8 encoded.
const VECTORS: [string, unknown, string][] = [
  [
    'sorted keys, literals, escapes',
    { b: 1, a: [true, false, null], c: 'x"y\\z' },
    '7b2261223a5b747275652c66616c73652c6e756c6c5d2c2262223a312c2263223a22785c22795c5c7a227d',
  ],
  [
    'code-point order, not UTF-16 order',
    { '\uffff': 1, '\u{1F600}': 2, a: 3 },
    '7b2261223a332c22efbfbf223a312c22f09f9880223a327d',
  ],
  [
    'control and non-ASCII characters raw',
    { s: 'line\nbreak\ttab\u0001', u: 'é\u{1F600}' },
    '7b2273223a226c696e650a627265616b0974616201222c2275223a22c3a9f09f9880227d',
  ],
  [
    'integers and empty containers',
    { n: -42, z: 0, big: 9007199254740991, e: {}, l: [] },
    '7b22626967223a393030373139393235343734303939312c2265223a7b7d2c226c223a5b5d2c226e223a2d34322c227a223a307d',
  ],
  ['nested arrays keep order', [1, [2, [3, { k: 'v' }]]], '5b312c5b322c5b332c7b226b223a2276227d5d5d5d'],
];

describe('canonical JSON (OLPC, as securesystemslib)', () => {
  it.each(VECTORS)('%s', (_name, input, expected) => {
    expect(hex(canonicalize(input))).toBe(expected);
  });

  it('differs from JavaScript default sort for astral vs BMP keys', () => {
    const keys = ['\uffff', '\u{1F600}'];
    expect([...keys].sort()).toEqual(['\u{1F600}', '\uffff']);
    expect([...keys].sort(compareCodePoints)).toEqual(['\uffff', '\u{1F600}']);
  });

  it.each([
    ['float', { v: 1.5 }],
    ['negative zero', { v: -0 }],
    ['NaN', { v: NaN }],
    ['Infinity', [Infinity]],
    ['unsafe integer', { v: 2 ** 53 }],
    ['undefined value', { v: undefined }],
    ['bigint', { v: BigInt(1) }],
    ['symbol', [Symbol('x')]],
    ['lone surrogate in a string', { v: '\ud800' }],
    ['lone surrogate in a key', { '\udc00': 1 }],
  ])('refuses %s', (_name, input) => {
    expect(() => canonicalString(input)).toThrow(CanonicalJsonError);
  });
});
