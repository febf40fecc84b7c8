/**
 * Rotation planning: `root rotate` (add/remove root keys, change the root
 * threshold, renew root) and `key rotate ROLE` (replace one key of a role).
 * Each prepares root N+1 (exactly +1) and whatever must be re-signed with it
 * (targets, when a targets key changes), signs with the keys that are here,
 * and either applies the result at once (every threshold met) or writes a
 * signing request that names exactly who must sign.
 */
import type { Period } from '../tuf/time';
import { checkThresholdReachable, type Threshold } from '../tuf/threshold';
import { TufsignError } from '../errors';
import type { Keyholder } from '../ceremony';
import { HISTORY_PARSE, Metadata, Root, TOP_LEVEL_ROLES, type TopLevelRole } from '../tuf/metadata';
import { applyOrRequest, type FinalizeReport } from './ceremony/finalize';
import type { KeyEntry, WorkspaceConfig } from './config';
import type { CeremonyContext } from './context';
import { expiryFor } from './expiry';
import { presentKeysConfig } from './key-availability';
import type { RoleKeySpec } from './key-specs';
import { currentState, keyholderOf, newRequest, type RequestWritten } from './requests';
import { signAvailable } from './signing';
import type { Workspace } from './workspace';
import type { PublicKeyFile } from '../keystore/public-key-file';
import { assertKeyPolicy } from '../keystore/yubikey/claims';
import { workspaceRootKeyPolicy } from './keys';

export interface RotationResult {
  /** set when every needed key was here: the change is in the workspace */
  applied?: FinalizeReport;
  /** set otherwise: the request to carry to the keyholders */
  request?: RequestWritten;
  rootVersion: number;
  changes: string[];
}

export interface RootRotateOptions {
  /** keys to add to root (already resolved from public key files or URIs) */
  add: RoleKeySpec[];
  /** keyids (or unique prefixes of 8+ hex characters) to remove from root */
  remove: string[];
  threshold?: Threshold;
  /** expiry period for root N+1 (default: the config's root expiry) */
  expires?: Period;
  out?: string;
  bundleOut?: string;
  allowShortExpiry?: boolean;
  /**
   * Keyid migration (ADR 0015): re-list every root key whose keyid is not
   * sha256(key as stored) under its correct keyid, in every role that uses it.
   * Root N+1 is signed under the old keyids (root N's threshold) and the new
   * ones; targets is re-signed under the new keyids when its keys moved.
   */
  fixKeyids?: boolean;
}

export interface KeyRotateOptions {
  role: TopLevelRole;
  /** keyid (or unique prefix) of the key to replace (with `with`) */
  replace?: string;
  with?: RoleKeySpec;
  /** keys to add to the role */
  add?: RoleKeySpec[];
  /** keyids (or unique prefixes of 8+ hex characters) to remove from the role */
  remove?: string[];
  /** the role's new threshold */
  threshold?: Threshold;
  expires?: Period;
  out?: string;
  bundleOut?: string;
  allowShortExpiry?: boolean;
}

/** Resolve a keyid or a unique prefix (8+ hex characters) among `keyids`. */
export function resolveKeyid(prefix: string, keyids: Iterable<string>, what: string): string {
  const p = prefix.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(p))
    throw new TufsignError('USAGE', `"${prefix}" is not a keyid (8 to 64 hex characters)`, {
      rule: 'keyids are hex; a unique prefix of 8+ characters will do',
    });
  const matches = [...keyids].filter((k) => k.startsWith(p));
  if (matches.length === 0)
    throw new TufsignError('KEY_NOT_FOUND', `no ${what} key with keyid ${prefix}`, {
      suggestion: 'List keys with `tufsign key list`.',
    });
  if (matches.length > 1)
    throw new TufsignError('USAGE', `keyid prefix ${prefix} matches ${matches.length} keys`, {
      suggestion: 'Give more characters of the keyid.',
    });
  return matches[0] as string;
}

function nextRoot(
  ws: Workspace,
  ctx: CeremonyContext,
  expires: Period | undefined,
): { previous: Metadata<Root>; next: Metadata<Root> } {
  const repo = currentState(ws);
  if (repo === undefined)
    throw new TufsignError('WORKSPACE_NOT_FOUND', 'the workspace has no published root yet', {
      suggestion: 'Finalize the init request first.',
    });
  const previous = repo.root;
  const signed = Root.fromJSON(previous.signed.toJSON(), '$.signed', HISTORY_PARSE);
  signed.version = previous.signed.version + 1;
  signed.expires = expiryFor(ws.config, 'root', ctx.now, expires);
  return { previous, next: new Metadata(signed) };
}

