/**
 * CLI side of delegations and routed targets: open the workspace, resolve
 * `--key` values and list files at the boundary, then one call into the core.
 */
import { expiresOption } from './flags';
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

export interface DelegateAddInput extends Omit<DelegateAddOptions, 'keys' | 'expires'> {
  workspace: string;
  keys: string[];
  /** `--expires` as typed: parsed here, once */
  expires?: string;
  out?: string;
}

export async function runDelegateAdd(
  run: RunContext,
  tool: string,
  input: DelegateAddInput,
): Promise<DelegationOutcome> {
  const ws = Workspace.open(input.workspace);
  const { workspace: _w, keys: _k, out, expires, ...rest } = input;
  const options: DelegateAddOptions = {
    ...rest,
    ...expiresOption(expires),
    keys: await resolveKeys(run, ws, input.keys),
  };
  const ctx = ceremonyContext(run, ws.dir, ws, tool);
  return delegationChangeOrRequest(
    ws,
    (defer) => addDelegation(ws, options, ctx, defer),
    `delegate ${options.paths.join(' ')} to ${options.name} (from ${options.from ?? 'targets'})`,
    out,
    ctx,
  );
}

export interface DelegateBinsInput extends Omit<DelegateBinsOptions, 'keys' | 'expires'> {
  workspace: string;
  keys: string[];
  /** `--expires` as typed: parsed here, once */
  expires?: string;
  out?: string;
}

export async function runDelegateBins(
  run: RunContext,
  tool: string,
  input: DelegateBinsInput,
): Promise<DelegationOutcome> {
  const ws = Workspace.open(input.workspace);
  const { workspace: _w, keys: _k, out, expires, ...rest } = input;
  const options: DelegateBinsOptions = {
    ...rest,
    ...expiresOption(expires),
    keys: await resolveKeys(run, ws, input.keys),
  };
  const ctx = ceremonyContext(run, ws.dir, ws, tool);
  return delegationChangeOrRequest(
    ws,
    (defer) => addBins(ws, options, ctx, defer),
    `delegate all paths of ${options.from ?? 'targets'} to ${options.count} hash bins ${options.prefix}-*`,
    out,
    ctx,
  );
}

export async function runDelegateRemove(
  run: RunContext,
  tool: string,
  input: { workspace: string; role: string; out?: string },
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
  input: { workspace: string; path: string; role?: string; out?: string },
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

export function runTargetsList(workspace: string, role?: string): ListedTarget[] {
  return listTargets(Workspace.open(workspace), role);
}
