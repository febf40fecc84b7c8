/**
 * Publishing a change to targets roles (top-level or delegated): every
 * changed role gets a new version and expiry, sizes are checked against the
 * clients' limits BEFORE anything is signed, then the changed roles, snapshot
 * and timestamp are signed and written together (role files first, timestamp
 * last). Only the roles that changed are re-signed: adding one target to a
 * repository with 16,384 bins touches one bin, snapshot and timestamp.
 */
import { join } from 'node:path';
import { fileExists, readFileBounded } from '../io/fs';
import { TufsignError } from '../errors';
import { Metadata, MetaFile, SuccinctRoles, Targets } from '../tuf/metadata';
import { addSeconds, formatExpires, type Period } from '../tuf/time';
import { verificationResult } from '../tuf/verify';
import { assertWithinLimit, sizeFinding } from '../verify/limits';
import { projectedSize, projectedSizeOf } from './client-limits';
import type { WorkspaceConfig } from './config';
import { metaFileFor } from './cascade';
import type { SigningContext } from './context';
import { expiryFor } from './expiry';
import { presentKeysConfig } from './key-availability';
import type { Delegator } from '../ceremony';
import {
  deferredResult,
  type Deferral,
  type OperationResult,
  type PendingDelegated,
  type RoleOutcome,
} from './outcome';
import { assertThresholdsReachable, plannedKeys, preflightRoles, signWithAvailableKeys } from './signing';
import { commitFiles, type PendingFile } from './transaction';
import type { RoleNode, TargetsTree } from './targets-tree';
import { metadataFileName, serializeMetadata, serializeSignedFrom } from './workspace';

/** Expiry period of a delegated role: its own, its bins' (`PREFIX-*`), else the targets period. */
export function delegatedExpiryPeriod(
  config: Pick<WorkspaceConfig, 'delegatedExpiry' | 'expiry'>,
  name: string,
): Period {
  const own = config.delegatedExpiry?.get(name);
  if (own !== undefined) return own;
  const dash = name.lastIndexOf('-');
  const bins = dash > 0 ? config.delegatedExpiry?.get(`${name.slice(0, dash)}-*`) : undefined;
  return bins ?? config.expiry.targets;
}

export function roleExpiry(config: WorkspaceConfig, name: string, now: Date, override?: Period): Date {
  if (name === 'targets') return expiryFor(config, 'targets', now, override);
  if (override !== undefined) return addSeconds(now, override.seconds);
  return addSeconds(now, delegatedExpiryPeriod(config, name).seconds);
}

export interface PublishOptions {
  /** expiry period override for the changed targets roles (parsed by the CLI) */
  expires?: Period;
  /** target files and other files to write with the metadata */
  files?: PendingFile[];
  /**
   * When top-level targets cannot reach its threshold here (offline targets
   * key): write only the new delegated roles and return targets as `pending`
   * for a signing request; snapshot and timestamp follow at finalize.
   */
  deferTargets?: Deferral;
}

/** Above this many changed roles, signing is reported as a count instead of one line per role. */
const MANY_ROLES = 64;

/**
 * Counted progress of a step over many items: through `ctx.report` (one updating line on a terminal, one
 * final line otherwise) or, without it, a line per 1,024 items.
 */
function counter(ctx: SigningContext, stage: 'sign' | 'write', unit: string): (done: number, total: number) => void {
  return (done, total) => {
    if (ctx.report !== undefined) ctx.report({ stage, done, total });
    else if (done % 1024 === 0 || done === total) ctx.progress?.(`  ${done}/${total} ${unit}`);
  };
}

/** The context without its per-line progress: thousands of "signing bins-N" lines would bury everything else. */
function quiet(ctx: SigningContext): SigningContext {
  const rest: SigningContext = { ...ctx };
  delete rest.progress;
  return rest;
}

function outcomeOf(node: RoleNode, files: string[], config: WorkspaceConfig): RoleOutcome {
  const result = verificationResult(node.name, node.role, node.keys, node.md);
  const missing = result.unsigned.map((keyid) => {
    const e = config.keys.get(keyid);
    return {
      keyid,
      ...(e?.owner !== undefined ? { owner: e.owner } : {}),
      ...(e?.ref !== undefined ? { uri: e.ref.uri } : {}),
    };
  });
  return {
    role: node.name,
    version: node.md.signed.version,
    expires: formatExpires(node.md.signed.expires),
    files,
    result,
    missing,
    complete: result.verified,
  };
}

function fileOf(tree: TargetsTree, name: string, version: number): string {
  return join(tree.ws.metadataDir, metadataFileName(name, version, tree.consistent));
}