function addKey(root: Root, spec: RoleKeySpec, role: TopLevelRole): string {
  const keyid = spec.key.keyid();
  for (const [other, k] of root.keys) {
    if (other !== keyid && k.samePublicKey(spec.key)) {
      throw new TufsignError('DUPLICATE_KEY', `the key to add is already in root under keyid ${other.slice(0, 16)}…`, {
        rule: 'BAD-22 one public key, one keyid',
      });
    }
  }
  if (root.role(role).keyids.includes(keyid))
    throw new TufsignError('USAGE', `key ${keyid.slice(0, 16)}… is already a ${role} key`, {
      rule: 'add only new keys',
    });
  return root.addKey(spec.key, role);
}

function checkThreshold(root: Root): void {
  for (const r of TOP_LEVEL_ROLES) {
    const role = root.role(r);
    checkThresholdReachable(r, role.threshold, role.keyids.length, `Lower --threshold or add keys to ${r}.`);
  }
}

function specKeyholder(spec: RoleKeySpec): Keyholder {
  const kh = keyholderOf(specEntry(spec));
  // The organizer's own key files can sign here: keep their URI so signAvailable finds them.
  if (spec.ref !== undefined) kh.uri = spec.ref.uri;
  return kh;
}

function specEntry(spec: RoleKeySpec): KeyEntry {
  const entry: KeyEntry = {};
  if (spec.owner !== undefined) entry.owner = spec.owner;
  if (spec.ref !== undefined) entry.ref = spec.ref;
  if (spec.attestation !== undefined) entry.attestation = spec.attestation;
  return entry;
}

/** The config plus the URIs of keys being added, so keys that are here sign at once. */
function withNewKeys(config: WorkspaceConfig, specs: RoleKeySpec[]): Pick<WorkspaceConfig, 'keys'> {
  const keys = new Map(config.keys);
  for (const s of specs) {
    const id = s.key.keyid();
    if (s.ref !== undefined && keys.get(id)?.ref === undefined)
      keys.set(id, { ...(keys.get(id) ?? {}), ref: s.ref, ...(s.owner !== undefined ? { owner: s.owner } : {}) });
  }
  return { keys };
}

async function conclude(
  ws: Workspace,
  previous: Metadata<Root>,
  mds: Metadata[],
  specs: RoleKeySpec[],
  purpose: string,
  changes: string[],
  options: { out?: string; bundleOut?: string; allowShortExpiry?: boolean },
  ctx: CeremonyContext,
): Promise<RotationResult> {
  await signAvailable(previous, mds, presentKeysConfig(ws, withNewKeys(ws.config, specs)), ctx);
  const extra = new Map<string, Keyholder>(specs.map((s) => [s.key.keyid(), specKeyholder(s)]));
  const req = newRequest(ws, mds, { purpose, extraKeyholders: extra }, ctx);
  const o: { out?: string; bundleOut?: string; allowShortExpiry?: boolean; knownKeys?: ReadonlyMap<string, KeyEntry> } =
    {};
  // Applied at once, the new keys' entries (URI included) are the organizer's own, not read back from a file.
  o.knownKeys = new Map(specs.map((s) => [s.key.keyid(), specEntry(s)]));
  if (options.out !== undefined) o.out = options.out;
  if (options.bundleOut !== undefined) o.bundleOut = options.bundleOut;
  if (options.allowShortExpiry === true) o.allowShortExpiry = true;
  const result = await applyOrRequest(ws, req, o, ctx);
  const root = mds.find((m) => m.signed.type === 'root');
  return { ...result, rootVersion: root?.signed.version ?? previous.signed.version, changes };
}

