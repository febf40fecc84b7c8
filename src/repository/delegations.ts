/**
 * `delegate add | bins | remove | list`: a delegation is part of its parent
 * role, so every change here is a new version of the parent (signed at once
 * when its keys are here; for an offline parent — top-level targets or a
 * delegated role — a signing request the ceremony finalizes). A new delegated role starts empty, signed
 * by its own keys, and is listed in snapshot with the parent.
 */
import { TufsignError } from '../errors';
import { DelegatedRole, Delegations, SuccinctRoles } from '../tuf/metadata';
import { parseDelegatedRoleName, parseNewTargetPath, type RoleName, type RoleRef } from '../tuf/paths';
import { formatExpires, type Period } from '../tuf/time';
import { checkThresholdReachable, type Threshold } from '../tuf/threshold';
import type { Key } from '../tuf/key';
import { serializeConfig, type KeyEntry, type WorkspaceConfig } from './config';
import type { CeremonyContext, SigningContext } from './context';
import type { RoleKeySpec } from './key-specs';
import type { Deferral, OperationResult } from './outcome';
import type { PendingFile } from './transaction';
import { newRoleMetadata, publishTargetsChanges } from './targets-publish';
import { TargetsTree, type RoleNode } from './targets-tree';
import { Workspace } from './workspace';
import { assertRequestWritable, newRequest, writeRequest, type RequestWritten } from './requests';

/** TAP 15 allows bit_length 1..32; more than 65,536 bins cannot fit in a snapshot clients accept. */
export const MAX_BINS = 65_536;

export interface DelegationKeys {
  keys: RoleKeySpec[];
  /** parsed where it arrived (`--threshold` in src/cli); only the rule relative to the keys is checked here */
  threshold: Threshold;
}

export interface DelegateAddOptions extends DelegationKeys {
  /** parsed where it arrived (`parseDelegatedRoleName`, in src/cli for `delegate add ROLE`) */
  name: RoleName;
  paths: string[];
  terminating: boolean;
  /** parent role (default: targets) */
  from?: RoleRef;
  /** expiry period of the new role, remembered for later re-signs */
  expires?: Period;
}

export interface DelegateBinsOptions extends DelegationKeys {
  count: number;
  prefix: string;
  from?: RoleRef;
  expires?: Period;
}

/** A delegation pattern: the target-path rules, plus fnmatch wildcards (which never cross "/"). */
export function checkPathPattern(pattern: string): void {
  if (pattern === '')
    throw new TufsignError('PATH_UNSAFE', 'empty path pattern', { rule: 'SPEC-24 patterns are relative paths' });
  // Wildcards are checked as if they were ordinary characters: the same rules then hold for every path they match.
  const literal = pattern.replace(/[*?[\]!]/g, 'x');
  try {
    parseNewTargetPath(literal, 'path pattern');
  } catch (e) {
    if (e instanceof TufsignError)
      throw new TufsignError(
        e.code,
        `path pattern ${JSON.stringify(pattern)}: ${e.message.replace(/^path pattern "[^"]*": /, '')}`,
        { path: pattern, rule: e.rule },
      );
    throw e;
  }
}

/** Keys first (a delegated role needs one), then the rule that depends on them, in its one home. */
function checkDelegationKeys(name: string, spec: DelegationKeys): void {
  const distinct = new Set(spec.keys.map((k) => k.key.keyid()));
  if (distinct.size === 0)
    throw new TufsignError('USAGE', `${name} needs at least one --key`, { rule: 'a delegated role has keys' });
  checkThresholdReachable(name, spec.threshold, distinct.size);
}

/** Put the keys into the parent's delegations.keys and their locations into tufsign.json. */
export function registerKeys(delegations: Delegations, config: WorkspaceConfig, specs: RoleKeySpec[]): string[] {
  const keyids: string[] = [];
  for (const spec of specs) {
    const keyid = spec.key.keyid();
    for (const [other, k] of delegations.keys) {
      if (other !== keyid && k.samePublicKey(spec.key)) {
        throw new TufsignError(
          'DUPLICATE_KEY',
          `the key is already in this delegation under keyid ${other.slice(0, 16)}…`,
          { rule: 'BAD-22 one public key, one keyid' },
        );
      }
    }
    delegations.keys.set(keyid, spec.key);
    if (!keyids.includes(keyid)) keyids.push(keyid);
    const entry: KeyEntry = { ...(config.keys.get(keyid) ?? {}) };
    if (spec.ref !== undefined) entry.ref = spec.ref;
    if (spec.owner !== undefined) entry.owner = spec.owner;
    config.keys.set(keyid, entry);
  }
  return keyids;
}