/** Sign and write every changed targets role of `tree`, then snapshot and timestamp. */
export async function publishTargetsChanges(
  tree: TargetsTree,
  ctx: SigningContext,
  options: PublishOptions = {},
): Promise<OperationResult> {
  const ws = tree.ws;
  const config = ws.config;
  // A file: key whose file is not on this machine counts as a key held elsewhere.
  const signing = presentKeysConfig(ws);
  const changed = tree.changedNodes();
  if (changed.length === 0) throw new TufsignError('INTERNAL', 'nothing changed');
  for (const node of changed) {
    if (!node.created) node.md.signed.version += 1;
    node.md.signed.expires = roleExpiry(config, node.name, ctx.now, options.expires);
    node.md.clearSignatures();
  }
  const { root, snapshot: snapshotMd, timestamp: timestampMd } = tree.repo;
  const snapshot = snapshotMd.signed;
  for (const node of changed) snapshot.meta.set(`${node.name}.json`, new MetaFile(node.md.signed.version));
  snapshot.version += 1;
  snapshot.expires = expiryFor(config, 'snapshot', ctx.now);
  snapshotMd.clearSignatures();
  const snapshotFile = ws.relative(fileOf(tree, 'snapshot', snapshot.version));
  // The snapshot's text is written once: its size is checked now, its signatures are added after signing.
  const snapshotUnsigned = serializeMetadata(snapshotMd);
  // Sizes first: a change no client could download is refused before any key is asked for.
  assertWithinLimit(
    sizeFinding(
      snapshotFile,
      'snapshot',
      'snapshot',
      projectedSizeOf(snapshotUnsigned, root.signed.role('snapshot'), root.signed.keys),
    ),
    true,
  );
  for (const node of changed) {
    const file = ws.relative(fileOf(tree, node.name, node.md.signed.version));
    assertWithinLimit(sizeFinding(file, node.name, 'targets', projectedSize(node.md, node.role, node.keys)), true);
  }

  assertNoWaitingVersions(tree, changed);
  // When the changed roles will be signed here (no request to fall back on, or all their keys here and none
  // offline), snapshot and timestamp must be too: keys missing for them are found before any key is opened.
  const deferring = options.deferTargets !== undefined && options.deferTargets !== false;
  const signedHere = changed.every((n) => {
    const planned = plannedKeys(new Set(), n.role, n.keys, signing, n.name);
    return (
      planned.length >= n.role.threshold && planned.every((k) => signing.keys.get(k.key.keyid())?.offline !== true)
    );
  });
  if (!deferring || signedHere) assertThresholdsReachable(root.signed, ['snapshot', 'timestamp'], signing);
  // Every device of the changed roles, snapshot and timestamp before the first PIN or touch (ADR 0004).
  await preflightRoles(
    ctx,
    root.signed,
    ['snapshot', 'timestamp'],
    signing,
    changed.flatMap((n) => plannedKeys(new Set(), n.role, n.keys, signing, n.name)),
  );

  const outcomes: RoleOutcome[] = [];
  const roleFiles: PendingFile[] = [];
  const many = changed.length > MANY_ROLES;
  const binCtx = many ? quiet(ctx) : ctx;
  const signed = counter(ctx, 'sign', 'roles signed');
  let done = 0;
  for (const node of changed) {
    // Hash bins are counted, not listed; a named role still says which key signs it.
    const roleCtx = node.role instanceof SuccinctRoles ? binCtx : ctx;
    // With a signing request as the way out, an offline key without its own secret here waits for the ceremony.
    const defer = options.deferTargets !== undefined && options.deferTargets !== false;
    await signWithAvailableKeys(node.md, node.role, node.keys, signing, roleCtx, undefined, node.name, defer);
    const path = fileOf(tree, node.name, node.md.signed.version);
    const text = serializeMetadata(node.md);
    assertWithinLimit(sizeFinding(ws.relative(path), node.name, 'targets', Buffer.byteLength(text)), false);
    roleFiles.push({ path, data: text });
    outcomes.push(outcomeOf(node, [ws.relative(path)], config));
    done += 1;
    if (many) signed(done, changed.length);
  }
  const short = outcomes.filter((o) => !o.complete);
  if (short.length > 0) {
    const shortNodes = changed.filter((_n, i) => outcomes[i]?.complete !== true);
    // A new role whose own keys are not here waits in the request with its parent's new version, which names
    // those keys: the parent (even when signed here) is published only with the role, at finalize.
    for (const n of shortNodes.slice())
      if (n.created && n.parent !== undefined && !shortNodes.includes(n.parent)) shortNodes.push(n.parent);
    if (options.deferTargets !== undefined && options.deferTargets !== false && shortNodes.every(deferrable)) {
      // Offline keys (top-level targets, or a delegated role's parent): publish nothing a client would read; the
      // roles signed here wait unreferenced for the finalize, the others go into a signing request.
      const early = roleFiles.filter((_f, i) => !shortNodes.includes(changed[i] as RoleNode));
      // Re-signed versions of existing roles can wait unreferenced only where each version has its own file.
      if (!tree.consistent && changed.some((n) => n.name !== 'targets' && !n.created && !shortNodes.includes(n))) {
        throw new TufsignError(
          'THRESHOLD_NOT_MET',
          'this change re-signs delegated roles together with targets, whose keys are not here, and without consistent snapshots their new files would replace the published ones',
          {
            rule: 'SPEC-11 threshold of distinct keys',
            suggestion:
              'Bring the targets keys here, or change the delegation in a ceremony with consistent snapshots.',
          },
        );
      }
      const pendingDelegated = shortNodes.filter((n) => n.parent !== undefined).map((n) => pendingDelegatedOf(tree, n));
      const pending = shortNodes.includes(tree.top) ? [tree.top.md] : [];
      // Nothing is written unless the request can be written after it.
      if (typeof options.deferTargets === 'function') options.deferTargets(pending, pendingDelegated);
      const writtenNow = [...(options.files ?? []), ...early];
      commitFiles(writtenNow);
      return {
        ...deferredResult(
          ws.dir,
          outcomes,
          writtenNow.map((f) => ws.relative(f.path)),
          new Set(shortNodes.map((n) => n.name)),
        ),
        pending,
        ...(pendingDelegated.length > 0 ? { pendingDelegated } : {}),
      };
    }
    throw new TufsignError(
      'THRESHOLD_NOT_MET',
      `not enough keys available here to sign ${short.map((o) => `${o.role} (${o.result.signed.length}/${o.result.threshold})`).join(', ')}; nothing was written`,
      {
        rule: 'SPEC-11 each role is signed by its threshold',
        suggestion:
          'Configure the missing keys in tufsign.json, or sign with the delegated role’s keys on the machine that holds them.',
        details: { roles: short.map((o) => ({ role: o.role, missing: o.missing })) },
      },
    );
  }

  const snapshotBytes = await signWithAvailableKeys(
    snapshotMd,
    root.signed.role('snapshot'),
    root.signed.keys,
    signing,
    ctx,
  );
  const snapshotText = serializeSignedFrom(snapshotUnsigned, snapshotMd);
  const snapshotPath = fileOf(tree, 'snapshot', snapshot.version);
  assertWithinLimit(
    sizeFinding(ws.relative(snapshotPath), 'snapshot', 'snapshot', Buffer.byteLength(snapshotText)),
    false,
  );
  const timestamp = timestampMd.signed;
  timestamp.snapshotMeta = metaFileFor(Buffer.from(snapshotText), snapshot.version, true);
  timestamp.version += 1;
  timestamp.expires = expiryFor(config, 'timestamp', ctx.now);
  timestampMd.clearSignatures();
  const timestampBytes = await signWithAvailableKeys(
    timestampMd,
    root.signed.role('timestamp'),
    root.signed.keys,
    signing,
    ctx,
  );
  const timestampText = serializeMetadata(timestampMd);
  const timestampPath = fileOf(tree, 'timestamp', timestamp.version);
  assertWithinLimit(
    sizeFinding(ws.relative(timestampPath), 'timestamp', 'timestamp', Buffer.byteLength(timestampText)),
    false,
  );
  for (const [md, role, path, bytes] of [
    [snapshotMd, 'snapshot', snapshotPath, snapshotBytes],
    [timestampMd, 'timestamp', timestampPath, timestampBytes],
  ] as const) {
    const result = verificationResult(role, root.signed.role(role), root.signed.keys, md, bytes);
    const missing = result.unsigned.map((keyid) => ({
      keyid,
      ...(config.keys.get(keyid)?.owner !== undefined ? { owner: config.keys.get(keyid)?.owner } : {}),
    }));
    outcomes.push({
      role,
      version: md.signed.version,
      expires: formatExpires(md.signed.expires),
      files: [ws.relative(path)],
      result,
      missing,
      complete: result.verified,
    });
  }
  const incomplete = outcomes.filter((o) => !o.complete);
  if (incomplete.length > 0) {
    throw new TufsignError(
      'THRESHOLD_NOT_MET',
      `not enough keys available here to sign ${incomplete.map((o) => `${o.role} (${o.result.signed.length}/${o.result.threshold})`).join(', ')}; nothing was written`,
      {
        rule: 'SPEC-38 each role is signed by its threshold',
        suggestion: 'Snapshot and timestamp keys are online keys: configure them in tufsign.json.',
        details: { roles: incomplete.map((o) => ({ role: o.role, missing: o.missing })) },
      },
    );
  }
  const files: PendingFile[] = [
    ...(options.files ?? []),
    ...roleFiles,
    { path: snapshotPath, data: snapshotText },
    { path: timestampPath, data: timestampText },
  ];
  commitFiles(files, counter(ctx, 'write', 'files written'));
  return { workspace: ws.dir, roles: outcomes, complete: true, written: files.map((f) => ws.relative(f.path)) };
}

