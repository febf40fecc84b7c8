/** What a use case reports per role: its new version, who signed, which keys are still missing. */
import type { Delegator } from '../ceremony';
import type { Metadata, TopLevelRole } from '../tuf/metadata';
import type { VerificationResult } from '../tuf/verify';
import type { KeyEntry, WorkspaceConfig } from './config';

export interface MissingKey {
  keyid: string;
  owner?: string;
  uri?: string;
}

export interface RoleOutcome {
  /** a top-level role or a delegated targets role */
  role: string;
  version: number;
  expires: string;
  /** metadata files written for this role, relative to the workspace: empty when nothing of it was written */
  files: string[];
  /** the role waits in the signing request this run wrote (its keys are elsewhere): nothing of it was written */
  deferred?: true;
  /** the role already carried every signature this run could add: its file is byte-identical, so it was not rewritten */
  unchanged?: true;
  result: VerificationResult;
  /** for root: the previous root's threshold too (absent for version 1) */
  previousResult?: VerificationResult;
  missing: MissingKey[];
  complete: boolean;
}

export interface OperationResult {
  workspace: string;
  roles: RoleOutcome[];
  complete: boolean;
  /** files written, relative to the workspace */
  written: string[];
  /**
   * With `deferIncomplete`: the metadata that could not reach its threshold
   * here (nothing was written); the caller turns it into a signing request.
   */
  pending?: Metadata[];
  /** likewise, delegated roles whose keys are not here: carried by the request with their delegating chain */
  pendingDelegated?: PendingDelegated[];
}

/** A delegated role whose threshold needs keys that are not here, with its delegating chain (published versions). */
/**
 * How a change may wait for keys held elsewhere: `false` (it may not), `true`, or a check run with what would
 * wait in the signing request just before anything is written; it throws to stop the change with nothing
 * written (for example when the request's file is already taken).
 */
export type Deferral =
  boolean | ((pending: readonly Metadata[], pendingDelegated: readonly PendingDelegated[]) => void);

export interface PendingDelegated {
  name: string;
  delegatedBy: string;
  metadata: Metadata;
  /** the published version it replaces; absent for a role the request creates (its parent waits in it too) */
  trusted?: Metadata;
  /** published targets, …, the parent: top-level targets first */
  chain: Delegator[];
}

function missingKeys(result: VerificationResult, keys: ReadonlyMap<string, KeyEntry>): MissingKey[] {
  return result.unsigned.map((keyid) => {
    const e = keys.get(keyid);
    const m: MissingKey = { keyid };
    if (e?.owner !== undefined) m.owner = e.owner;
    if (e?.ref !== undefined) m.uri = e.ref.uri;
    return m;
  });
}

export function outcome(
  md: Metadata,
  role: TopLevelRole,
  result: VerificationResult,
  files: string[],
  config: Pick<WorkspaceConfig, 'keys'>,
  previousResult?: VerificationResult,
): RoleOutcome {
  const missing = missingKeys(result, config.keys);
  if (previousResult !== undefined) {
    for (const m of missingKeys(previousResult, config.keys))
      if (!missing.some((x) => x.keyid === m.keyid)) missing.push(m);
  }
  const complete = result.verified && (previousResult?.verified ?? true);
  const out: RoleOutcome = {
    role,
    version: md.signed.version,
    expires: md.signed.toJSON()['expires'] as string,
    files,
    result,
    missing,
    complete,
  };
  if (previousResult !== undefined) out.previousResult = previousResult;
  return out;
}

/**
 * The result of a change deferred to a signing request: each role lists only the files actually written, and
 * the roles that wait for keys held elsewhere are marked `deferred` (never a `metadata/N.ROLE.json` that was
 * not written). `waiting` names the roles carried by the request.
 */
export function deferredResult(
  workspace: string,
  roles: readonly RoleOutcome[],
  written: string[],
  waiting: ReadonlySet<string>,
): OperationResult {
  const done = new Set(written);
  return {
    workspace,
    roles: roles.map((r) => {
      const files = r.files.filter((f) => done.has(f));
      const out: RoleOutcome = { ...r, files };
      if (waiting.has(r.role)) out.deferred = true;
      else delete out.deferred;
      return out;
    }),
    complete: false,
    written,
  };
}
