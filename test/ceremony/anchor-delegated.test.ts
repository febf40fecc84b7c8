/**
 * Requests for delegated roles (ADR 0008): the keyholder believes who may sign a delegated role only through the
 * delegating chain, verified from the trusted root down (targets by root's targets threshold, each delegated role
 * by the threshold its parent names; in a workspace, exactly what was published), and the role's basis only when
 * that chain's last role vouches for it. Each test is named after the forgery it stops.
 */
import {
  anchorRequest,
  createRequest,
  diffRequest,
  parseRequest,
  planFor,
  requestFingerprint,
  requestToJSON,
  serializeRequest,
  type Delegator,
  type SigningRequest,
  type TrustAnchor,
} from '../../src/ceremony';
import { Metadata, type Targets } from '../../src/tuf/metadata';
import {
  copyMd,
  delegate,
  delegatedScenario,
  keyholders,
  makeKey,
  NOW,
  signMd,
  targetsWith,
  TOOL,
  type DelegatedScenario,
  type TestKey,
} from './fixtures';

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

const s: DelegatedScenario = delegatedScenario();
const pin: TrustAnchor = { source: 'trust-dir', root: s.root };

/** A request like the scenario's, with some parts replaced (as an attacker with the stick would build it). */
function forged(parts: {
  trusted?: Metadata;
  next?: Metadata;
  delegatedBy?: string;
  delegators?: Delegator[];
}): SigningRequest {
  return createRequest({
    repository: 'demo',
    purpose: 'routine',
    trustedRoot: s.root,
    base: { root: 1, targets: 1, snapshot: 1, timestamp: 1 },
    roles: [
      {
        metadata: parts.next ?? s.bNext,
        trusted: parts.trusted ?? s.b,
        name: 'b',
        delegatedBy: parts.delegatedBy ?? 'a',
      },
    ],
    delegators: parts.delegators ?? [
      { role: 'targets', metadata: s.targets },
      { role: 'a', delegatedBy: 'targets', metadata: s.a },
    ],
    keyholders: keyholders([s.bKey]),
    now: NOW,
    tool: TOOL,
  });
}

/** a v1 whose delegation of b names `keys`/`threshold`, signed by `signers`. */
function aWith(keys: TestKey[], threshold: number, signers: TestKey[]): Metadata<Targets> {
  const t = targetsWith(1, {});
  delegate(t, 'b', keys, threshold, ['a/b/*']);
  return signMd(new Metadata(t), ...signers) as Metadata<Targets>;
}

