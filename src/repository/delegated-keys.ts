/**
 * `key rotate ROLE` for a delegated role or a set of hash bins: its keys and
 * threshold live in its parent's `delegations`, so the change is a new
 * version of the parent (signed at once when the parent's keys are here; for
 * an offline parent, top-level targets or delegated, a signing request the
 * ceremony finalizes). The role itself (every bin, for hash bins) is re-signed by the
 * new key set in the same step, so a removed key's signature never counts
 * again and a raised threshold is met the moment clients see it.
 */
import type { Period } from '../tuf/time';
import { checkThresholdReachable, type Threshold } from '../tuf/threshold';
import { TufsignError } from '../errors';
import type { Role } from '../tuf/metadata';
import { configFile, findBinsParent, registerKeys, withConfig } from './delegations';
import type { SigningContext } from './context';
import type { RoleKeySpec } from './key-specs';
import type { Deferral, OperationResult } from './outcome';
import { resolveKeyid } from './rotation';
import { publishTargetsChanges } from './targets-publish';
import { TargetsTree, type RoleNode } from './targets-tree';
import { Workspace } from './workspace';

export interface DelegatedKeyChange {
  /** a delegated role's name, or a hash-bin prefix (`bins` or `bins-*`) for all bins at once */
  role: string;
  replace?: string;
  with?: RoleKeySpec;
  add: RoleKeySpec[];
  remove: string[];
  threshold?: Threshold;
  /** expiry period for the re-signed roles */
  expires?: Period;
}

export interface DelegatedKeyResult {
  result: OperationResult;
  changes: string[];
}

interface Located {
  /** what the change is called in messages */
  label: string;
  parent: RoleNode;
  role: Role;
  /** the roles signed by `role`: re-signed with the new key set */
  signedBy: RoleNode[];
}

function locate(tree: TargetsTree, name: string): Located {
  const prefix = name.endsWith('-*') ? name.slice(0, -2) : name;
  const binsParent = findBinsParent(tree, prefix);
  const succinct = binsParent?.md.signed.delegations?.succinctRoles;
  if (binsParent !== undefined && succinct !== undefined) {
    const signedBy: RoleNode[] = [];
    for (let i = 0; i < succinct.numberOfBins; i++) {
      const bin = succinct.roleName(i);
      // a bin not yet in snapshot waits for a pending delegation request; it is signed with the new keys then
      if (tree.snapshot.meta.has(`${bin}.json`)) signedBy.push(tree.child(binsParent, bin));
    }
    return { label: `${prefix}-* (${succinct.numberOfBins} hash bins)`, parent: binsParent, role: succinct, signedBy };
  }
  const node = tree.find(name);
  if (node.parent === undefined)
    throw new TufsignError('INTERNAL', 'top-level targets is rotated in root, not in a delegation');
  if (node.parent.md.signed.delegations?.succinctRoles !== undefined) {
    const p = node.parent.md.signed.delegations.succinctRoles.namePrefix;
    throw new TufsignError('ROLE_INVALID', `${name} is one of the hash bins ${p}-*, which share one key set`, {
      rule: 'TAP 15 one keyids/threshold for all bins',
      suggestion: `Change the keys of every bin at once: tufsign key rotate ${p} …`,
    });
  }
  return { label: name, parent: node.parent, role: node.role, signedBy: [node] };
}

/** Apply the change to `delegations` and the role; the parent and the role's files are re-signed by the caller. */
export async function changeDelegatedKeys(
  ws: Workspace,
  options: DelegatedKeyChange,
  ctx: SigningContext,
  defer: Deferral = false,
): Promise<DelegatedKeyResult> {
  if ((options.replace === undefined) !== (options.with === undefined))
    throw new TufsignError('USAGE', '--replace and --with go together', { rule: 'replace KEYID with KEY' });
  const config = withConfig(ws);
  const work = new Workspace(ws.dir, config);
  const tree = new TargetsTree(work, work.load());
  const { label, parent, role, signedBy } = locate(tree, options.role);
  const delegations = parent.md.signed.delegations;
  if (delegations === undefined) throw new TufsignError('INTERNAL', `${parent.name} has no delegations`);
  const changes: string[] = [];
  const owner = (spec: RoleKeySpec): string => (spec.owner !== undefined ? ` (${spec.owner})` : '');
  const addKey = (spec: RoleKeySpec): string => {
    const keyid = spec.key.keyid();
    if (role.keyids.includes(keyid))
      throw new TufsignError('USAGE', `key ${keyid.slice(0, 16)}… is already a key of ${label}`, {
        rule: 'add only new keys',
      });
    registerKeys(delegations, config, [spec]);
    role.keyids = [...role.keyids, keyid];
    return keyid;
  };
  const dropKey = (prefix: string): string => {
    const keyid = resolveKeyid(prefix, role.keyids, label);
    role.keyids = role.keyids.filter((k) => k !== keyid);
    return keyid;
  };
  if (options.replace !== undefined && options.with !== undefined) {
    const old = dropKey(options.replace);
    changes.push(`${label}: replace key ${old} with ${addKey(options.with)}${owner(options.with)}`);
  }
  for (const spec of options.add) changes.push(`${label}: add key ${addKey(spec)}${owner(spec)}`);
  for (const r of options.remove) changes.push(`${label}: remove key ${dropKey(r)}`);
  if (options.threshold !== undefined) {
    if (options.threshold !== role.threshold)
      changes.push(`${label} threshold ${role.threshold} → ${options.threshold}`);
    role.threshold = options.threshold;
  }
  if (changes.length === 0)
    throw new TufsignError('USAGE', `nothing to change for ${label}`, {
      suggestion: 'Give --replace/--with, --add-key, --remove-key or a different --threshold.',
    });
  checkThresholdReachable(label, role.threshold, role.keyids.length);
  // A key no role of this delegation uses any more leaves delegations.keys.
  const used = new Set([
    ...(delegations.roles ?? []).flatMap((r) => r.keyids),
    ...(delegations.succinctRoles?.keyids ?? []),
  ]);
  for (const keyid of [...delegations.keys.keys()]) if (!used.has(keyid)) delegations.keys.delete(keyid);
  parent.changed = true;
  for (const node of signedBy) node.changed = true;
  changes.push(
    `${parent.name} v${parent.md.signed.version} → v${parent.md.signed.version + 1}; ${signedBy.length === 1 ? (signedBy[0] as RoleNode).name : `${signedBy.length} roles`} re-signed with the new key set`,
  );
  const result = await publishTargetsChanges(tree, ctx, {
    files: [configFile(ws, config)],
    deferTargets: defer,
    ...(options.expires !== undefined ? { expires: options.expires } : {}),
  });
  ws.config = config;
  return { result, changes };
}