function parentFor(tree: TargetsTree, from: string | undefined): RoleNode {
  const parent = tree.find(from ?? 'targets');
  if (parent.md.signed.delegations?.succinctRoles !== undefined) {
    throw new TufsignError(
      'ROLE_INVALID',
      `${parent.name} delegates to hash bins; a role with succinct_roles has no other delegations`,
      {
        rule: 'TAP 15 roles xor succinct_roles',
        suggestion: 'Delegate from another role with --from, or remove the bins first.',
      },
    );
  }
  return parent;
}

/** A role name already used by a role this repository publishes (or once published: snapshot never forgets). */
function assertNameFree(tree: TargetsTree, name: string): void {
  let taken = false;
  try {
    tree.find(name);
    taken = true;
  } catch (e) {
    if (!(e instanceof TufsignError && e.code === 'ROLE_INVALID')) throw e;
  }
  if (taken)
    throw new TufsignError('ROLE_INVALID', `a role named ${name} is already delegated`, {
      suggestion: 'Choose another name, or `tufsign delegate remove` it first.',
    });
}

/** The first version of a (re)created role: after whatever snapshot last listed under that name (SPEC-30). */
function firstVersion(tree: TargetsTree, name: string): number {
  return (tree.snapshot.meta.get(`${name}.json`)?.version ?? 0) + 1;
}

export function configFile(ws: Workspace, config: WorkspaceConfig): PendingFile {
  return { path: Workspace.configPath(ws.dir), data: serializeConfig(config) };
}

export function withConfig(ws: Workspace): WorkspaceConfig {
  return { ...ws.config, keys: new Map(ws.config.keys), delegatedExpiry: new Map(ws.config.delegatedExpiry ?? []) };
}

/** A delegation change's working copy: the config it will write, the targets tree over it, the delegating role. */
function openDelegationChange(
  ws: Workspace,
  from: string | undefined,
): { config: WorkspaceConfig; tree: TargetsTree; parent: RoleNode } {
  const config = withConfig(ws);
  const work = new Workspace(ws.dir, config);
  const tree = new TargetsTree(work, work.load());
  return { config, tree, parent: parentFor(tree, from) };
}

/** A new delegated role's first metadata (version after any the snapshot lists), adopted into the tree. */
function adoptNewRole(
  tree: TargetsTree,
  config: WorkspaceConfig,
  now: Date,
  node: { name: string; role: DelegatedRole | SuccinctRoles; keys: Map<string, Key>; parent: RoleNode },
  expires: Period | undefined,
): void {
  const md = newRoleMetadata(config, node.name, now, expires);
  md.signed.version = firstVersion(tree, node.name);
  tree.adopt({ ...node, md, changed: true, created: true });
}

/** Sign and write the change with the new tufsign.json, then make that config the workspace's. */
async function publishDelegationChange(
  ws: Workspace,
  tree: TargetsTree,
  config: WorkspaceConfig,
  ctx: SigningContext,
  defer: Deferral,
): Promise<OperationResult> {
  const result = await publishTargetsChanges(tree, ctx, { files: [configFile(ws, config)], deferTargets: defer });
  ws.config = config;
  return result;
}

export async function addDelegation(
  ws: Workspace,
  options: DelegateAddOptions,
  ctx: SigningContext,
  defer: Deferral = false,
): Promise<OperationResult> {
  checkDelegationKeys(options.name, options);
  if (options.paths.length === 0)
    throw new TufsignError('USAGE', `${options.name} needs at least one --paths pattern`, {
      rule: 'SPEC-23 a delegated role has paths',
    });
  for (const p of options.paths) checkPathPattern(p);
  const { config, tree, parent } = openDelegationChange(ws, options.from);
  assertNameFree(tree, options.name);
  const delegations = parent.md.signed.delegations ?? new Delegations(new Map(), []);
  const keyids = registerKeys(delegations, config, options.keys);
  const role = new DelegatedRole(options.name, keyids, options.threshold, options.terminating, [...options.paths]);
  (delegations.roles as DelegatedRole[]).push(role);
  parent.md.signed.delegations = delegations;
  parent.changed = true;
  if (options.expires !== undefined) config.delegatedExpiry?.set(options.name, options.expires);
  adoptNewRole(tree, config, ctx.now, { name: options.name, role, keys: delegations.keys, parent }, options.expires);
  return publishDelegationChange(ws, tree, config, ctx, defer);
}

