/**
 * The keyholder as a TUF client (src/ceremony/anchor.ts): a request is checked
 * against the root this machine pins. Each test is named after the attack it
 * stops; none of these may ever end as a diff that says "no change".
 */
import {
  anchorRequest,
  createRequest,
  olderVoucherDangers,
  requestFingerprint,
  type SigningRequest,
  type TrustAnchor,
} from '../../src/ceremony';
import { Metadata, MetaFile, Snapshot, type Root, type Targets } from '../../src/tuf/metadata';
import {
  days,
  keyholders,
  makeKey,
  makeRoot,
  NOW,
  rotation,
  signMd,
  targetsWith,
  TOOL,
  type TestKey,
} from './fixtures';

function pinned(
  root: Metadata<Root>,
  source: TrustAnchor['source'] = 'trust-dir',
  published?: TrustAnchor['published'],
): TrustAnchor {
  return { source, root, ...(published !== undefined ? { published } : {}) };
}

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('attack: an unanchored root (self-signed trusted_root with the attacker key, threshold lowered)', () => {
  const real = rotation(3, 2, 3, 0, 2);
  const attacker = makeKey('attacker');
  // the forged "trusted" root carries the same change as the new one: the diff would show nothing
  const fakeTrusted = signMd(
    new Metadata(makeRoot(1, [...real.old, attacker], 1, real.online)),
    attacker,
  ) as Metadata<Root>;
  const evilNext = new Metadata(makeRoot(2, [...real.old, attacker], 1, real.online));
  const evil = createRequest({
    repository: 'demo',
    purpose: 'routine',
    trustedRoot: fakeTrusted,
    base: { root: 1 },
    roles: [{ metadata: evilNext }],
    keyholders: new Map(),
    now: NOW,
    tool: TOOL,
  });

  it('with a pinned root in the trust folder: refused as a broken chain', () => {
    expect(code(() => anchorRequest(evil, pinned(real.trusted)))).toBe('TRUST_CHAIN_INVALID');
  });
  it('with a workspace: refused as a broken chain', () => {
    expect(code(() => anchorRequest(evil, pinned(real.trusted, 'workspace')))).toBe('TRUST_CHAIN_INVALID');
  });
  it('with nothing pinned: refused as unanchored (never shown against its own trusted root)', () => {
    expect(code(() => anchorRequest(evil, undefined))).toBe('TRUST_UNANCHORED');
  });
  it('the honest request passes from the same pin', () => {
    expect(anchorRequest(real.request, pinned(real.trusted)).chain).toEqual([]);
  });
});

