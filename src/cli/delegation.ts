/**
 * CLI side of delegations and routed targets: open the workspace, resolve
 * `--key` values and list files at the boundary, then one call into the core.
 */
import type { RoleRef } from '../tuf/paths';
import { expiresOption, thresholdOption } from './flags';
import { parseDelegatedRoleName } from '../tuf/paths';
import type { CeremonyContext } from '../repository/context';
import type { Deferral, OperationResult } from '../repository/outcome';
import { resolveKeySpec } from '../repository/key-specs';
import type { RoleKeySpec } from '../repository/key-specs';
import {
  addBins,
  addDelegation,
  delegationChangeOrRequest,
  listDelegations,
  removeDelegation,
  type DelegateAddOptions,
  type DelegateBinsOptions,
  type DelegationEntry,
  type DelegationOutcome,
} from '../repository/delegations';
import { listTargets, removeTargetsRouted, type ListedTarget } from '../repository/targets-routing';
import { Workspace } from '../repository/workspace';
import { TufsignError } from '../errors';
import { ceremonyContext } from './ceremony';
import type { RunContext } from './context';

async function resolveKeys(run: RunContext, ws: Workspace, values: readonly string[]): Promise<RoleKeySpec[]> {
  if (values.length === 0) throw new TufsignError('USAGE', 'give at least one --key', { rule: '--key FILE_OR_URI' });
  const out: RoleKeySpec[] = [];
  for (const v of values) out.push(await resolveKeySpec(v, run.openOptions(ws.dir, ws)));
  return out;
}

/** What `delegate add|bins` share as typed: the workspace, `--key`, `--threshold`, `--expires`, `--request-out`. */
interface DelegationFlags {
  workspace: string;
  keys: string[];
  /** `--threshold` as typed: parsed here, once */
  threshold: string;
  /** `--expires` as typed: parsed here, once */
  expires?: string;
  out?: string;
}

export interface DelegateAddInput
  extends Omit<DelegateAddOptions, 'keys' | 'expires' | 'threshold' | 'name'>, DelegationFlags {
  /** ROLE as typed: parsed here, once */
  name: string;
}

export interface DelegateBinsInput
  extends Omit<DelegateBinsOptions, 'keys' | 'expires' | 'threshold'>, DelegationFlags {}

/**
 * The flags both delegation verbs parse (role name, threshold and period first, before a key is read), the workspace,
 * the keys, then the change or its request: one home for the wiring `delegate add` and `delegate bins` share.
 */
async function runDelegationChange<O>(
  run: RunContext,
  tool: string,
  input: DelegationFlags,
  build: (parsed: Pick<DelegateAddOptions, 'threshold' | 'expires'>, keys: RoleKeySpec[]) => O,
  change: (ws: Workspace, options: O, ctx: CeremonyContext, defer: Deferral) => Promise<OperationResult>,
  purpose: (options: O) => string,
): Promise<DelegationOutcome> {
  const parsed = { threshold: thresholdOption(input.threshold), ...expiresOption(input.expires) };
  const ws = Workspace.open(input.workspace);
  const options = build(parsed, await resolveKeys(run, ws, input.keys));
  const ctx = ceremonyContext(run, ws.dir, ws, tool);
  return delegationChangeOrRequest(ws, (defer) => change(ws, options, ctx, defer), purpose(options), input.out, ctx);
}

export async function runDelegateAdd(
  run: RunContext,
  tool: string,
  input: DelegateAddInput,
): Promise<DelegationOutcome> {
  const { workspace: _w, keys: _k, out: _o, expires: _e, threshold: _t, ...rest } = input;
  const name = parseDelegatedRoleName(input.name);
  return runDelegationChange<DelegateAddOptions>(
    run,
    tool,
    input,
    (parsed, keys): DelegateAddOptions => ({ ...rest, ...parsed, name, keys }),
    addDelegation,
    (o) => `delegate ${o.paths.join(' ')} to ${o.name} (from ${o.from ?? 'targets'})`,
  );
}

export async function runDelegateBins(
  run: RunContext,
  tool: string,
  input: DelegateBinsInput,
): Promise<DelegationOutcome> {
  const { workspace: _w, keys: _k, out: _o, expires: _e, threshold: _t, ...rest } = input;
  return runDelegationChange<DelegateBinsOptions>(
    run,
    tool,
    input,
    (parsed, keys): DelegateBinsOptions => ({ ...rest, ...parsed, keys }),
    addBins,
    (o) => `delegate all paths of ${o.from ?? 'targets'} to ${o.count} hash bins ${o.prefix}-*`,
  );
}

export async function runDelegateRemove(
  run: RunContext,
  tool: string,
  input: { workspace: string; role: RoleRef; out?: string },
): Promise<DelegationOutcome> {
  const ws = Workspace.open(input.workspace);
  const ctx = ceremonyContext(run, ws.dir, ws, tool);
  return delegationChangeOrRequest(
    ws,
    (defer) => removeDelegation(ws, input.role, ctx, defer),
    `remove the delegation to ${input.role}`,
    input.out,
    ctx,
  );
}

export function runDelegateList(workspace: string): DelegationEntry[] {
  return listDelegations(Workspace.open(workspace));
}

/** `targets remove`: the role re-signed here, or (its keys not here) a signing request for its keyholders. */
export async function runTargetsRemove(
  run: RunContext,
  tool: string,
  input: { workspace: string; path: string; role?: RoleRef; out?: string },
): Promise<DelegationOutcome> {
  const ws = Workspace.open(input.workspace);
  const ctx = ceremonyContext(run, ws.dir, ws, tool);
  return delegationChangeOrRequest(
    ws,
    (defer) =>
      removeTargetsRouted(ws, [input.path], ctx, {
        ...(input.role === undefined ? {} : { role: input.role }),
        deferTargets: defer,
      }),
    `remove ${input.path}${input.role !== undefined ? ` from ${input.role}` : ''}`,
    input.out,
    ctx,
  );
}

export function runTargetsList(workspace: string, role?: RoleRef): ListedTarget[] {
  return listTargets(Workspace.open(workspace), role);
}
