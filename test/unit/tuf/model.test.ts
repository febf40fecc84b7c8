import { createHash } from 'node:crypto';
import { canonicalString } from '../../../src/tuf/canonical-json';
import { parseJson } from '../../../src/tuf/json';
import { matchPathPattern, Metadata, SuccinctRoles, DelegatedRole, Signature } from '../../../src/tuf/metadata';
import { Key } from '../../../src/tuf/key';
import { rootVerificationResult, verificationResult } from '../../../src/tuf/verify';
import { buildTestRepo, mutableJson, signWith, type TestRepo } from '../../helpers/repo';
import { testSigner } from '../../helpers/keys';
import { parseThreshold } from '../../../src/tuf/threshold';

let repo: TestRepo;
beforeAll(async () => {
  repo = await buildTestRepo(3, 2);
});

describe('lossless round trips (SPEC-04)', () => {
  it('keeps unknown fields everywhere and signs them', () => {
    const m = mutableJson(repo.targets);
    m['x-envelope'] = { a: 1 };
    m.signed['x-top'] = 'kept';
    m.signed.targets['hello.txt'].custom = { channel: 'stable', nested: { n: 1 } };
    m.signed.targets['hello.txt']['x-extra'] = true;
    m.signatures[0]['x-sig'] = 'kept';
    const text = JSON.stringify(m);
    const md = Metadata.fromBytes(Buffer.from(text), 't.json', 'targets');
    expect(canonicalString(md.toJSON())).toBe(canonicalString(parseJson(text)));
    expect(Buffer.from(md.signedBytes()).toString()).toContain('"x-top":"kept"');
    // the existing signature no longer matches: unknown fields are covered by it
    const r = verificationResult('targets', repo.root.signed.role('targets'), repo.root.signed.keys, md);
    expect(r.verified).toBe(false);
    expect(r.invalid).toHaveLength(1);
  });

  it('keyid is sha256 of the canonical key with exactly keytype, scheme, keyval', () => {
    const key = testSigner('ed25519', 1).publicKey;
    expect(Object.keys(key.toJSON()).sort()).toEqual(['keytype', 'keyval', 'scheme']);
    const expected = createHash('sha256')
      .update(`{"keytype":"ed25519","keyval":{"public":"${key.publicValue}"},"scheme":"ed25519"}`)
      .digest('hex');
    expect(key.keyid()).toBe(expected);
  });
});

describe('threshold accounting', () => {
  it('reports who signed and who is missing without throwing', () => {
    const r = verificationResult('root', repo.root.signed.role('root'), repo.root.signed.keys, repo.root);
    expect(r.verified).toBe(true);
    expect(r.signed).toHaveLength(3);
    const partial = Metadata.fromJSON(mutableJson(repo.root));
    const [first] = [...partial.signatures.keys()];
    partial.signatures.clear();
    partial.addSignature(repo.root.signatures.get(first!)!);
    const p = verificationResult('root', repo.root.signed.role('root'), repo.root.signed.keys, partial);
    expect(p).toMatchObject({ verified: false, missing: 1, signed: [first] });
    expect(p.unsigned).toHaveLength(2);
  });

  it('BAD-29 a signature from a key outside the role does not count', async () => {
    const md = Metadata.fromJSON(mutableJson(repo.targets));
    md.clearSignatures();
    await signWith(md, [repo.signers.snapshot]);
    const r = verificationResult('targets', repo.root.signed.role('targets'), repo.root.signed.keys, md);
    expect(r).toMatchObject({ verified: false, foreign: [repo.signers.snapshot.publicKey.keyid()] });
  });

  it('SPEC-11/BAD-22 one public key under two keyids counts once', async () => {
    const signer = testSigner('ed25519', 50);
    const pemKey = new Key(
      'ed25519',
      'ed25519',
      Object.assign(Object.create(null), {
        public: signer.publicKey.keyObject().export({ format: 'pem', type: 'spki' }).toString(),
      }),
    );
    const keys = new Map([
      [signer.publicKey.keyid(), signer.publicKey],
      [pemKey.keyid(), pemKey],
    ]);
    const md = Metadata.fromJSON(mutableJson(repo.targets));
    md.clearSignatures();
    const { signature } = await signer.sign(md.signedBytes());
    const hex = Buffer.from(signature).toString('hex');
    md.addSignature(new Signature(signer.publicKey.keyid(), hex));
    md.addSignature(new Signature(pemKey.keyid(), hex));
    const role = { keyids: [...keys.keys()], threshold: 2 } as never;
    const r = verificationResult('targets', role, keys, md);
    expect(r.signed).toHaveLength(1);
    expect(r.duplicates).toHaveLength(1);
    expect(r.verified).toBe(false);
  });

  it('SPEC-14 a new root needs the old and the new threshold', async () => {
    const next = Metadata.fromJSON(mutableJson(repo.root)) as Metadata<typeof repo.root.signed>;
    next.signed.version = 2;
    const newKey = testSigner('ed25519', 99);
    for (const s of repo.signers.root) next.signed.revokeKey(s.publicKey.keyid(), 'root');
    next.signed.addKey(newKey.publicKey, 'root');
    next.signed.role('root').threshold = parseThreshold(1);
    next.clearSignatures();
    await signWith(next, [newKey]);
    let r = rootVerificationResult(repo.root.signed, next);
    expect(r.current.verified).toBe(true);
    expect(r.previous.verified).toBe(false);
    await signWith(next, repo.signers.root.slice(0, 2));
    r = rootVerificationResult(repo.root.signed, next);
    expect(r.verified).toBe(true);
  });
});