describe('the root chain from the pin', () => {
  const k = [makeKey('a'), makeKey('b'), makeKey('c')];
  const online = makeKey('online');
  const r1 = signMd(new Metadata(makeRoot(1, [k[0]!, k[1]!], 1, online)), k[0]!) as Metadata<Root>;
  const r2 = signMd(new Metadata(makeRoot(2, [k[1]!, k[2]!], 1, online)), k[0]!, k[1]!) as Metadata<Root>;
  const r3 = signMd(new Metadata(makeRoot(3, [k[1]!, k[2]!], 2, online)), k[1]!, k[2]!) as Metadata<Root>;
  const r4 = new Metadata(makeRoot(4, [k[1]!, k[2]!], 2, online));
  const request = (history: Metadata<Root>[], trusted = r3): SigningRequest =>
    createRequest({
      repository: 'demo',
      purpose: 'p',
      trustedRoot: trusted,
      rootHistory: history,
      base: { root: 3 },
      roles: [{ metadata: r4 }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });

  it('a keyholder pinned at v1 verifies v2 and v3 step by step', () => {
    expect(anchorRequest(request([r1, r2]), pinned(r1)).chain).toEqual([2, 3]);
    expect(anchorRequest(request([r1, r2]), pinned(r2)).chain).toEqual([3]);
    expect(anchorRequest(request([r1, r2]), pinned(r3)).chain).toEqual([]);
  });
  it('attack: a missing step is refused', () => {
    expect(code(() => anchorRequest(request([]), pinned(r1)))).toBe('TRUST_CHAIN_INVALID');
  });
  it('attack: a step not signed by the previous root threshold is refused', () => {
    const forged2 = signMd(new Metadata(makeRoot(2, [k[1]!, k[2]!], 1, online)), k[2]!) as Metadata<Root>;
    expect(code(() => anchorRequest(request([r1, forged2]), pinned(r1)))).toBe('TRUST_CHAIN_INVALID');
  });
  it('attack: a request whose history disagrees with the pin (a fork) is refused', () => {
    const other1 = signMd(new Metadata(makeRoot(1, [k[0]!, k[1]!], 1, online, days(400))), k[0]!) as Metadata<Root>;
    expect(code(() => anchorRequest(request([other1, r2]), pinned(r1)))).toBe('TRUST_CHAIN_INVALID');
  });
  it('attack: a request made against an older root than the pin (rollback) is refused', () => {
    const old = createRequest({
      repository: 'demo',
      purpose: 'p',
      trustedRoot: r1,
      base: { root: 1 },
      roles: [{ metadata: new Metadata(makeRoot(2, [k[0]!], 1, online)) }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });
    expect(code(() => anchorRequest(old, pinned(r3)))).toBe('REQUEST_STALE');
  });
  it('attack: a request for a "new repository" where a root is pinned is refused', () => {
    const fresh = createRequest({
      repository: 'demo',
      purpose: 'p',
      base: {},
      roles: [{ metadata: new Metadata(makeRoot(1, [k[0]!], 1, online)) }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });
    expect(code(() => anchorRequest(fresh, pinned(r1)))).toBe('TRUST_CHAIN_INVALID');
    expect(anchorRequest(fresh, undefined).chain).toEqual([]);
  });
});

describe('attack: a forged basis for targets', () => {
  const online = makeKey('online');
  const rootKeys = [makeKey('r1')];
  const root = signMd(new Metadata(makeRoot(1, rootKeys, 1, online)), ...rootKeys) as Metadata<Root>;
  const v1 = signMd(new Metadata(targetsWith(1, { 'app-1.0.tar.gz': 'one' })), online) as Metadata<Targets>;
  const v2 = new Metadata(targetsWith(2, { 'app-1.0.tar.gz': 'one', 'evil.tar.gz': 'payload' }));
  const req = (trusted: Metadata, next: Metadata = v2): SigningRequest =>
    createRequest({
      repository: 'demo',
      purpose: 'p',
      trustedRoot: root,
      base: { root: 1, targets: 1 },
      roles: [{ metadata: next, trusted }],
      keyholders: keyholders([online]),
      now: NOW,
      tool: TOOL,
    });
  const signer = (m: Metadata, ...keys: TestKey[]): Metadata => signMd(m, ...keys);

  it('the honest basis verifies under the pinned root', () => {
    expect(() => anchorRequest(req(v1), pinned(root))).not.toThrow();
  });
  it('the new content relabelled as the old version (with the old signatures) is refused, not shown as "no change"', () => {
    const relabelled = Metadata.fromJSON(v2.toJSON(), { expectedType: 'targets' });
    relabelled.signed.version = 1;
    for (const [, s] of v1.signatures) relabelled.addSignature(s);
    expect(
      code(() =>
        anchorRequest(
          req(relabelled, new Metadata(targetsWith(2, { 'app-1.0.tar.gz': 'one', 'evil.tar.gz': 'payload' }))),
          pinned(root),
        ),
      ),
    ).toBe('TRUST_BASIS_INVALID');
  });
  it('an unsigned basis, or one signed by a key the trusted root does not name for targets, is refused', () => {
    expect(code(() => anchorRequest(req(new Metadata(targetsWith(1, {}))), pinned(root)))).toBe('TRUST_BASIS_INVALID');
    expect(
      code(() => anchorRequest(req(signer(new Metadata(targetsWith(1, {})), makeKey('stranger'))), pinned(root))),
    ).toBe('TRUST_BASIS_INVALID');
  });
  it('a validly signed basis that is not what the workspace published is refused (same attack inside a workspace)', () => {
    const otherV1 = signMd(new Metadata(targetsWith(1, { 'other.tar.gz': 'x' })), online);
    expect(code(() => anchorRequest(req(otherV1), pinned(root, 'workspace', { targets: v1 })))).toBe(
      'TRUST_BASIS_INVALID',
    );
    expect(() => anchorRequest(req(v1), pinned(root, 'workspace', { targets: v1 }))).not.toThrow();
  });
  it('a basis that is not exactly new − 1 is refused', () => {
    expect(code(() => anchorRequest(req(v1, new Metadata(targetsWith(3, { x: 'y' }))), pinned(root)))).toBe(
      'VERSION_INVALID',
    );
  });
  it('a missing basis in an existing repository is refused (everything would look "added")', () => {
    const noBasis = createRequest({
      repository: 'demo',
      purpose: 'p',
      trustedRoot: root,
      base: { root: 1 },
      roles: [{ metadata: v2 }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });
    expect(code(() => anchorRequest(noBasis, pinned(root)))).toBe('TRUST_BASIS_INVALID');
  });
  it('the fingerprint covers the identity of the basis: two copies differing only in their basis never share it', () => {
    const otherV1 = signMd(new Metadata(targetsWith(1, { 'other.tar.gz': 'x' })), online);
    expect(requestFingerprint(req(v1))).not.toBe(requestFingerprint(req(otherV1)));
  });
});

describe('a snapshot/timestamp follow-up after those keys rotated, signed with only a pinned root', () => {
  const rootKeys = [makeKey('r1')];
  const oldOnline = makeKey('old-online');
  const newOnline = makeKey('new-online');
  const stranger = makeKey('stranger');
  const r1 = signMd(new Metadata(makeRoot(1, rootKeys, 1, oldOnline)), ...rootKeys) as Metadata<Root>;
  // root v2 replaced the snapshot/timestamp/targets key
  const r2 = signMd(new Metadata(makeRoot(2, rootKeys, 1, newOnline)), ...rootKeys) as Metadata<Root>;
  const snapshot = (version: number, targetsVersion: number): Snapshot => {
    const s = new Snapshot(version, days(7));
    s.meta.set('targets.json', new MetaFile(targetsVersion));
    return s;
  };
  const published = signMd(new Metadata(snapshot(5, 3)), oldOnline) as Metadata<Snapshot>;
  const followUp = (basis: Metadata, next: Metadata = new Metadata(snapshot(6, 3))): SigningRequest =>
    createRequest({
      repository: 'demo',
      purpose: 'follow-up: snapshot',
      trustedRoot: r2,
      rootHistory: [r1],
      base: { root: 2, snapshot: 5 },
      roles: [{ metadata: next, trusted: basis }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });

  it('the basis signed by the replaced keys verifies under the pinned root v1, and says so', () => {
    const a = anchorRequest(followUp(published), pinned(r1));
    expect(a.chain).toEqual([2]);
    expect(a.olderVouchers).toEqual([{ role: 'snapshot', basisVersion: 5, rootVersion: 1 }]);
    expect(olderVoucherDangers(a).map((d) => d.kind)).toEqual(['basis-from-earlier-root']);
  });
  it('a basis signed under the trusted root needs no older voucher', () => {
    const current = signMd(new Metadata(snapshot(5, 3)), newOnline);
    expect(anchorRequest(followUp(current), pinned(r1)).olderVouchers).toBeUndefined();
  });
  it('attack: a basis signed by a key no verified root names is refused', () => {
    const forged = signMd(new Metadata(snapshot(5, 3)), stranger);
    expect(code(() => anchorRequest(followUp(forged), pinned(r1)))).toBe('TRUST_BASIS_INVALID');
  });
  it('attack: a root below the pin cannot vouch (only the pin and the roots verified from it)', () => {
    // pinned at v2: root v1 rides along in root_history, unverified; a basis signed by its keys is refused
    expect(code(() => anchorRequest(followUp(published), pinned(r2)))).toBe('TRUST_BASIS_INVALID');
  });
  it('attack: a forged root_history v1 with an attacker snapshot key breaks the chain from the pin', () => {
    const forgedR1 = signMd(new Metadata(makeRoot(1, rootKeys, 1, stranger)), ...rootKeys) as Metadata<Root>;
    const req = createRequest({
      repository: 'demo',
      purpose: 'p',
      trustedRoot: r2,
      rootHistory: [forgedR1],
      base: { root: 2, snapshot: 5 },
      roles: [{ metadata: new Metadata(snapshot(6, 3)), trusted: signMd(new Metadata(snapshot(5, 3)), stranger) }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });
    expect(code(() => anchorRequest(req, pinned(r1)))).toBe('TRUST_CHAIN_INVALID');
  });
  it('in a workspace the basis is what was published, whoever signed it', () => {
    expect(() => anchorRequest(followUp(published), pinned(r2, 'workspace', { snapshot: published }))).not.toThrow();
  });
});