export async function rotateRoot(
  ws: Workspace,
  options: RootRotateOptions,
  ctx: CeremonyContext,
): Promise<RotationResult> {
  enforceRootKeyPolicy(ws, options.add, ctx.now);
  const { previous, next } = nextRoot(ws, ctx, options.expires);
  const root = next.signed;
  const changes: string[] = [];
  const mds: Metadata[] = [next];
  const moved: RoleKeySpec[] = [];
  if (options.fixKeyids === true) {
    const fixed = fixKeyids(root, ws.config);
    if (
      fixed.length === 0 &&
      options.add.length === 0 &&
      options.remove.length === 0 &&
      options.threshold === undefined
    ) {
      throw new TufsignError(
        'USAGE',
        `every keyid in root v${previous.signed.version} already matches its key; nothing to fix`,
        { rule: 'SPEC-05 keyid = sha256(key as stored)' },
      );
    }
    for (const f of fixed) {
      changes.push(`keyid ${f.from} → ${f.to} (${f.roles.join(', ')})`);
      moved.push(f.spec);
    }
    const targets = targetsResignedForNewKeyids(ws, fixed, ctx, options.expires);
    if (targets !== undefined) {
      mds.push(targets.md);
      changes.push(targets.change);
    }
  }
  for (const spec of options.add)
    changes.push(`add root key ${addKey(root, spec, 'root')}${spec.owner !== undefined ? ` (${spec.owner})` : ''}`);
  for (const r of options.remove) {
    const keyid = resolveKeyid(r, root.role('root').keyids, 'root');
    root.revokeKey(keyid, 'root');
    changes.push(`remove root key ${keyid}`);
  }
  if (options.threshold !== undefined) {
    if (options.threshold !== root.role('root').threshold)
      changes.push(`root threshold ${root.role('root').threshold} → ${options.threshold}`);
    root.role('root').threshold = options.threshold;
  }
  checkThreshold(root);
  changes.push(
    `root v${previous.signed.version} → v${root.version}, expires ${next.signed.toJSON()['expires'] as string}`,
  );
  // The purpose line is read by people: short keyids there, full ones in `changes`.
  const purpose = `root rotation: ${changes.map((c) => c.replace(/\b([0-9a-f]{12})[0-9a-f]{52}\b/g, '$1…')).join('; ')}`;
  return conclude(ws, previous, mds, [...options.add, ...moved], purpose, changes, options, ctx);
}

interface FixedKeyid {
  from: string;
  to: string;
  roles: TopLevelRole[];
  /** the same key under its new keyid, with the old keyid's URI and owner so it signs here and keeps its holder */
  spec: RoleKeySpec;
}

/** Re-list each key whose keyid is wrong under sha256(key as stored), keeping its place in every role. */
function fixKeyids(root: Root, config: WorkspaceConfig): FixedKeyid[] {
  const out: FixedKeyid[] = [];
  for (const [from, key] of [...root.keys]) {
    const to = key.keyid();
    if (to === from) continue;
    if (root.keys.has(to))
      throw new TufsignError('DUPLICATE_KEY', `key ${from} would move to keyid ${to}, which root already lists`, {
        rule: 'BAD-22 one public key, one keyid',
      });
    root.keys.delete(from);
    root.keys.set(to, key);
    const roles: TopLevelRole[] = [];
    for (const r of TOP_LEVEL_ROLES) {
      const role = root.role(r);
      const i = role.keyids.indexOf(from);
      if (i >= 0) {
        role.keyids[i] = to;
        roles.push(r);
      }
    }
    const entry = config.keys.get(from);
    const spec: RoleKeySpec = { key };
    if (entry?.ref !== undefined) spec.ref = entry.ref;
    if (entry?.owner !== undefined) spec.owner = entry.owner;
    out.push({ from, to, roles, spec });
  }
  return out;
}

/** Targets signed under the old keyids would not verify under the new root: a new version goes into the same request. */
function targetsResignedForNewKeyids(
  ws: Workspace,
  fixed: FixedKeyid[],
  ctx: CeremonyContext,
  expires: Period | undefined,
): { md: Metadata; change: string } | undefined {
  if (!fixed.some((f) => f.roles.includes('targets'))) return undefined;
  const repo = currentState(ws);
  if (repo === undefined) return undefined;
  const t = Metadata.fromJSON(repo.targets.toJSON(), { expectedType: 'targets', ...HISTORY_PARSE });
  t.clearSignatures();
  t.signed.version += 1;
  t.signed.expires = expiryFor(ws.config, 'targets', ctx.now, expires);
  return {
    md: t,
    change: `targets v${repo.targets.signed.version} → v${t.signed.version} (signed under the new keyids)`,
  };
}

/** A workspace created with a root-key policy keeps enforcing it for every key added to root. */
function enforceRootKeyPolicy(ws: Workspace, added: readonly RoleKeySpec[], now: Date): void {
  const policy = workspaceRootKeyPolicy(ws.config);
  if (policy === undefined) return;
  for (const spec of added) {
    const file: PublicKeyFile = { key: spec.key, keyid: spec.key.keyid() };
    if (spec.ref !== undefined) file.uri = spec.ref.uri;
    if (spec.attestation !== undefined) file.attestation = spec.attestation;
    assertKeyPolicy(file, policy, now);
  }
}