export async function addBins(
  ws: Workspace,
  options: DelegateBinsOptions,
  ctx: SigningContext,
  defer: Deferral = false,
): Promise<OperationResult> {
  const { count, prefix } = options;
  if (!Number.isSafeInteger(count) || count < 2 || count > MAX_BINS || (count & (count - 1)) !== 0) {
    throw new TufsignError('USAGE', `--count ${count} is not a power of two between 2 and ${MAX_BINS}`, {
      rule: 'TAP 15 2^bit_length bins',
    });
  }
  checkDelegationKeys(`${prefix} bins`, options);
  const { config, tree, parent } = openDelegationChange(ws, options.from);
  if ((parent.md.signed.delegations?.roles ?? []).length > 0) {
    throw new TufsignError(
      'ROLE_INVALID',
      `${parent.name} already delegates to named roles; hash bins replace all of a role's delegations`,
      {
        rule: 'TAP 15 roles xor succinct_roles',
        suggestion: 'Delegate the bins from a role of their own (delegate add … then delegate bins --from it).',
      },
    );
  }
  const bitLength = Math.log2(count);
  const keys = parent.md.signed.delegations?.keys ?? new Map<string, Key>();
  const delegations = new Delegations(keys, undefined, undefined);
  const keyids = registerKeys(delegations, config, options.keys);
  const succinct = new SuccinctRoles(keyids, options.threshold, bitLength, prefix);
  // Every bin name must be a portable role name that no other role uses.
  parseDelegatedRoleName(succinct.roleName(0));
  parseDelegatedRoleName(succinct.roleName(count - 1));
  for (const n of tree.loaded()) if (succinct.isDelegatedRole(n.name)) assertNameFree(tree, n.name);
  parent.md.signed.delegations = new Delegations(keys, undefined, succinct);
  parent.changed = true;
  if (options.expires !== undefined) config.delegatedExpiry?.set(`${prefix}-*`, options.expires);
  for (let bin = 0; bin < count; bin++)
    adoptNewRole(
      tree,
      config,
      ctx.now,
      { name: succinct.roleName(bin), role: succinct, keys, parent },
      options.expires,
    );
  ctx.progress?.(`signing ${count} bins ${succinct.roleName(0)} … ${succinct.roleName(count - 1)}`);
  return publishDelegationChange(ws, tree, config, ctx, defer);
}

/** Remove a named delegation, or hash bins by their prefix. The role files stay; snapshot keeps listing them (SPEC-30). */
export async function removeDelegation(
  ws: Workspace,
  name: string,
  ctx: SigningContext,
  defer: Deferral = false,
): Promise<OperationResult> {
  const tree = new TargetsTree(ws, ws.load());
  let parent: RoleNode | undefined;
  const binsParent = findBinsParent(tree, name);
  if (binsParent !== undefined) {
    parent = binsParent;
    parent.md.signed.delegations = undefined;
  } else {
    const node = tree.find(name);
    parent = node.parent;
    const d = parent?.md.signed.delegations;
    if (parent === undefined || d?.roles === undefined) {
      throw new TufsignError('ROLE_INVALID', `${name} is a hash bin; remove the bins by their prefix`, {
        suggestion: 'tufsign delegate list shows the prefix.',
      });
    }
    const roles = d.roles.filter((r) => r.name !== name);
    const used = new Set(roles.flatMap((r) => r.keyids));
    const keys = new Map([...d.keys].filter(([k]) => used.has(k)));
    parent.md.signed.delegations =
      roles.length === 0 ? undefined : new Delegations(keys, roles, undefined, d.unrecognizedFields);
    tree.forget(name);
  }
  parent.changed = true;
  return publishTargetsChanges(tree, ctx, { deferTargets: defer });
}

