/**
 * The targets roles of a workspace as a client sees them: top-level targets
 * and every delegated role reachable from it, loaded lazily (a repository with
 * 16,384 hash bins loads only the bins an operation touches), searched in the
 * spec's order (§5.6.7, python-tuf `Updater._preorder_depth_first_walk`).
 */
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { readFileBounded } from '../io/fs';
import type { Key } from '../tuf/key';
import { Metadata, type Role, type Snapshot, type Targets } from '../tuf/metadata';
import { metadataFileName, type LoadedRepository, type Workspace } from './workspace';

/** The spec and both reference clients stop after visiting this many roles. */
export const MAX_DELEGATIONS = 32;

export interface RoleNode {
  name: string;
  md: Metadata<Targets>;
  /** the role definition (keyids, threshold) that signs this role */
  role: Role;
  /** where its keyids are looked up: root.keys for targets, the parent's delegations.keys otherwise */
  keys: ReadonlyMap<string, Key>;
  /** undefined for top-level targets */
  parent?: RoleNode;
  /** set by operations that change the role: it gets a new version and signatures */
  changed: boolean;
  /** true for a role created by this operation (version 1, not yet in snapshot) */
  created: boolean;
  /** bytes of the file as loaded (delegated roles) */
  size?: number;
}

export interface SearchResult {
  /** the role holding the path, the first a client reaches */
  found?: RoleNode;
  /** where a new target for the path goes: the first visited role with no delegation covering the path */
  destination?: RoleNode;
  /** roles visited, in order */
  visited: string[];
}

export class TargetsTree {
  readonly top: RoleNode;
  private readonly nodes = new Map<string, RoleNode>();
  readonly consistent: boolean;

  constructor(
    readonly ws: Workspace,
    readonly repo: LoadedRepository,
  ) {
    this.consistent = repo.root.signed.consistentSnapshot === true;
    this.top = {
      name: 'targets',
      md: repo.targets,
      role: repo.root.signed.role('targets'),
      keys: repo.root.signed.keys,
      changed: false,
      created: false,
    };
    this.nodes.set('targets', this.top);
  }

  get snapshot(): Snapshot {
    return this.repo.snapshot.signed;
  }

  /** Every role loaded so far (targets first). */
  loaded(): RoleNode[] {
    return [...this.nodes.values()];
  }

  changedNodes(): RoleNode[] {
    return this.loaded().filter((n) => n.changed);
  }

  /** Add a role created by this operation (not on disk yet). */
  adopt(node: RoleNode): void {
    this.nodes.set(node.name, node);
  }

  forget(name: string): void {
    this.nodes.delete(name);
  }

  /** Load the delegated role `name` that `parent` delegates to. */
  child(parent: RoleNode, name: string): RoleNode {
    const cached = this.nodes.get(name);
    if (cached !== undefined) return cached;
    const delegations = parent.md.signed.delegations;
    const role = delegations?.getRole(name);
    if (delegations === undefined || role === undefined) {
      throw new TufsignError('ROLE_INVALID', `${parent.name} does not delegate to ${name}`, {
        rule: 'SPEC-23 delegated roles are named by their parent',
      });
    }
    const meta = this.snapshot.meta.get(`${name}.json`);
    if (meta === undefined) {
      throw new TufsignError(
        'VERIFY_FAILED',
        `${name} is delegated by ${parent.name} but snapshot does not list ${name}.json`,
        {
          rule: 'SPEC-27 snapshot lists every targets role',
          suggestion: 'Finalize the pending signing request that publishes the delegation, or run `tufsign verify`.',
        },
      );
    }
    const path = join(this.ws.metadataDir, metadataFileName(name, meta.version, this.consistent));
    const bytes = readFileBounded(path);
    const md = Metadata.fromBytes(bytes, path, 'targets');
    if (md.signed.version !== meta.version) {
      throw new TufsignError(
        'ROLLBACK',
        `${name}.json has version ${md.signed.version} but snapshot lists version ${meta.version}`,
        { rule: 'SPEC-31 versions must match' },
      );
    }
    const node: RoleNode = {
      name,
      md,
      role,
      keys: delegations.keys,
      parent,
      changed: false,
      created: false,
      size: bytes.length,
    };
    this.nodes.set(name, node);
    return node;
  }

