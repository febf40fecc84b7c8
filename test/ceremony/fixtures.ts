/** In-memory keys and metadata for ceremony unit tests: fixed clock, no files. */
import { createPublicKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { keyFromPublicKeyObject, type Key } from '../../src/tuf/key';
import {
  DelegatedRole,
  Delegations,
  Metadata,
  Role,
  Root,
  Signature,
  Targets,
  TargetFile,
  TOP_LEVEL_ROLES,
  type TopLevelRole,
} from '../../src/tuf/metadata';
import { createRequest, type Keyholder, type SigningRequest } from '../../src/ceremony';
import { parseThreshold } from '../../src/tuf/threshold';

export const NOW = new Date('2030-01-01T00:00:00Z');
export const TOOL = 'tufsign test';
export const DAY = 86400;

export interface TestKey {
  name: string;
  priv: KeyObject;
  key: Key;
  keyid: string;
}

export function makeKey(name: string): TestKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const key = keyFromPublicKeyObject(createPublicKey(privateKey), 'ed25519');
  return { name, priv: privateKey, key, keyid: key.keyid() };
}

export function sigOver(k: TestKey, data: Uint8Array): Uint8Array {
  return cryptoSign(null, data, k.priv);
}

export function days(n: number, from = NOW): Date {
  return new Date(from.getTime() + n * DAY * 1000);
}

/** A root whose root role has `rootKeys`/`threshold`; the other roles use `online`. */
export function makeRoot(
  version: number,
  rootKeys: TestKey[],
  threshold: number,
  online: TestKey,
  expires = days(365),
): Root {
  const root = new Root(version, expires, new Map(), new Map(), true);
  for (const r of TOP_LEVEL_ROLES) root.roles.set(r, new Role([], parseThreshold(r === 'root' ? threshold : 1)));
  for (const k of rootKeys) root.addKey(k.key, 'root');
  for (const r of ['targets', 'snapshot', 'timestamp'] as TopLevelRole[]) root.addKey(online.key, r);
  return root;
}

export function signMd(md: Metadata, ...keys: TestKey[]): Metadata {
  const data = md.signedBytes();
  for (const k of keys) md.addSignature(new Signature(k.keyid, Buffer.from(sigOver(k, data)).toString('hex')));
  return md;
}

export function keyholders(keys: TestKey[]): Map<string, Keyholder> {
  return new Map(keys.map((k, i) => [k.keyid, { owner: k.name, serial: String(1000 + i) }]));
}

export interface Scenario {
  old: TestKey[];
  fresh: TestKey[];
  online: TestKey;
  trusted: Metadata<Root>;
  next: Metadata<Root>;
  request: SigningRequest;
}

/**
 * Rotation: trusted root v1 with `oldKeys` (threshold `oldT`), new root v2
 * with `newKeys` (threshold `newT`). Nothing signed yet.
 */
export function rotation(
  oldCount = 2,
  oldT = 1,
  keepOld = 1,
  addNew = 2,
  newT = 2,
  options: { expires?: Date; version?: number } = {},
): Scenario {
  const old = Array.from({ length: oldCount }, (_, i) => makeKey(`old-${i}`));
  const fresh = Array.from({ length: addNew }, (_, i) => makeKey(`new-${i}`));
  const online = makeKey('online');
  const trusted = signMd(new Metadata(makeRoot(1, old, oldT, online)), ...old) as Metadata<Root>;
  const next = new Metadata(
    makeRoot(options.version ?? 2, [...old.slice(0, keepOld), ...fresh], newT, online, options.expires ?? days(365)),
  );
  const request = createRequest({
    repository: 'demo',
    purpose: 'rotate root keys',
    trustedRoot: trusted,
    base: { root: 1, targets: 1, snapshot: 1, timestamp: 1 },
    roles: [{ metadata: next }],
    keyholders: keyholders([...old, ...fresh]),
    now: NOW,
    tool: TOOL,
  });
  return { old, fresh, online, trusted, next, request };
}

export function targetsWith(version: number, files: Record<string, string>, expires = days(90)): Targets {
  const t = new Targets(version, expires);
  for (const [p, content] of Object.entries(files)) t.targets.set(p, TargetFile.fromData(Buffer.from(content)));
  return t;
}

/** Clone metadata through JSON (a fresh object to forge). */
export function copyMd<M extends Metadata>(md: M): M {
  return Metadata.fromJSON(md.toJSON(), { expectedType: md.signed.type }) as M;
}

/** `parent` delegates `name` (paths `paths`) to `keys` with `threshold`. */
export function delegate(parent: Targets, name: string, keys: TestKey[], threshold: number, paths: string[]): void {
  const d = parent.delegations ?? new Delegations(new Map(), []);
  for (const k of keys) d.keys.set(k.keyid, k.key);
  (d.roles as DelegatedRole[]).push(
    new DelegatedRole(
      name,
      keys.map((k) => k.keyid),
      parseThreshold(threshold),
      false,
      paths,
    ),
  );
  parent.delegations = d;
}

export interface DelegatedScenario {
  rootKey: TestKey;
  online: TestKey;
  /** the keys of delegated role a (threshold 2 of 3) */
  aKeys: TestKey[];
  bKey: TestKey;
  root: Metadata<Root>;
  /** published targets v1: delegates a/* to a */
  targets: Metadata<Targets>;
  /** published a v1: delegates a/b/* to b */
  a: Metadata<Targets>;
  /** published b v1 and its next version v2 (one target added) */
  b: Metadata<Targets>;
  bNext: Metadata<Targets>;
  /** the request for b v2: a two-level delegation targets → a → b */
  request: SigningRequest;
}

/** A two-level delegation (targets → a → b) and a request for b's next version, anchored through targets and a. */
export function delegatedScenario(): DelegatedScenario {
  const rootKey = makeKey('root');
  const online = makeKey('online');
  const aKeys = [makeKey('a-1'), makeKey('a-2'), makeKey('a-3')];
  const bKey = makeKey('b-1');
  const root = signMd(new Metadata(makeRoot(1, [rootKey], 1, online)), rootKey) as Metadata<Root>;
  const t = targetsWith(1, {});
  delegate(t, 'a', aKeys, 2, ['a/*', 'a/*/*']);
  const targets = signMd(new Metadata(t), online) as Metadata<Targets>;
  const aSigned = targetsWith(1, {});
  delegate(aSigned, 'b', [bKey], 1, ['a/b/*']);
  const a = signMd(new Metadata(aSigned), aKeys[0] as TestKey, aKeys[1] as TestKey) as Metadata<Targets>;
  const b = signMd(new Metadata(targetsWith(1, { 'a/b/one.txt': 'one' })), bKey) as Metadata<Targets>;
  const bNext = new Metadata(targetsWith(2, { 'a/b/one.txt': 'one', 'a/b/two.txt': 'two' }));
  const request = createRequest({
    repository: 'demo',
    purpose: 'add a/b/two.txt',
    trustedRoot: root,
    base: { root: 1, targets: 1, snapshot: 1, timestamp: 1 },
    roles: [{ metadata: bNext, trusted: b, name: 'b', delegatedBy: 'a' }],
    delegators: [
      { role: 'targets', metadata: targets },
      { role: 'a', delegatedBy: 'targets', metadata: a },
    ],
    keyholders: keyholders([bKey]),
    now: NOW,
    tool: TOOL,
  });
  return { rootKey, online, aKeys, bKey, root, targets, a, b, bNext, request };
}