describe('a request for a role two delegations down (targets → a → b)', () => {
  it('anchors through the chain from a pinned root: the plan is what the verified a names for b', () => {
    const anchored = anchorRequest(s.request, pin, 'stick.json');
    expect(anchored.trustedRoot).toBe(s.request.trustedRoot);
    expect(planFor(s.request)).toEqual([{ role: 'b', keyids: [s.bKey.keyid], threshold: 1 }]);
    const diff = diffRequest(s.request)[0];
    expect(diff?.role).toBe('b');
    expect(diff?.targetsAdded?.map((t) => t.path)).toEqual(['a/b/two.txt']);
  });

  it('serializes as format 3 and parses back to the same fingerprint; the chain is carried', () => {
    const json = requestToJSON(s.request);
    expect(json['format_version']).toBe(3);
    const back = parseRequest(Buffer.from(serializeRequest(s.request)), 'stick.json');
    expect(requestFingerprint(back)).toBe(requestFingerprint(s.request));
    expect(back.delegators.map((d) => [d.role, d.delegatedBy])).toEqual([
      ['targets', undefined],
      ['a', 'targets'],
    ]);
    expect(code(() => anchorRequest(back, pin, 'stick.json'))).toBeUndefined();
  });

  it('the fingerprint covers the chain and who delegates: another a (even validly signed) changes it', () => {
    const otherA = aWith([s.bKey], 1, [s.aKeys[1] as TestKey, s.aKeys[2] as TestKey]);
    otherA.signed.expires = new Date(otherA.signed.expires.getTime() + 1000);
    const resigned = signMd(
      new Metadata(copyMd(otherA).signed),
      s.aKeys[1] as TestKey,
      s.aKeys[2] as TestKey,
    ) as Metadata<Targets>;
    const other = forged({
      delegators: [
        { role: 'targets', metadata: s.targets },
        { role: 'a', delegatedBy: 'targets', metadata: resigned },
      ],
    });
    expect(requestFingerprint(other)).not.toBe(requestFingerprint(s.request));
  });

  it('attack: a basis relabelled (the new content as the old version) is refused, never shown as "no change"', () => {
    const relabelled = copyMd(s.bNext);
    relabelled.signed.version = 1;
    const req = forged({ trusted: relabelled });
    expect(diffRequest(req)[0]?.targetsAdded).toEqual([]); // what the screen would have said
    expect(code(() => anchorRequest(req, pin, 'stick.json'))).toBe('TRUST_BASIS_INVALID');
    // signed by an attacker key instead: still not b's key as a names it
    const attacker = makeKey('attacker');
    const signedByAttacker = signMd(new Metadata(copyMd(relabelled).signed), attacker);
    expect(code(() => anchorRequest(forged({ trusted: signedByAttacker }), pin, 'stick.json'))).toBe(
      'TRUST_BASIS_INVALID',
    );
  });

  it('attack: keys swapped in the chain (a names the attacker for b) is refused, signed or not', () => {
    const attacker = makeKey('attacker');
    // a's signatures kept over changed content
    const swapped = aWith([attacker], 1, []);
    for (const sig of s.a.signatures.values()) swapped.addSignature(sig);
    const basis = signMd(new Metadata(copyMd(s.b).signed), attacker);
    const chain = (a: Metadata<Targets>): Delegator[] => [
      { role: 'targets', metadata: s.targets },
      { role: 'a', delegatedBy: 'targets', metadata: a },
    ];
    expect(code(() => anchorRequest(forged({ trusted: basis, delegators: chain(swapped) }), pin, 'x'))).toBe(
      'TRUST_CHAIN_INVALID',
    );
    // re-signed by the attacker: not a's threshold as targets names it
    const resigned = aWith([attacker], 1, [attacker]);
    expect(code(() => anchorRequest(forged({ trusted: basis, delegators: chain(resigned) }), pin, 'x'))).toBe(
      'TRUST_CHAIN_INVALID',
    );
    // one of a's 2-of-3 keys alone is not enough either
    const oneKey = aWith([attacker], 1, [s.aKeys[0] as TestKey]);
    expect(code(() => anchorRequest(forged({ trusted: basis, delegators: chain(oneKey) }), pin, 'x'))).toBe(
      'TRUST_CHAIN_INVALID',
    );
  });

  it('attack: a forged top of the chain (targets delegating a to the attacker) is refused', () => {
    const attacker = makeKey('attacker');
    const t = targetsWith(1, {});
    delegate(t, 'a', [attacker], 1, ['a/*', 'a/*/*']);
    const fakeTargets = signMd(new Metadata(t), attacker) as Metadata<Targets>;
    const fakeA = aWith([attacker], 1, [attacker]);
    const basis = signMd(new Metadata(copyMd(s.b).signed), attacker);
    const req = forged({
      trusted: basis,
      delegators: [
        { role: 'targets', metadata: fakeTargets },
        { role: 'a', delegatedBy: 'targets', metadata: fakeA },
      ],
    });
    expect(code(() => anchorRequest(req, pin, 'x'))).toBe('TRUST_CHAIN_INVALID');
  });

  it('attack: a parent that does not delegate to the role is refused', () => {
    // b claimed to be delegated by targets, which delegates only a
    expect(code(() => forged({ delegatedBy: 'targets' }))).toBe('TRUST_CHAIN_INVALID');
    // a chain entry that its parent does not delegate to
    const c = signMd(new Metadata(copyMd(s.a).signed), s.aKeys[0] as TestKey, s.aKeys[1] as TestKey);
    const req = {
      ...s.request,
      delegators: [
        { role: 'targets', metadata: s.targets },
        { role: 'x', delegatedBy: 'targets', metadata: c as Metadata<Targets> },
        { role: 'a', delegatedBy: 'x', metadata: s.a },
      ],
    };
    expect(code(() => anchorRequest(req, pin, 'x'))).toBe('TRUST_CHAIN_INVALID');
  });

  it('attack: a threshold lowered in a signed delegation, or in the stored (unsigned) plan, is refused', () => {
    const lowered = aWith([s.bKey, s.aKeys[0] as TestKey], 1, []);
    for (const sig of s.a.signatures.values()) lowered.addSignature(sig);
    const req = forged({
      delegators: [
        { role: 'targets', metadata: s.targets },
        { role: 'a', delegatedBy: 'targets', metadata: lowered },
      ],
    });
    expect(code(() => anchorRequest(req, pin, 'x'))).toBe('TRUST_CHAIN_INVALID');
    const doc = JSON.parse(serializeRequest(s.request));
    doc.roles[0].plan.threshold = 0;
    expect(code(() => parseRequest(Buffer.from(JSON.stringify(doc)), 'stick.json'))).toBe('REQUEST_INVALID');
    // the threshold a names in the request's copy of a, edited: the fingerprint no longer matches
    const doc2 = JSON.parse(serializeRequest(s.request));
    doc2.delegators[1].metadata.signed.delegations.roles[0].threshold = 2;
    expect(code(() => parseRequest(Buffer.from(JSON.stringify(doc2)), 'stick.json'))).toBe('REQUEST_PAYLOAD_CHANGED');
  });

  it('a version that is not the basis + 1 is refused', () => {
    const jump = copyMd(s.bNext);
    jump.signed.version = 3;
    expect(code(() => anchorRequest(forged({ next: jump }), pin, 'x'))).toBe('VERSION_INVALID');
  });

  it('in a workspace, the chain and the basis must be exactly what it published (an older valid a is refused)', () => {
    const published = (over: Record<string, Metadata>) => (name: string) =>
      over[name] ?? ({ targets: s.targets, a: s.a, b: s.b } as Record<string, Metadata>)[name];
    const ws = (over: Record<string, Metadata> = {}): TrustAnchor => ({
      source: 'workspace',
      root: s.root,
      published: { targets: s.targets },
      publishedTargetsRole: published(over),
    });
    expect(code(() => anchorRequest(s.request, ws(), 'x'))).toBeUndefined();
    // the workspace has moved on to another a (this request's copy is validly signed, but not what is published)
    const newerA = aWith([s.bKey], 1, [s.aKeys[0] as TestKey, s.aKeys[2] as TestKey]);
    newerA.signed.version = 2;
    const newerSigned = signMd(
      new Metadata(copyMd(newerA).signed),
      s.aKeys[0] as TestKey,
      s.aKeys[2] as TestKey,
    ) as Metadata<Targets>;
    expect(code(() => anchorRequest(s.request, ws({ a: newerSigned }), 'x'))).toBe('TRUST_CHAIN_INVALID');
    const otherB = signMd(new Metadata(targetsWith(1, { 'a/b/zzz': 'z' })), s.bKey);
    expect(code(() => anchorRequest(s.request, ws({ b: otherB }), 'x'))).toBe('TRUST_BASIS_INVALID');
  });

  it('a request for a new repository never carries delegated roles; a v2 request cannot smuggle a chain', () => {
    const noRoot = { ...s.request, trustedRoot: undefined } as unknown as SigningRequest;
    expect(code(() => anchorRequest(noRoot, undefined, 'x'))).toBe('TRUST_CHAIN_INVALID');
    const doc = JSON.parse(serializeRequest(s.request));
    doc.format_version = 2;
    expect(code(() => parseRequest(Buffer.from(JSON.stringify(doc)), 'stick.json'))).toBe('REQUEST_INVALID');
  });
});

