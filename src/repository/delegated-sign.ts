/**
 * `sign ROLE` and `refresh` for delegated roles. A delegated role is listed
 * in snapshot by version, so re-signing it is always a new version with a
 * fresh expiry (then snapshot and timestamp), signed by the keys its parent
 * names. `refresh` re-signs, besides snapshot and timestamp, every delegated
 * role inside its signing window whose keys are online here — the hash bins
 * of a PEP 458 layout expire like any other role.
 */
import type { Period } from '../tuf/time';
import { TufsignError } from '../errors';
import { findBinsParent } from './delegations';
import { presentKeysConfig } from './key-availability';
import type { SigningContext } from './context';
import type { Deferral, OperationResult } from './outcome';
import { refresh } from './refresh';
import { delegatedSigningWindow } from './status';
import { publishTargetsChanges } from './targets-publish';
import { TargetsTree, type RoleNode } from './targets-tree';
import type { Workspace } from './workspace';

/** The roles `name` designates: one delegated role or bin, or every bin of a prefix (`bins`, `bins-*`). */
function rolesNamed(tree: TargetsTree, name: string): RoleNode[] {
  const prefix = name.endsWith('-*') ? name.slice(0, -2) : name;
  const parent = findBinsParent(tree, prefix);
  const s = parent?.md.signed.delegations?.succinctRoles;
  if (parent !== undefined && s !== undefined) {
    const out: RoleNode[] = [];
    for (let i = 0; i < s.numberOfBins; i++)
      if (tree.snapshot.meta.has(`${s.roleName(i)}.json`)) out.push(tree.child(parent, s.roleName(i)));
    return out;
  }
  const node = tree.find(name);
  if (node.parent === undefined) throw new TufsignError('INTERNAL', 'top-level targets is signed by `sign targets`');
  return [node];
}

/**
 * A new version of the named delegated role(s). With `defer`, a role whose keys are not here (absent, or offline
 * without their own secret) is returned as `pendingDelegated` for a signing request instead of failing.
 */
export async function signDelegated(
  ws: Workspace,
  name: string,
  options: { expires?: Period },
  ctx: SigningContext,
  defer: Deferral = false,
): Promise<OperationResult> {
  const tree = new TargetsTree(ws, ws.load());
  const nodes = rolesNamed(tree, name);
  for (const n of nodes) n.changed = true;
  if (nodes.length > 64) ctx.progress?.(`re-signing ${nodes.length} roles`);
  return publishTargetsChanges(tree, ctx, {
    ...(options.expires !== undefined ? { expires: options.expires } : {}),
    deferTargets: defer,
  });
}

/** Whether the keys configured here (not offline, present on this machine) can meet the role's threshold. */
function signableUnattended(node: RoleNode, keys: ReturnType<typeof presentKeysConfig>): boolean {
  const usable = node.role.keyids.filter((k) => {
    const e = keys.keys.get(k);
    return e?.ref !== undefined && e.offline !== true;
  });
  return usable.length >= node.role.threshold;
}

export interface RefreshResult extends OperationResult {
  /** delegated roles inside their signing window that need keys which are not here (left alone) */
  dueElsewhere?: string[];
}

/**
 * Snapshot and timestamp, plus every delegated role that is due and can be
 * signed here; due roles whose keys are elsewhere are reported, not opened.
 */
export async function refreshAll(ws: Workspace, ctx: SigningContext): Promise<RefreshResult> {
  const tree = new TargetsTree(ws, ws.load());
  const now = ctx.now.getTime();
  const keys = presentKeysConfig(ws);
  const dueElsewhere: string[] = [];
  for (const node of tree.all().slice(1)) {
    const window = delegatedSigningWindow(ws.config, node.name).seconds * 1000;
    if (node.md.signed.expires.getTime() - window > now) continue;
    if (signableUnattended(node, keys)) node.changed = true;
    else dueElsewhere.push(node.name);
  }
  const changed = tree.changedNodes();
  const result: RefreshResult =
    changed.length === 0 ? await refresh(ws, ctx) : await publishTargetsChanges(tree, ctx, {});
  if (dueElsewhere.length > 0) result.dueElsewhere = dueElsewhere;
  return result;
}
