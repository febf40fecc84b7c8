import { TufsignError } from '../../../src/errors';
import { Metadata, type RoleType } from '../../../src/tuf/metadata';
import { buildTestRepo, mutableJson, type TestRepo } from '../../helpers/repo';
import { testSigner } from '../../helpers/keys';

let repo: TestRepo;
beforeAll(async () => {
  repo = await buildTestRepo(2, 1);
});

function parseError(json: unknown, expectedType?: RoleType): TufsignError {
  const bytes = Buffer.from(JSON.stringify(json));
  try {
    Metadata.fromBytes(bytes, 'm.json', expectedType);
  } catch (e) {
    expect(e).toBeInstanceOf(TufsignError);
    const err = e as TufsignError;
    expect(err.file).toBe('m.json');
    expect(err.rule).toBeDefined();
    return err;
  }
  throw new Error('expected the metadata to be rejected');
}

type Mutation = (m: any) => void;
const rootCases: [string, Mutation, string, string?][] = [
  ['BAD-11 missing signed', (m) => delete m.signed, 'METADATA_SCHEMA', '$.signed'],
  ['BAD-11 missing signatures', (m) => delete m.signatures, 'METADATA_SCHEMA', '$.signatures'],
  ['BAD-11 signatures not a list', (m) => (m.signatures = {}), 'METADATA_SCHEMA', '$.signatures'],
  ['BAD-12 _type missing', (m) => delete m.signed._type, 'METADATA_SCHEMA', '$.signed._type'],
  ['BAD-12 _type unknown', (m) => (m.signed._type = 'mirrors'), 'METADATA_TYPE', '$.signed._type'],
  ['BAD-12 _type empty', (m) => (m.signed._type = ''), 'METADATA_TYPE'],
  ['BAD-13 version 0', (m) => (m.signed.version = 0), 'METADATA_SCHEMA', '$.signed.version'],
  ['BAD-13 version -1', (m) => (m.signed.version = -1), 'METADATA_SCHEMA', '$.signed.version'],
  ['BAD-13 version "1"', (m) => (m.signed.version = '1'), 'METADATA_SCHEMA', '$.signed.version'],
  ['BAD-14 spec_version missing', (m) => delete m.signed.spec_version, 'METADATA_SCHEMA', '$.signed.spec_version'],
  ['BAD-14 spec_version ""', (m) => (m.signed.spec_version = ''), 'METADATA_SCHEMA'],
  ['BAD-14 spec_version "1"', (m) => (m.signed.spec_version = '1'), 'METADATA_SCHEMA'],
  ['BAD-14 spec_version "abc"', (m) => (m.signed.spec_version = 'abc'), 'METADATA_SCHEMA'],
  ['BAD-14 spec_version "1.2.a"', (m) => (m.signed.spec_version = '1.2.a'), 'METADATA_SCHEMA'],
  ['BAD-14 spec_version "0.0.0"', (m) => (m.signed.spec_version = '0.0.0'), 'METADATA_SCHEMA'],
  ['BAD-14 spec_version "2.0.0"', (m) => (m.signed.spec_version = '2.0.0'), 'METADATA_SCHEMA'],
  ['BAD-15 expires "abc"', (m) => (m.signed.expires = 'abc'), 'EXPIRY_INVALID', '$.signed.expires'],
  ['BAD-15 expires with offset', (m) => (m.signed.expires = '2030-01-01T00:00:00+01:00'), 'EXPIRY_INVALID'],
  ['BAD-15 expires with fraction', (m) => (m.signed.expires = '2030-01-01T00:00:00.5Z'), 'EXPIRY_INVALID'],
  ['BAD-15 expires without Z', (m) => (m.signed.expires = '2030-01-01T00:00:00'), 'EXPIRY_INVALID'],
  ['BAD-15 impossible date', (m) => (m.signed.expires = '2030-02-30T00:00:00Z'), 'EXPIRY_INVALID'],
  ['BAD-17 signature without keyid', (m) => delete m.signatures[0].keyid, 'METADATA_SCHEMA', '$.signatures[0].keyid'],
  ['BAD-17 signature without sig', (m) => delete m.signatures[0].sig, 'METADATA_SCHEMA', '$.signatures[0].sig'],
  ['BAD-17 sig not hex', (m) => (m.signatures[0].sig = 'zz'), 'METADATA_SCHEMA', '$.signatures[0].sig'],
  [
    'SPEC-03 two signatures with one keyid',
    (m) => m.signatures.push({ ...m.signatures[0] }),
    'METADATA_SCHEMA',
    '$.signatures[2].keyid',
  ],
  ['BAD-19 signature with method', (m) => (m.signatures[0].method = 'ed25519'), 'METADATA_SCHEMA'],
  ['BAD-18 key without keytype', (m) => delete (Object.values(m.signed.keys)[0] as any).keytype, 'METADATA_SCHEMA'],
  ['BAD-18 key without scheme', (m) => delete (Object.values(m.signed.keys)[0] as any).scheme, 'METADATA_SCHEMA'],
  ['BAD-18 key without keyval', (m) => delete (Object.values(m.signed.keys)[0] as any).keyval, 'METADATA_SCHEMA'],
  [
    'BAD-18 keyval.public not a string',
    (m) => ((Object.values(m.signed.keys)[0] as any).keyval.public = 5),
    'METADATA_SCHEMA',
  ],
  [
    'BAD-19 keytype/scheme mismatch',
    (m) => ((Object.values(m.signed.keys)[0] as any).keytype = 'rsa'),
    'METADATA_SCHEMA',
  ],
  ['BAD-19 unknown scheme', (m) => ((Object.values(m.signed.keys)[0] as any).scheme = 'ed448'), 'METADATA_SCHEMA'],
  ['BAD-20 short ed25519 key', (m) => ((Object.values(m.signed.keys)[0] as any).keyval.public = 'abcd'), 'KEY_INVALID'],
  [
    'BAD-21 keyid is not the key hash',
    (m) => ((Object.values(m.signed.keys)[0] as any).x_custom = 'edited'),
    'KEYID_MISMATCH',
  ],
  ['BAD-23 root role missing', (m) => delete m.signed.roles.snapshot, 'METADATA_SCHEMA', '$.signed.roles.snapshot'],
  [
    'BAD-23 unknown extra role',
    (m) => (m.signed.roles.mirrors = { keyids: [], threshold: 1 }),
    'METADATA_SCHEMA',
    '$.signed.roles.mirrors',
  ],
  [
    'BAD-24 threshold 0',
    (m) => (m.signed.roles.root.threshold = 0),
    'METADATA_SCHEMA',
    '$.signed.roles.root.threshold',
  ],
  ['BAD-24 threshold -1', (m) => (m.signed.roles.root.threshold = -1), 'METADATA_SCHEMA'],
  ['BAD-24 threshold "2"', (m) => (m.signed.roles.root.threshold = '2'), 'METADATA_SCHEMA'],
  [
    'BAD-26 duplicate keyid in a role',
    (m) => m.signed.roles.root.keyids.push(m.signed.roles.root.keyids[0]),
    'METADATA_SCHEMA',
    '$.signed.roles.root.keyids[2]',
  ],
  [
    'BAD-26 keyid not in keys',
    (m) => m.signed.roles.targets.keyids.push('ab'.repeat(32)),
    'METADATA_SCHEMA',
    '$.signed.roles.targets.keyids[1]',
  ],
];