export function findBinsParent(tree: TargetsTree, prefix: string): RoleNode | undefined {
  const queue: RoleNode[] = [tree.top];
  while (queue.length > 0) {
    const node = queue.shift() as RoleNode;
    const d = node.md.signed.delegations;
    if (d?.succinctRoles?.namePrefix === prefix) return node;
    for (const r of d?.roles ?? []) if (tree.snapshot.meta.has(`${r.name}.json`)) queue.push(tree.child(node, r.name));
  }
  return undefined;
}

// ------------------------------------------------------------------ list

export interface DelegationEntry {
  name: string;
  parent: string | null;
  depth: number;
  kind: 'targets' | 'paths' | 'bins';
  keyids: string[];
  threshold: number;
  terminating?: boolean;
  paths?: string[];
  /** hash bins: how many, bit_length, first and last role names */
  bins?: { count: number; bitLength: number; prefix: string; first: string; last: string };
  version?: number;
  expires?: string;
  targets?: number;
}

export function listDelegations(ws: Workspace): DelegationEntry[] {
  const tree = new TargetsTree(ws, ws.load());
  const out: DelegationEntry[] = [];
  const visit = (node: RoleNode, depth: number, seen: Set<string>): void => {
    const d = node.md.signed.delegations;
    if (d === undefined) return;
    for (const r of d.roles ?? []) {
      const e: DelegationEntry = {
        name: r.name,
        parent: node.name,
        depth,
        kind: 'paths',
        keyids: [...r.keyids],
        threshold: r.threshold,
        terminating: r.terminating,
        paths: [...(r.paths ?? [])],
      };
      out.push(e);
      if (!tree.snapshot.meta.has(`${r.name}.json`) || seen.has(r.name)) continue;
      const child = tree.child(node, r.name);
      e.version = child.md.signed.version;
      e.expires = formatExpires(child.md.signed.expires);
      e.targets = child.md.signed.targets.size;
      visit(child, depth + 1, new Set([...seen, r.name]));
    }
    const s = d.succinctRoles;
    if (s !== undefined) {
      out.push({
        name: `${s.namePrefix}-*`,
        parent: node.name,
        depth,
        kind: 'bins',
        keyids: [...s.keyids],
        threshold: s.threshold,
        bins: {
          count: s.numberOfBins,
          bitLength: s.bitLength,
          prefix: s.namePrefix,
          first: s.roleName(0),
          last: s.roleName(s.numberOfBins - 1),
        },
      });
    }
  };
  const top = tree.top;
  out.push({
    name: 'targets',
    parent: null,
    depth: 0,
    kind: 'targets',
    keyids: [...top.role.keyids],
    threshold: top.role.threshold,
    version: top.md.signed.version,
    expires: formatExpires(top.md.signed.expires),
    targets: top.md.signed.targets.size,
  });
  visit(top, 1, new Set(['targets']));
  return out;
}

// ------------------------------------------------------------------ offline parent

export interface DelegationOutcome {
  result: OperationResult;
  /** set when the parent's keys are not here: the request that carries the new parent version */
  request?: RequestWritten;
}

/**
 * Run a delegation change; when the parent (top-level targets, or a delegated
 * role with its delegating chain) cannot be signed here, turn its new version
 * into a signing request (the new or re-signed roles below it are already
 * written, and `ceremony finalize` lists them in snapshot).
 */
export async function delegationChangeOrRequest(
  ws: Workspace,
  change: (defer: Deferral) => Promise<OperationResult>,
  purpose: string | (() => string),
  out: string | undefined,
  ctx: CeremonyContext,
): Promise<DelegationOutcome> {
  const result = await change((pending, pendingDelegated) => assertRequestWritable(ws, out, pending, pendingDelegated));
  const delegated = result.pendingDelegated ?? [];
  if ((result.pending === undefined || result.pending.length === 0) && delegated.length === 0) return { result };
  const text = typeof purpose === 'string' ? purpose : purpose();
  const req = newRequest(Workspace.open(ws.dir), result.pending ?? [], { purpose: text, delegated }, ctx);
  const { pending: _pending, pendingDelegated: _delegated, ...rest } = result;
  return { result: rest, request: writeRequest(ws, req, out, ctx) };
}
