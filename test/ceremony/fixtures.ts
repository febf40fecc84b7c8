/** In-memory keys and metadata for ceremony unit tests: fixed clock, no files. */
import { createPublicKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { keyFromPublicKeyObject, type Key } from '../../src/tuf/key';
import {
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
  for (const r of TOP_LEVEL_ROLES) root.roles.set(r, new Role([], r === 'root' ? threshold : 1));
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
