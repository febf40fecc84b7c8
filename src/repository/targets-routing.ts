/**
 * `targets add | remove | list` over every targets role. Without `--role` a
 * target goes where a client looks for it first (the spec's search order; with
 * hash bins, the bin of its path's hash); with `--role` the role must be one a
 * client reaches for that path, through delegations whose patterns cover it.
 * Only the roles that change are re-signed, with snapshot and timestamp.
 */
import type { Period } from '../tuf/time';
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { TargetFile } from '../tuf/metadata';
import { checkNoCollisions, type RoleRef } from '../tuf/paths';
import { readFileBounded } from '../io/fs';
import type { SigningContext } from './context';
import type { Deferral, OperationResult } from './outcome';
import type { ParsedTargetInput } from './targets';
import type { PendingFile } from './transaction';
import { presentKeysConfig } from './key-availability';
import { plannedKeys } from './signing';
import { publishTargetsChanges } from './targets-publish';
import { TargetsTree, type RoleNode } from './targets-tree';
import { targetFileNames, type Workspace } from './workspace';

export interface RoutingOptions {
  /** the role to sign the targets into (default: where a client finds the path) */
  role?: RoleRef;
  expires?: Period;
  maxTargetBytes?: number;
  deferTargets?: Deferral;
}

/** The role `path` belongs in: `role` when given (checked), else the client's destination. */
export function routeTarget(tree: TargetsTree, path: string, role: string | undefined): RoleNode {
  const search = tree.search(path);
  if (role === undefined) {
    const node = search.found ?? search.destination;
    if (node === undefined) {
      throw new TufsignError(
        'PATH_NOT_DELEGATED',
        `no role can take ${JSON.stringify(path)}: the client search visits ${search.visited.length} roles and stops`,
        {
          path,
          rule: 'spec §5.6.7 at most 32 delegations are visited',
          suggestion: 'Simplify the delegation tree (tufsign delegate list).',
        },
      );
    }
    return node;
  }
  const node = tree.find(role);
  if (!tree.covers(node, path)) {
    throw new TufsignError(
      'PATH_NOT_DELEGATED',
      `${JSON.stringify(path)} is outside the paths delegated to ${role} (${tree.chain(node).join(' → ')})`,
      {
        path,
        rule: 'SPEC-24 a role is trusted only for the paths its delegation covers',
        suggestion:
          'Omit --role to sign the target into the role a client looks in, or change the delegation patterns.',
      },
    );
  }
  if (search.found !== undefined && search.found !== node) {
    throw new TufsignError(
      'PATH_NOT_DELEGATED',
      `${JSON.stringify(path)} is already listed in ${search.found.name}, which a client reaches first`,
      {
        path,
        rule: 'one role per target path',
        suggestion: `Remove it there first: tufsign targets remove ${path} --role ${search.found.name}`,
      },
    );
  }
  if (search.found === undefined && !search.visited.includes(node.name)) {
    throw new TufsignError(
      'PATH_NOT_DELEGATED',
      `a client looking for ${JSON.stringify(path)} never reaches ${role} (it visits ${search.visited.join(', ')}; a terminating delegation stops the search earlier)`,
      {
        path,
        rule: 'spec §5.6.7 pre-order search with terminating delegations',
        suggestion: 'Omit --role, or reorder the delegations.',
      },
    );
  }
  return node;
}