describe('strict metadata parsing: root', () => {
  it.each(rootCases.map(([n, m, c, p]) => [n, m, c, p ?? null] as const))('%s', (_name, mutate, code, path) => {
    const m = mutableJson(repo.root);
    mutate(m);
    const err = parseError(m);
    expect(err.code).toBe(code);
    if (path !== null) expect(err.path).toBe(path);
  });

  it('BAD-24 threshold 1.5 is refused by the JSON layer', () => {
    const text = JSON.stringify(mutableJson(repo.root)).replace('"threshold":1', '"threshold":1.5');
    expect(() => Metadata.fromBytes(Buffer.from(text), 'm.json')).toThrow(
      expect.objectContaining({ code: 'JSON_NUMBER' }),
    );
  });

  it('BAD-22 the same public key under two keyids', () => {
    const m = mutableJson(repo.root);
    const [keyid, key] = Object.entries(m.signed.keys)[0] as [string, any];
    // the same ed25519 key written as PEM has another keyid but the same key material
    const pem = testSigner('ed25519', 10).publicKey.keyObject().export({ format: 'pem', type: 'spki' }).toString();
    const alias = { ...key, keyval: { public: pem } };
    const { Key } = jest.requireActual('../../../src/tuf/key');
    const aliasId = Key.fromJSON(alias, '$').keyid();
    expect(aliasId).not.toBe(keyid);
    m.signed.keys[aliasId] = alias;
    expect(parseError(m).code).toBe('DUPLICATE_KEY');
  });

  it('BAD-12 _type that does not match the file', () => {
    const err = parseError(mutableJson(repo.timestamp), 'snapshot');
    expect(err.code).toBe('METADATA_TYPE');
  });

  it('legacy keyids are accepted only on request', () => {
    const m = mutableJson(repo.targets);
    expect(() => Metadata.fromBytes(Buffer.from(JSON.stringify(m)), 'x.json')).not.toThrow();
  });
});