/**
 * A role that cannot be signed here can travel as a signing request when what names its keys is published and
 * unchanged: top-level targets (named by root), or an existing delegated role whose parents up to targets this
 * change leaves alone (a keyholder anchors it through that published chain). A new role, or one whose parent
 * changes in the same step, needs its keys here.
 */
function deferrable(node: RoleNode): boolean {
  if (node.parent === undefined) return true;
  // a new role travels with its parent's new version, which must itself be able to travel
  if (node.created) return !node.parent.created && deferrable(node.parent);
  for (let p: RoleNode | undefined = node.parent; p !== undefined; p = p.parent) if (p.changed) return false;
  return true;
}

/** The request entry of a delegated role: its new version, the published one it replaces, and its published chain. */
function pendingDelegatedOf(tree: TargetsTree, node: RoleNode): PendingDelegated {
  const parent = node.parent as RoleNode;
  if (node.created) {
    // new: nothing it replaces; its parent's new version is in the same request, with the parent's own chain
    const chain: Delegator[] = [];
    for (let n: RoleNode | undefined = parent.parent; n !== undefined; n = n.parent)
      chain.unshift({
        role: n.name,
        ...(n.parent !== undefined ? { delegatedBy: n.parent.name } : {}),
        metadata: n.md,
      });
    return { name: node.name, delegatedBy: parent.name, metadata: node.md, chain };
  }
  const version = node.md.signed.version - 1;
  const path = tree.consistent
    ? fileOf(tree, node.name, version)
    : join(tree.ws.metadataDir, metadataFileName(node.name, 0, false));
  const trusted = Metadata.fromBytes(readFileBounded(path), path, 'targets');
  if (trusted.signed.version !== version)
    throw new TufsignError('ROLLBACK', `${node.name}.json has version ${trusted.signed.version}, expected ${version}`, {
      path: tree.ws.relative(path),
      rule: 'SPEC-31 versions must match',
    });
  const chain: Delegator[] = [];
  for (let n: RoleNode | undefined = parent; n !== undefined; n = n.parent)
    chain.unshift({ role: n.name, ...(n.parent !== undefined ? { delegatedBy: n.parent.name } : {}), metadata: n.md });
  return { name: node.name, delegatedBy: parent.name, metadata: node.md, trusted, chain };
}