export async function addTargetsRouted(
  ws: Workspace,
  inputs: ParsedTargetInput[],
  ctx: SigningContext,
  options: RoutingOptions = {},
): Promise<OperationResult> {
  if (inputs.length === 0) throw new TufsignError('USAGE', 'no target files given', { rule: 'targets add FILE...' });
  const seen = new Set<string>();
  for (const input of inputs) {
    if (seen.has(input.path))
      throw new TufsignError('PATH_COLLISION', `the target path ${JSON.stringify(input.path)} is given twice`, {
        path: input.path,
        rule: 'BAD-04 unique target paths',
      });
    seen.add(input.path);
  }
  // Snapshot and timestamp keys are known from root alone: their files can be decrypted while the rest is read.
  const root = ws.loadRoot();
  const signing = presentKeysConfig(ws);
  ctx.warm?.(
    (['snapshot', 'timestamp'] as const).flatMap((r) =>
      plannedKeys(new Set(), root.signed.role(r), root.signed.keys, signing, r),
    ),
  );
  const tree = new TargetsTree(ws, ws.load(root));
  const files: PendingFile[] = [];
  const touched = new Map<RoleNode, string[]>();
  let n = 0;
  for (const input of inputs) {
    const node = routeTarget(tree, input.path, options.role);
    // One read per file: the hashes and the stored copy come from the same bytes (BAD-46).
    const data = readFileBounded(input.file, options.maxTargetBytes ?? 4 * 1024 * 1024 * 1024);
    const tf = TargetFile.fromData(data, input.custom);
    node.md.signed.targets.set(input.path, tf);
    node.changed = true;
    const list = touched.get(node);
    if (list === undefined) touched.set(node, [input.path]);
    else list.push(input.path);
    for (const name of targetFileNames(input.path, tf.hashes, tree.consistent))
      files.push({ path: join(ws.targetsDir, name), data });
    n += 1;
    if (inputs.length <= 20)
      ctx.progress?.(
        `target ${input.path} → ${node.name}: ${data.length} bytes, sha256 ${tf.hashes.get('sha256') ?? ''}`,
      );
    else if (ctx.report !== undefined) ctx.report({ stage: 'targets', done: n, total: inputs.length });
    else if (n % 5000 === 0 || n === inputs.length) ctx.progress?.(`  ${n}/${inputs.length} targets hashed`);
  }
  // Names that would merge on a case-insensitive filesystem are refused within each role (BAD-44).
  for (const node of touched.keys()) checkNoCollisions(node.md.signed.targets.keys());
  ctx.warm?.([...touched.keys()].flatMap((n) => plannedKeys(new Set(), n.role, n.keys, signing, n.name)));
  return publishTargetsChanges(tree, ctx, {
    files,
    ...(options.expires !== undefined ? { expires: options.expires } : {}),
    ...(options.deferTargets !== undefined ? { deferTargets: options.deferTargets } : {}),
  });
}

export async function removeTargetsRouted(
  ws: Workspace,
  paths: string[],
  ctx: SigningContext,
  options: { role?: RoleRef; deferTargets?: Deferral } = {},
): Promise<OperationResult> {
  const tree = new TargetsTree(ws, ws.load());
  for (const path of paths) {
    const node = options.role !== undefined ? tree.find(options.role) : tree.search(path).found;
    if (node === undefined || !node.md.signed.targets.has(path)) {
      throw new TufsignError(
        'TARGET_NOT_FOUND',
        `no target ${JSON.stringify(path)} in ${options.role ?? 'any role a client searches'}`,
        { path, rule: 'remove only listed targets' },
      );
    }
    node.md.signed.targets.delete(path);
    node.changed = true;
  }
  // Target files stay on disk: clients holding the previous snapshot may still fetch them.
  return publishTargetsChanges(
    tree,
    ctx,
    options.deferTargets !== undefined ? { deferTargets: options.deferTargets } : {},
  );
}

export interface ListedTarget {
  path: string;
  role: string;
  length: number;
  sha256: string | null;
}

/** Targets of one role, or of every role (all bins are read). */
export function listTargets(ws: Workspace, role?: RoleRef): ListedTarget[] {
  const tree = new TargetsTree(ws, ws.load());
  const nodes: RoleNode[] = role !== undefined ? [tree.find(role)] : tree.all();
  return nodes.flatMap((node) =>
    [...node.md.signed.targets].map(([path, tf]): ListedTarget => ({
      path,
      role: node.name,
      length: tf.length,
      sha256: tf.hashes.get('sha256') ?? null,
    })),
  );
}