describe('strict metadata parsing: targets, snapshot, timestamp, delegations', () => {
  const delegation = (extra: object = {}): any => ({
    keys: {},
    roles: [{ name: 'bins', keyids: [], threshold: 1, terminating: false, paths: ['*.tgz'], ...extra }],
  });
  const targetCases: [string, Mutation, string][] = [
    ['SPEC-21 negative length', (m) => (m.signed.targets['hello.txt'].length = -1), 'METADATA_SCHEMA'],
    ['BAD-35 empty hashes', (m) => (m.signed.targets['hello.txt'].hashes = {}), 'METADATA_SCHEMA'],
    ['BAD-35 non-hex digest', (m) => (m.signed.targets['hello.txt'].hashes.sha256 = 'x'.repeat(64)), 'METADATA_SCHEMA'],
    ['BAD-35 wrong digest length', (m) => (m.signed.targets['hello.txt'].hashes.sha256 = 'ab'), 'METADATA_SCHEMA'],
    [
      'BAD-35 unknown hash algorithm',
      (m) => (m.signed.targets['hello.txt'].hashes.md5 = 'ab'.repeat(16)),
      'METADATA_SCHEMA',
    ],
    ['SPEC-21 custom not an object', (m) => (m.signed.targets['hello.txt'].custom = [1]), 'METADATA_SCHEMA'],
    ['BAD-36 delegated name empty', (m) => (m.signed.delegations = delegation({ name: '' })), 'METADATA_SCHEMA'],
    [
      'BAD-36 delegated name is a top-level role',
      (m) => (m.signed.delegations = delegation({ name: 'snapshot' })),
      'METADATA_SCHEMA',
    ],
    [
      'BAD-36 duplicate delegated names',
      (m) => {
        m.signed.delegations = delegation();
        m.signed.delegations.roles.push({ ...m.signed.delegations.roles[0] });
      },
      'METADATA_SCHEMA',
    ],
    [
      'BAD-37 both paths and path_hash_prefixes',
      (m) => (m.signed.delegations = delegation({ path_hash_prefixes: ['ab'] })),
      'METADATA_SCHEMA',
    ],
    [
      'BAD-37 neither paths nor prefixes',
      (m) => {
        m.signed.delegations = delegation();
        delete m.signed.delegations.roles[0].paths;
      },
      'METADATA_SCHEMA',
    ],
    [
      'BAD-37 non-hex prefix',
      (m) => {
        m.signed.delegations = delegation({ path_hash_prefixes: ['xyz'] });
        delete m.signed.delegations.roles[0].paths;
      },
      'METADATA_SCHEMA',
    ],
    [
      'BAD-38 role name with a slash',
      (m) => (m.signed.delegations = delegation({ name: '../evil' })),
      'METADATA_SCHEMA',
    ],
    ['BAD-38 role name not NFC', (m) => (m.signed.delegations = delegation({ name: 'o\u0308' })), 'METADATA_SCHEMA'],
    ['BAD-24 delegated threshold 0', (m) => (m.signed.delegations = delegation({ threshold: 0 })), 'METADATA_SCHEMA'],
    [
      'TAP 15 roles and succinct_roles together',
      (m) => {
        m.signed.delegations = delegation();
        m.signed.delegations.succinct_roles = { keyids: [], threshold: 1, bit_length: 4, name_prefix: 'bin' };
      },
      'METADATA_SCHEMA',
    ],
    [
      'TAP 15 bit_length 33',
      (m) =>
        (m.signed.delegations = {
          keys: {},
          succinct_roles: { keyids: [], threshold: 1, bit_length: 33, name_prefix: 'bin' },
        }),
      'METADATA_SCHEMA',
    ],
  ];
  it.each(targetCases)('%s', (_name, mutate, code) => {
    const m = mutableJson(repo.targets);
    mutate(m);
    expect(parseError(m).code).toBe(code);
  });

  const snapshotCases: [string, Mutation][] = [
    ['BAD-33 snapshot without targets.json', (m) => (m.signed.meta = {})],
    ['SPEC-29 version-prefixed METAPATH', (m) => (m.signed.meta['3.targets.json'] = { version: 3 })],
    ['BAD-35 metafile negative length', (m) => (m.signed.meta['targets.json'].length = -5)],
  ];
  it.each(snapshotCases)('%s', (_name, mutate) => {
    const m = mutableJson(repo.snapshot);
    mutate(m);
    expect(parseError(m).code).toBe('METADATA_SCHEMA');
  });

  const timestampCases: [string, Mutation][] = [
    ['BAD-34 timestamp meta with another file', (m) => (m.signed.meta['targets.json'] = { version: 1 })],
    ['BAD-34 timestamp meta with a prefixed name', (m) => (m.signed.meta = { '1.snapshot.json': { version: 1 } })],
  ];
  it.each(timestampCases)('%s', (_name, mutate) => {
    const m = mutableJson(repo.timestamp);
    mutate(m);
    expect(parseError(m).code).toBe('METADATA_SCHEMA');
  });
});
