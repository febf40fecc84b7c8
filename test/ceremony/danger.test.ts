/**
 * Dangerous changes are shouted before any secret, and some are refused at
 * sign time (src/ceremony/danger.ts), computed from the diff itself.
 */
import {
  checkExpiryPolicy,
  createRequest,
  dangerousChanges,
  diffRequest,
  unauthorisedRoles,
  type MaxExpiry,
} from '../../src/ceremony';
import { Metadata, type Root } from '../../src/tuf/metadata';
import { DAY, days, makeKey, makeRoot, NOW, rotation, signMd, targetsWith, TOOL } from './fixtures';

const POLICY: MaxExpiry = { root: 730 * DAY, targets: 730 * DAY, snapshot: 365 * DAY, timestamp: 365 * DAY };

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('dangerous changes are listed', () => {
  it('a lowered root threshold with an added key', () => {
    const s = rotation(3, 2, 3, 1, 1);
    const kinds = dangerousChanges(diffRequest(s.request), s.trusted.signed, NOW, POLICY).map((d) => d.kind);
    expect(kinds).toEqual(expect.arrayContaining(['threshold-lowered', 'key-added']));
  });

  it('an existing root key gaining the targets role, and an expiry beyond the maximum', () => {
    const s = rotation(2, 1, 2, 0, 1);
    const next = new Metadata(makeRoot(2, s.old, 1, s.online, days(100 * 365)));
    next.signed.addKey(s.old[0]!.key, 'targets');
    const req = createRequest({
      repository: 'demo',
      purpose: 'p',
      trustedRoot: s.trusted,
      base: { root: 1 },
      roles: [{ metadata: next }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });
    const kinds = dangerousChanges(diffRequest(req), s.trusted.signed, NOW, POLICY).map((d) => d.kind);
    expect(kinds).toEqual(expect.arrayContaining(['role-gained', 'expiry-beyond-policy']));
    expect(code(() => checkExpiryPolicy(req, NOW, POLICY))).toBe('EXPIRY_TOO_LONG');
  });

  it('targets removed and replaced', () => {
    const online = makeKey('online');
    const root = signMd(new Metadata(makeRoot(1, [makeKey('r')], 1, online)), ...[]) as Metadata<Root>;
    const v1 = signMd(new Metadata(targetsWith(1, { a: 'one', b: 'two' })), online);
    const v2 = new Metadata(targetsWith(2, { a: 'ONE' }));
    const req = createRequest({
      repository: 'demo',
      purpose: 'p',
      trustedRoot: root,
      base: { targets: 1 },
      roles: [{ metadata: v2, trusted: v1 }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });
    const kinds = dangerousChanges(diffRequest(req), root.signed, NOW, POLICY).map((d) => d.kind);
    expect(kinds.sort()).toEqual(['targets-removed', 'targets-replaced']);
  });

  it('a root that sets consistent_snapshot where the trusted root left it out: shown as unset, never "undefined"', () => {
    const old = [makeKey('cs-old')];
    const online = makeKey('cs-online');
    const bare = makeRoot(1, old, 1, online);
    bare.consistentSnapshot = undefined;
    const trusted = signMd(new Metadata(bare), ...old) as Metadata<Root>;
    const next = new Metadata(makeRoot(2, old, 1, online, days(365)));
    next.signed.consistentSnapshot = true;
    const req = createRequest({
      repository: 'demo',
      purpose: 'p',
      trustedRoot: trusted,
      base: { root: 1 },
      roles: [{ metadata: next }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });
    const found = dangerousChanges(diffRequest(req), trusted.signed, NOW, POLICY).filter(
      (d) => d.kind === 'consistent-snapshot-changed',
    );
    expect(found).toHaveLength(1);
    expect(found[0]?.message).not.toContain('undefined');
  });

  it('a plain renewal has none', () => {
    const s = rotation(2, 1, 2, 0, 1);
    expect(dangerousChanges(diffRequest(s.request), s.trusted.signed, NOW, POLICY)).toEqual([]);
    expect(() => checkExpiryPolicy(s.request, NOW, POLICY)).not.toThrow();
  });
});

describe('refused at sign time', () => {
  it('an expiry in the past', () => {
    const s = rotation(2, 1, 2, 0, 1, { expires: days(10) });
    expect(code(() => checkExpiryPolicy(s.request, days(11), POLICY))).toBe('EXPIRY_TOO_SHORT');
  });

  it('attack: a new root that makes a root key also a targets key cannot have it sign targets in the same request', () => {
    const s = rotation(2, 1, 2, 0, 1);
    const rootKey = s.old[0]!;
    expect(unauthorisedRoles(s.request, rootKey.keyid, ['root', 'targets'])).toEqual(['targets']);
    expect(unauthorisedRoles(s.request, s.online.keyid, ['targets'])).toEqual([]);
    // a key new in this request (rotation) is governed by the new root
    expect(unauthorisedRoles(s.request, makeKey('fresh').keyid, ['targets'])).toEqual([]);
  });
});