  /** The client's search for `path`: pre-order depth-first, `terminating` cuts the search, 32 roles at most. */
  search(path: string): SearchResult {
    const out: SearchResult = { visited: [] };
    const stack: { name: string; parent?: RoleNode }[] = [{ name: 'targets' }];
    const visited = new Set<string>();
    while (stack.length > 0 && visited.size < MAX_DELEGATIONS) {
      const next = stack.pop() as { name: string; parent?: RoleNode };
      if (visited.has(next.name)) continue;
      const node = next.parent === undefined ? this.top : this.child(next.parent, next.name);
      out.visited.push(node.name);
      if (node.md.signed.targets.has(path)) {
        out.found = node;
        return out;
      }
      visited.add(node.name);
      const children = node.md.signed.delegations?.rolesForTarget(path) ?? [];
      if (children.length === 0 && out.destination === undefined) out.destination = node;
      const toVisit: { name: string; parent: RoleNode }[] = [];
      for (const c of children) {
        toVisit.push({ name: c.name, parent: node });
        if (c.terminating) {
          stack.length = 0;
          break;
        }
      }
      stack.push(...toVisit.reverse());
    }
    return out;
  }

  /**
   * Find a role by name, breadth-first from targets. Hash bins are found
   * through their succinct delegation without loading the other bins; the
   * search does not descend into bins.
   */
  find(name: string): RoleNode {
    if (name === 'targets') return this.top;
    const queue: RoleNode[] = [this.top];
    const seen = new Set<string>(['targets']);
    while (queue.length > 0) {
      const node = queue.shift() as RoleNode;
      const d = node.md.signed.delegations;
      if (d === undefined) continue;
      if (d.getRole(name) !== undefined) return this.child(node, name);
      for (const r of d.roles ?? []) {
        if (seen.has(r.name) || !this.snapshot.meta.has(`${r.name}.json`)) continue;
        seen.add(r.name);
        queue.push(this.child(node, r.name));
      }
    }
    throw new TufsignError('ROLE_INVALID', `no delegated role ${JSON.stringify(name)} in this repository`, {
      suggestion: 'List the roles with `tufsign delegate list`.',
    });
  }

  /** Whether every delegation on the way from targets to `node` covers `path` (SPEC-24, TAP 15). */
  covers(node: RoleNode, path: string): boolean {
    for (let n: RoleNode = node; n.parent !== undefined; n = n.parent) {
      const d = n.parent.md.signed.delegations;
      if (d === undefined || !d.rolesForTarget(path).some((c) => c.name === n.name)) return false;
    }
    return true;
  }

  /** The delegation chain from targets to `node`, e.g. ["targets", "a", "b"]. */
  chain(node: RoleNode): string[] {
    const out: string[] = [];
    for (let n: RoleNode | undefined = node; n !== undefined; n = n.parent) out.unshift(n.name);
    return out;
  }

  /** Every role reachable from targets, breadth-first (hash bins included: each bin file is read). */
  all(): RoleNode[] {
    const out: RoleNode[] = [];
    const queue = [this.top];
    const seen = new Set<string>(['targets']);
    while (queue.length > 0) {
      const node = queue.shift() as RoleNode;
      out.push(node);
      const d = node.md.signed.delegations;
      const names = (d?.roles ?? []).map((r) => r.name);
      const s = d?.succinctRoles;
      if (s !== undefined) for (let i = 0; i < s.numberOfBins; i++) names.push(s.roleName(i));
      for (const name of names) {
        if (seen.has(name) || !this.snapshot.meta.has(`${name}.json`)) continue;
        seen.add(name);
        queue.push(this.child(node, name));
      }
    }
    return out;
  }
}