/**
 * A key change under an offline targets key leaves the delegated role's next
 * version waiting in metadata/, signed by the new key set, until the ceremony
 * finalizes targets. Another change to that role in the meantime would
 * overwrite it with a version the new targets does not trust. A next-version
 * file the current delegation verifies (left by a killed run) may be replaced.
 */
function assertNoWaitingVersions(tree: TargetsTree, changed: readonly RoleNode[]): void {
  if (!tree.consistent) return;
  for (const node of changed) {
    if (node.created || node.parent === undefined) continue;
    const path = fileOf(tree, node.name, node.md.signed.version);
    if (!fileExists(path)) continue;
    const waiting = Metadata.fromBytes(readFileBounded(path), path, 'targets');
    if (verificationResult(node.name, node.role, node.keys, waiting).verified) continue;
    throw new TufsignError(
      'ROLE_CHANGE_PENDING',
      `${node.name} v${node.md.signed.version} is already signed for a change of ${node.parent.name} that waits in a signing request`,
      {
        path: tree.ws.relative(path),
        rule: 'one change of a delegated role at a time',
        suggestion: 'Finalize (or abandon and delete) the pending request for that delegation first.',
      },
    );
  }
}

/** A new, empty delegated role at version 1 (signed by `publishTargetsChanges`). */
export function newRoleMetadata(
  config: WorkspaceConfig,
  name: string,
  now: Date,
  override?: Period,
): Metadata<Targets> {
  return new Metadata(new Targets(1, roleExpiry(config, name, now, override)));
}