/**
 * `key rotate ROLE` for a top-level role: replace, add or remove its keys and
 * change its threshold in root N+1. Root itself goes through `rotateRoot`
 * (its N+1 needs the old and the new root threshold). Targets is re-signed
 * with the new key set in the same request; snapshot and timestamp are
 * re-signed by the finalize with the new root's keys (a follow-up request when
 * the new threshold needs keys that are not here).
 */
export async function rotateKey(
  ws: Workspace,
  options: KeyRotateOptions,
  ctx: CeremonyContext,
): Promise<RotationResult> {
  const add = options.add ?? [];
  const remove = options.remove ?? [];
  if ((options.replace === undefined) !== (options.with === undefined))
    throw new TufsignError('USAGE', '--replace and --with go together', { rule: 'replace KEYID with KEY' });
  if (options.replace === undefined && add.length === 0 && remove.length === 0 && options.threshold === undefined)
    throw new TufsignError('USAGE', `nothing to change for ${options.role}`, {
      suggestion: 'Give --replace/--with, --add-key, --remove-key or --threshold.',
    });
  const role = options.role;
  if (role === 'root') {
    const r: RootRotateOptions = { add: [...add], remove: [...remove] };
    if (options.with !== undefined && options.replace !== undefined) {
      r.add.push(options.with);
      r.remove.push(options.replace);
    }
    if (options.threshold !== undefined) r.threshold = options.threshold;
    if (options.out !== undefined) r.out = options.out;
    if (options.bundleOut !== undefined) r.bundleOut = options.bundleOut;
    if (options.allowShortExpiry === true) r.allowShortExpiry = true;
    return rotateRoot(ws, r, ctx);
  }
  const { previous, next } = nextRoot(ws, ctx, undefined);
  const root = next.signed;
  const changes: string[] = [];
  const added: RoleKeySpec[] = [];
  const label = (spec: RoleKeySpec): string => (spec.owner !== undefined ? ` (${spec.owner})` : '');
  const threshold = root.role(role).threshold;
  if (options.replace !== undefined && options.with !== undefined) {
    const old = resolveKeyid(options.replace, root.role(role).keyids, role);
    root.revokeKey(old, role);
    changes.push(`${role}: replace key ${old} with ${addKey(root, options.with, role)}${label(options.with)}`);
    added.push(options.with);
  }
  for (const spec of add) {
    changes.push(`${role}: add key ${addKey(root, spec, role)}${label(spec)}`);
    added.push(spec);
  }
  for (const r of remove) {
    const keyid = resolveKeyid(r, root.role(role).keyids, role);
    root.revokeKey(keyid, role);
    changes.push(`${role}: remove key ${keyid}`);
  }
  root.role(role).threshold = threshold;
  if (options.threshold !== undefined) {
    if (options.threshold !== threshold) changes.push(`${role} threshold ${threshold} → ${options.threshold}`);
    root.role(role).threshold = options.threshold;
  }
  checkThreshold(root);
  if (changes.length === 0)
    throw new TufsignError('USAGE', `${role} already has threshold ${threshold}; nothing to change`, {
      suggestion: 'Give a different --threshold, or keys to add or remove.',
    });
  changes.push(`root v${previous.signed.version} → v${root.version}`);
  const mds: Metadata[] = [next];
  if (role === 'targets') {
    // targets must be signed by the new key set: a new version of it goes into the same request
    const repo = currentState(ws);
    if (repo !== undefined) {
      const t = Metadata.fromJSON(repo.targets.toJSON(), { expectedType: 'targets', ...HISTORY_PARSE });
      t.clearSignatures();
      t.signed.version += 1;
      t.signed.expires = expiryFor(ws.config, 'targets', ctx.now, options.expires);
      mds.push(t);
      changes.push(`targets v${repo.targets.signed.version} → v${t.signed.version} (re-signed with the new key set)`);
    }
  }
  // snapshot and timestamp are re-signed by finalize with the new root's keys
  const purpose = `key rotation: ${changes.map((c) => c.replace(/\b([0-9a-f]{12})[0-9a-f]{52}\b/g, '$1…')).join('; ')}`;
  return conclude(ws, previous, mds, added, purpose, changes, options, ctx);
}
