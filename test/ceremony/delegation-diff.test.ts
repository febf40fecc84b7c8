/**
 * A targets change that touches delegations is shouted fact by fact
 * (src/ceremony/delegation-diff.ts): a keyholder signing targets is handing
 * out authority over target paths, so "delegations changed" is not enough.
 */
import { createRequest, dangerousChanges, diffDelegations, diffRequest, type MaxExpiry } from '../../src/ceremony';
import { DelegatedRole, Delegations, Metadata, SuccinctRoles, type Root } from '../../src/tuf/metadata';
import { DAY, makeKey, makeRoot, NOW, signMd, targetsWith, TOOL, type TestKey } from './fixtures';
import { parseThreshold } from '../../src/tuf/threshold';

const POLICY: MaxExpiry = { root: 730 * DAY, targets: 730 * DAY, snapshot: 365 * DAY, timestamp: 365 * DAY };
const alpha = makeKey('alpha');
const beta = makeKey('beta');
const attacker = makeKey('attacker');

function delegations(roles: DelegatedRole[], keys: TestKey[], bins?: SuccinctRoles): Delegations {
  return new Delegations(new Map(keys.map((k) => [k.keyid, k.key])), bins === undefined ? roles : undefined, bins);
}
const role = (name: string, keys: TestKey[], threshold: number, paths: string[], terminating = false): DelegatedRole =>
  new DelegatedRole(
    name,
    keys.map((k) => k.keyid),
    parseThreshold(threshold),
    terminating,
    paths,
  );
const kinds = (from: Delegations | undefined, to: Delegations | undefined): string[] =>
  diffDelegations(from, to)
    .map((c) => c.kind)
    .sort();

describe('each delegation change is named', () => {
  const base = delegations(
    [role('alpha', [alpha, beta], 2, ['alpha/*']), role('beta', [beta], 1, ['beta/*'])],
    [alpha, beta],
  );

  it('no change: nothing', () => {
    expect(diffDelegations(base, base)).toEqual([]);
    expect(diffDelegations(undefined, undefined)).toEqual([]);
  });
  it('attack: a role widened to every path, its threshold lowered and an attacker key added', () => {
    const evil = delegations(
      [role('alpha', [alpha, beta, attacker], 1, ['*', '*/*']), role('beta', [beta], 1, ['beta/*'])],
      [alpha, beta, attacker],
    );
    expect(kinds(base, evil)).toEqual([
      'delegation-keys-changed',
      'delegation-paths-changed',
      'delegation-threshold-lowered',
    ]);
    const text = diffDelegations(base, evil)
      .map((c) => c.message)
      .join('\n');
    expect(text).toContain('alpha/* → paths *, */*');
    expect(text).toContain(attacker.keyid.slice(0, 12));
  });
  it('a role added, a role removed, terminating flipped, the order changed', () => {
    const next = delegations(
      [
        role('beta', [beta], 1, ['beta/*'], true),
        role('alpha', [alpha, beta], 2, ['alpha/*']),
        role('gamma', [attacker], 1, ['*']),
      ],
      [alpha, beta, attacker],
    );
    expect(kinds(base, next)).toEqual([
      'delegation-added',
      'delegation-order-changed',
      'delegation-terminating-changed',
    ]);
    expect(kinds(next, base)).toEqual([
      'delegation-order-changed',
      'delegation-removed',
      'delegation-terminating-changed',
    ]);
  });
  it('hash bins added or resized', () => {
    const bins = (bits: number): Delegations =>
      delegations([], [alpha], new SuccinctRoles([alpha.keyid], parseThreshold(1), bits, 'bins'));
    expect(kinds(undefined, bins(4))).toEqual(['bins-changed']);
    expect(kinds(bins(4), bins(8))).toEqual(['bins-changed']);
    expect(kinds(bins(4), bins(4))).toEqual([]);
  });
});

describe('the danger block lists each delegation change of a targets request', () => {
  it('shows every fact, escaped at render time, before any secret', () => {
    const online = makeKey('online');
    const root = signMd(new Metadata(makeRoot(1, [makeKey('r')], 1, online))) as Metadata<Root>;
    const t1 = targetsWith(1, {});
    t1.delegations = delegations([role('alpha', [alpha], 1, ['alpha/*'])], [alpha]);
    const t2 = targetsWith(2, {});
    t2.delegations = delegations([role('alpha', [alpha], 1, ['*'])], [alpha]);
    const req = createRequest({
      repository: 'demo',
      purpose: 'p',
      trustedRoot: root,
      base: { targets: 1 },
      roles: [{ metadata: new Metadata(t2), trusted: signMd(new Metadata(t1), online) }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });
    const dangers = dangerousChanges(diffRequest(req), root.signed, NOW, POLICY);
    expect(dangers.map((d) => d.kind)).toEqual(['delegations-changed']);
    expect(dangers[0]!.message).toContain('path patterns CHANGED');
    expect(dangers[0]!.message).toContain('alpha/* → paths *');
  });
});
