/**
 * `sign ROLE`: add missing signatures, or with --bump/--expires a new version and the cascade it implies. When the
 * threshold needs keys that are not here, nothing is written but a signing request.
 */
import type { Period } from '../tuf/time';
import { TufsignError } from '../errors';
import { HISTORY_PARSE, Metadata, Root, type TopLevelRole } from '../tuf/metadata';
import { rootVerificationResult, verificationResult } from '../tuf/verify';
import {
  bump,
  cascadeSnapshotTimestamp,
  finish,
  finishUnlessUnchanged,
  metaFileFor,
  namesBytes,
  recordsBytes,
  resignRole,
  stage,
  startCascade,
} from './cascade';
import type { CeremonyContext, SigningContext } from './context';
import { presentKeysConfig } from './key-availability';
import { assertPublishableKeyids } from './keyid-gate';
import { outcome, type OperationResult } from './outcome';
import { newRequest, writeRequest, type RequestWritten } from './requests';
import { plannedKeys, plannedPasses, preflight, signWithAvailableKeys, validSigners } from './signing';
import { serializeMetadata, Workspace } from './workspace';

export interface SignOptions {
  expires?: Period;
  bump?: boolean;
  /** when the threshold needs keys that are not here: return `pending` instead of throwing (nothing is written) */
  deferIncomplete?: boolean;
}

/**
 * Re-sign a role. With `--bump` or `--expires`, the content changes: new
 * version and expiry, and everything that references the role is updated
 * (targets → snapshot → timestamp). Without them, only missing signatures
 * are added (same bytes, same version).
 */
export async function signRole(
  ws: Workspace,
  role: TopLevelRole,
  options: SignOptions,
  ctx: SigningContext,
): Promise<OperationResult> {
  const { c, repo } = startCascade(ws);
  const changes = options.bump === true || options.expires !== undefined;
  if (role === 'root') {
    const previous = repo.root;
    const next = changes ? new Metadata(Root.fromJSON(previous.signed.toJSON(), '$.signed', HISTORY_PARSE)) : previous;
    if (changes) bump(next.signed, ws.config, ctx.now, options.expires);
    // Refuse before any key is asked to sign: the new root could not be published anyway.
    assertPublishableKeyids([next]);
    const prevRoot = previous.signed;
    // Both thresholds' devices are checked before the first PIN or touch (ADR 0004).
    await preflight(
      ctx,
      plannedPasses(
        next,
        [
          { role: prevRoot.role('root'), keys: prevRoot.keys },
          { role: next.signed.role('root'), keys: next.signed.keys },
        ],
        ws.config,
        'root',
      ),
    );
    // A new root version must satisfy the previous root's threshold and its own (SPEC-14).
    await signWithAvailableKeys(next, prevRoot.role('root'), prevRoot.keys, ws.config, ctx);
    await signWithAvailableKeys(next, next.signed.role('root'), next.signed.keys, ws.config, ctx);
    const result = verificationResult('root', next.signed.role('root'), next.signed.keys, next);
    const prevResult =
      next.signed.version > 1
        ? rootVerificationResult(changes ? prevRoot : previousRootOf(ws, next), next).previous
        : undefined;
    c.outcomes.push(outcome(next, 'root', result, stage(c, next, serializeMetadata(next)), ws.config, prevResult));
    return (changes ? finish : finishUnlessUnchanged)(c, options.deferIncomplete === true ? 'defer' : true);
  }
  const mdFor = { targets: repo.targets, snapshot: repo.snapshot, timestamp: repo.timestamp }[role];
  const root = repo.root.signed;
  const roleKeys = plannedKeys(
    validSigners(changes ? undefined : mdFor, root.role(role), root.keys),
    root.role(role),
    root.keys,
    ws.config,
    role,
  );
  // Without --bump, a signature added here changes the role's bytes under the same version. Whoever records those
  // bytes (timestamp records snapshot's length and hash; a snapshot may record targets' too, as go-tuf's do) gets a
  // new version naming the new bytes, so the published repository never names bytes that are gone (ADR 0013).
  const recorded =
    !changes &&
    roleKeys.length > 0 &&
    (role === 'snapshot'
      ? recordsBytes(repo.timestamp.signed.snapshotMeta)
      : role === 'targets' && recordsBytes(repo.snapshot.signed.meta.get('targets.json')));
  // The whole cascade's devices (the role, then snapshot and timestamp after it) before the first PIN or touch.
  const cascade: TopLevelRole[] =
    !changes && !recorded
      ? []
      : role === 'targets'
        ? ['snapshot', 'timestamp']
        : role === 'snapshot'
          ? ['timestamp']
          : [];
  await preflight(ctx, [
    ...roleKeys,
    ...cascade.flatMap((r) => plannedKeys(new Set(), root.role(r), root.keys, ws.config, r)),
  ]);
  if (changes) {
    bump(mdFor.signed, ws.config, ctx.now, options.expires);
    mdFor.clearSignatures();
  }
  const bytes = await resignRole(c, mdFor, role, ctx);
  if (role === 'targets' && changes)
    await cascadeSnapshotTimestamp(c, repo.snapshot, repo.timestamp, ctx, repo.targets.signed.version);
  const targetsMeta = repo.snapshot.signed.meta.get('targets.json');
  if (role === 'targets' && recorded && targetsMeta !== undefined && !namesBytes(targetsMeta, bytes)) {
    repo.snapshot.signed.meta.set('targets.json', metaFileFor(bytes, repo.targets.signed.version, true));
    await cascadeSnapshotTimestamp(c, repo.snapshot, repo.timestamp, ctx);
  }
  if (role === 'snapshot' && (changes || (recorded && !namesBytes(repo.timestamp.signed.snapshotMeta, bytes)))) {
    const ts = repo.timestamp.signed;
    ts.snapshotMeta = metaFileFor(bytes, repo.snapshot.signed.version, true);
    bump(ts, ws.config, ctx.now);
    repo.timestamp.clearSignatures();
    await resignRole(c, repo.timestamp, 'timestamp', ctx);
  }
  // without --bump/--expires: a role that already had its signatures is reported unchanged, not rewritten
  return (changes ? finish : finishUnlessUnchanged)(c, options.deferIncomplete === true ? 'defer' : true);
}