describe('a role the request creates, under its parent’s new version in the same request (#12)', () => {
  const cKey = makeKey('c-1');
  /** a v2 delegating c (or not), and c v1 (empty): the request `delegate add c --from a` writes */
  function creating(options: { delegateC?: boolean; cTrusted?: Metadata; parentInRequest?: boolean } = {}) {
    const aNext = targetsWith(2, {});
    delegate(aNext, 'b', [s.bKey], 1, ['a/b/*']);
    if (options.delegateC !== false) delegate(aNext, 'c', [cKey], 1, ['a/c/*']);
    const roles: Parameters<typeof createRequest>[0]['roles'] = [
      {
        metadata: new Metadata(targetsWith(1, {})),
        ...(options.cTrusted !== undefined ? { trusted: options.cTrusted } : {}),
        name: 'c',
        delegatedBy: 'a',
      },
    ];
    if (options.parentInRequest !== false)
      roles.push({ metadata: new Metadata(aNext), trusted: s.a, name: 'a', delegatedBy: 'targets' });
    return () =>
      createRequest({
        repository: 'demo',
        purpose: 'delegate c',
        trustedRoot: s.root,
        base: { root: 1, targets: 1, snapshot: 1, timestamp: 1 },
        roles,
        delegators: [{ role: 'targets', metadata: s.targets }],
        keyholders: keyholders([cKey]),
        now: NOW,
        tool: TOOL,
      });
  }

  it('is planned under the parent’s new version, survives the format, and anchors from the pin', () => {
    const req = creating()();
    expect(planFor(req).map((p) => [p.role, p.keyids])).toEqual([
      ['a', s.aKeys.map((k) => k.keyid)],
      ['c', [cKey.keyid]],
    ]);
    const back = parseRequest(Buffer.from(serializeRequest(req)), 'stick.json');
    expect(requestFingerprint(back)).toBe(requestFingerprint(req));
    expect(code(() => anchorRequest(back, pin, 'x'))).toBeUndefined();
    expect(diffRequest(back).find((d) => d.role === 'c')?.versionFrom).toBeUndefined();
  });

  it('a new role its parent’s new version does not delegate to', () => {
    expect(code(creating({ delegateC: false }))).toBe('TRUST_CHAIN_INVALID');
  });

  it('a role without a trusted version whose parent is not changed by the request', () => {
    expect(code(creating({ parentInRequest: false }))).toBe('REQUEST_INVALID');
  });

  it('a “new” role the workspace already publishes', () => {
    const req = creating()();
    const existingC = signMd(new Metadata(targetsWith(1, { 'a/c/x': 'x' })), cKey);
    const ws: TrustAnchor = {
      source: 'workspace',
      root: s.root,
      published: { targets: s.targets },
      publishedTargetsRole: (name) => ({ targets: s.targets, a: s.a, c: existingC })[name],
    };
    expect(code(() => anchorRequest(req, ws, 'x'))).toBe('TRUST_BASIS_INVALID');
  });
});