describe('delegations', () => {
  // cases from python-tuf tests/test_api.py test_is_target_in_pathpattern
  it.each([
    ['foo.tgz', '*.tgz', true],
    ['targets/foo.tgz', '*.tgz', false],
    ['targets/foo.tgz', 'targets/*.tgz', true],
    ['foo-version-a.tgz', 'foo-version-?.tgz', true],
    ['foo-version-alpha.tgz', 'foo-version-?.tgz', false],
    ['targets/foo.txt', 'targets/*.tgz', false],
    ['foo/bar/zoo/k.tgz', 'foo/*/zoo/*.tgz', true],
    ['foo/bar/baz.tgz', 'foo/*/zoo/*.tgz', false],
    ['Foo.TGZ', '*.tgz', false],
    ['x1.bin', 'x[0-9].bin', true],
    ['xa.bin', 'x[!a].bin', false],
  ] as const)('%s against %s → %s', (path, pattern, expected) => {
    expect(matchPathPattern(path, pattern)).toBe(expected);
  });

  it('path_hash_prefixes match on sha256 of the target path', () => {
    const digest = createHash('sha256').update('a/b.txt').digest('hex');
    const role = new DelegatedRole('bin', [], parseThreshold(1), false, undefined, [digest.slice(0, 2)]);
    expect(role.isDelegatedPath('a/b.txt')).toBe(true);
    const other = new DelegatedRole('bin', [], parseThreshold(1), false, undefined, [digest[0] === '0' ? '1' : '0']);
    expect(other.isDelegatedPath('a/b.txt')).toBe(false);
  });

  it('succinct hash bins follow TAP 15 naming and bin selection', () => {
    const s = new SuccinctRoles([], parseThreshold(1), 8, 'bin');
    expect(s.numberOfBins).toBe(256);
    expect(s.roleName(0)).toBe('bin-00');
    expect(s.roleName(255)).toBe('bin-ff');
    const digest = createHash('sha256').update('app/file.txt').digest();
    expect(s.roleForTarget('app/file.txt')).toBe(`bin-${digest[0]!.toString(16).padStart(2, '0')}`);
    expect(s.isDelegatedRole('bin-ff')).toBe(true);
    expect(s.isDelegatedRole('bin-100')).toBe(false);
    const odd = new SuccinctRoles([], parseThreshold(1), 5, 'b');
    expect(odd.roleName(31)).toBe('b-1f');
    expect(odd.isDelegatedRole('b-20')).toBe(false);
  });
});