function previousRootOf(ws: Workspace, md: Metadata<Root>): Root {
  return md.signed.version > 1 ? ws.loadRoot(md.signed.version - 1).signed : md.signed;
}

export interface PendingReport {
  result: OperationResult;
  request?: RequestWritten;
}

/** `sign ROLE` when its threshold needs keys that are not here: nothing is written but a request. */
export async function signRoleOrRequest(
  ws: Workspace,
  role: TopLevelRole,
  options: SignOptions,
  out: string | undefined,
  ctx: CeremonyContext,
): Promise<PendingReport> {
  const here = new Workspace(ws.dir, { ...ws.config, keys: presentKeysConfig(ws).keys });
  const result = await signRole(here, role, { ...options, deferIncomplete: true }, ctx);
  if (result.pending === undefined || result.pending.length === 0) return { result };
  const changes = options.bump === true || options.expires !== undefined;
  if (!changes) {
    const short = result.pending[0];
    throw new TufsignError(
      'THRESHOLD_NOT_MET',
      `${short?.signed.type ?? role} v${short?.signed.version ?? '?'} needs signatures from keys that are not here`,
      {
        rule: 'SPEC-11 threshold of distinct keys',
        suggestion: `Start a ceremony for a new version: tufsign ceremony start --role ${role} (or sign ${role} --bump).`,
      },
    );
  }
  const req = newRequest(
    ws,
    result.pending,
    { purpose: `sign ${role}: new version v${result.pending[0]?.signed.version ?? '?'}` },
    ctx,
  );
  return { result, request: writeRequest(ws, req, out, ctx) };
}
