/**
 * `ceremony finalize`: a complete request into the workspace, snapshot and timestamp re-signed here (or left as a
 * follow-up request), and the upload bundle. Everything is computed before anything is written.
 */
import { hashHex } from '../../io/hash';
import { isAbsolute, join, relative } from 'node:path';
import { TufsignError } from '../../errors';
import { fileExists, readFileBounded, removeTree } from '../../io/fs';
import { keyFilePath, tryParseKeyRef, type FileKeyRef } from '../../keystore/key-ref';
import {
  buildBundle,
  bundleFormatOf,
  checkBundleManifest,
  writeBundle,
  type ManifestFile,
  type WrittenBundle,
} from '../../bundle';
import { ceremonyId, finalizeRequest, requestFingerprint, requestStatus, type SigningRequest } from '../../ceremony';
import { isJsonObject } from '../../tuf/json';
import { MetaFile, Metadata, Snapshot, Timestamp, type Root, type Targets } from '../../tuf/metadata';
import { verificationResult } from '../../tuf/verify';
import { baseRootOf, collectBundleFiles } from '../bundle-files';
import { metaFileFor } from '../cascade';
import { serializeConfig, type KeyEntry, type WorkspaceConfig } from '../config';
import type { CeremonyContext } from '../context';
import { expiryFor, minValiditySeconds } from '../expiry';
import { presentKeysConfig } from '../key-availability';
import { assertPublishableKeyids } from '../keyid-gate';
import { listWaitingDelegatedRoles } from '../pending-roles';
import {
  checkBelongs,
  currentState,
  defaultRequestPath,
  describeRequest,
  newRequest,
  readRequestFile,
  writeRequest,
  type RequestWritten,
} from '../requests';
import { preflightRoles, signWithAvailableKeys } from '../signing';
import { commitFiles, type PendingFile } from '../transaction';
import { KEYS_DIR, metadataFileName, serializeMetadata, Workspace } from '../workspace';

export interface FinalizeReport {
  workspace: string;
  ceremonyId: string;
  fingerprint: string;
  /** top-level roles, and delegated roles by name */
  roles: { role: string; version: number; expires: string; signatures: number }[];
  written: string[];
  bundle?: WrittenBundle & { files: ManifestFile[] };
  /** snapshot/timestamp that could not be signed here: a further request */
  followUp?: RequestWritten;
}

export interface FinalizeOptions {
  /** the request file, for messages */
  file?: string;
  /** bundle folder, or one `.tar.gz` when the path ends so (ADR 0017) */
  bundleOut?: string;
  allowShortExpiry?: boolean;
  followUpOut?: string;
  /** keys the organizer named in this run (rotation applied at once): their entries are written as given */
  knownKeys?: ReadonlyMap<string, KeyEntry>;
}

/**
 * A `file:` URI naming a file under this workspace's keys/ folder (no other URI is learned from a request): parsed
 * as input (`parseKeyRef(…, 'input')`, which refuses device and library URIs and paths that leave the folder).
 */
function workspaceKeyFile(ws: Workspace, uri: string): FileKeyRef | undefined {
  const ref = tryParseKeyRef(uri, 'input');
  if (ref?.backend !== 'file') return undefined;
  const rel = relative(join(ws.dir, KEYS_DIR), keyFilePath(ref, ws.dir));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? ref : undefined;
}

/**
 * Finalize a request into the workspace: check it (thresholds, versions,
 * expiry, that it belongs here), write the new metadata, re-sign snapshot
 * and timestamp with the keys here (or leave them as a follow-up request),
 * and emit the bundle. Everything is computed before anything is written.
 */
export async function finalizeIntoWorkspace(
  ws: Workspace,
  req: SigningRequest,
  options: FinalizeOptions,
  ctx: CeremonyContext,
): Promise<FinalizeReport> {
  const file = options.file ?? 'request';
  // A role already at exactly the request's bytes was written by an earlier run of this finalize that was killed.
  checkBelongs(
    ws,
    req,
    file,
    true,
    req.roles.map((r) => r.metadata),
  );
  const outcome = finalizeRequest(
    req,
    {
      now: ctx.now,
      tool: ctx.tool,
      minValidity: minValiditySeconds(ws.config),
      ...(options.allowShortExpiry === true ? { allowShortExpiry: true } : {}),
    },
    file,
  );
  assertPublishableKeyids(outcome.metadata);
  const repo = currentState(ws);
  // by role name: a delegated role's metadata is of type targets
  const names = req.roles.map((r) => r.role);
  const byRole = new Map(outcome.metadata.map((m, i) => [names[i] ?? m.signed.type, m]));
  const rootMd =
    (byRole.get('root') as Metadata<Root> | undefined) ??
    repo?.root ??
    (ws.latestRootVersion() > 0 ? ws.loadRoot() : undefined);
  if (rootMd === undefined)
    throw new TufsignError('REQUEST_INVALID', 'a request for a new repository must carry root v1', { file });
  const root = rootMd.signed;
  const consistent = root.consistentSnapshot === true;
  const files: PendingFile[] = [];
  const written = (md: Metadata, text: string, name: string = md.signed.type): void => {
    files.push({
      path: join(ws.metadataDir, metadataFileName(name, md.signed.version, consistent)),
      data: text,
    });
    if (name === 'root') files.push({ path: join(ws.metadataDir, 'root.json'), data: text });
  };
  for (const [name, md] of byRole)
    if (name !== 'snapshot' && name !== 'timestamp') written(md, serializeMetadata(md), name);
  const delegated = req.roles.filter((r) => r.delegatedBy !== undefined).map((r) => r.role);

  // New keys learn their owner label from the request, and a URI only when it names a key file in this
  // workspace's keys/ folder: the request may have come back on a stick, and a pkcs11:/yubikey: URI or a
  // path elsewhere written into tufsign.json would later be opened here (a module-path would load code).
  // Keys the organizer named in this same run (options.knownKeys) are taken as given.
  const config: WorkspaceConfig = { ...ws.config, keys: new Map(ws.config.keys) };
  let configChanged = false;
  for (const keyid of root.keys.keys()) {
    const kh = req.keyholders.get(keyid);
    const known = options.knownKeys?.get(keyid);
    if (config.keys.has(keyid) || (kh === undefined && known === undefined)) continue;
    const e: KeyEntry = { ...(kh?.owner !== undefined ? { owner: kh.owner } : {}), ...(known ?? {}) };
    const learned = known?.ref === undefined && kh?.uri !== undefined ? workspaceKeyFile(ws, kh.uri) : undefined;
    if (learned !== undefined) e.ref = learned;
    if (Object.keys(e).length === 0) continue;
    config.keys.set(keyid, e);
    configChanged = true;
  }
  if (configChanged) files.push({ path: Workspace.configPath(ws.dir), data: serializeConfig(config) });

  // snapshot, then timestamp: from the request when it carries them, else the next version signed here.
  // Whatever cannot be signed here goes into ONE follow-up request, so finalize always terminates.
  const targetsVersion = (byRole.get('targets') ?? repo?.targets)?.signed.version ?? 1;
  let snapshotMd = byRole.get('snapshot') as Metadata<Snapshot> | undefined;
  let timestampMd = byRole.get('timestamp') as Metadata<Timestamp> | undefined;
  let snapshotOnDisk = false;
  if (snapshotMd === undefined && timestampMd !== undefined) {
    // A timestamp-only follow-up: its snapshot was published by the finalize that wrote the follow-up.
    snapshotMd = snapshotNamedBy(ws, timestampMd, consistent, file);
    snapshotOnDisk = true;
  }
  const pending: Metadata[] = [];
  // The devices of whichever of snapshot and timestamp are signed here, both before the first PIN or touch.
  await preflightRoles(
    ctx,
    root,
    [
      ...(snapshotMd === undefined ? ['snapshot' as const] : []),
      ...(timestampMd === undefined ? ['timestamp' as const] : []),
    ],
    presentKeysConfig(ws, config),
  );
  if (snapshotMd === undefined) {
    const s =
      repo === undefined ? new Snapshot(0, ctx.now) : Snapshot.fromJSON(repo.snapshot.signed.toJSON(), '$.signed');
    s.version += 1;
    s.expires = expiryFor(config, 'snapshot', ctx.now);
    s.meta.set('targets.json', new MetaFile(targetsVersion));
    // New delegated roles signed while targets waited for its keyholders (delegate add under an offline targets key).
    const targetsMd = byRole.get('targets') as Metadata<Targets> | undefined;
    if (targetsMd !== undefined) listWaitingDelegatedRoles(ws, targetsMd.signed, s, consistent);
    // Delegated roles of the request, and the roles re-signed under them that waited for this finalize.
    for (const name of delegated) {
      const md = byRole.get(name) as Metadata<Targets>;
      s.meta.set(`${name}.json`, new MetaFile(md.signed.version));
      listWaitingDelegatedRoles(ws, md.signed, s, consistent);
    }
    snapshotMd = new Metadata(s);
    await signWithAvailableKeys(snapshotMd, root.role('snapshot'), root.keys, presentKeysConfig(ws, config), ctx);
    if (!verificationResult('snapshot', root.role('snapshot'), root.keys, snapshotMd).verified)
      pending.push(snapshotMd);
  }
  const snapshotText = serializeMetadata(snapshotMd);
  if (pending.length === 0 && !snapshotOnDisk) written(snapshotMd, snapshotText);
  if (timestampMd === undefined) {
    const t =
      repo === undefined ? new Timestamp(0, ctx.now) : Timestamp.fromJSON(repo.timestamp.signed.toJSON(), '$.signed');
    t.version += 1;
    t.expires = expiryFor(config, 'timestamp', ctx.now);
    // A snapshot still to be signed elsewhere has no final bytes yet: the timestamp then names its version only.
    t.snapshotMeta = metaFileFor(Buffer.from(snapshotText), snapshotMd.signed.version, pending.length === 0);
    timestampMd = new Metadata(t);
    await signWithAvailableKeys(timestampMd, root.role('timestamp'), root.keys, presentKeysConfig(ws, config), ctx);
    if (pending.length > 0 || !verificationResult('timestamp', root.role('timestamp'), root.keys, timestampMd).verified)
      pending.push(timestampMd);
  }
  if (pending.length === 0) written(timestampMd, serializeMetadata(timestampMd));

  // A run killed after writing its follow-up left it behind: keep it (it may carry signatures already) and the
  // snapshot it names, instead of signing new ones (ADR 0007, re-runs after a kill).
  const followUpPath =
    pending.length === 0
      ? undefined
      : (options.followUpOut ??
        defaultRequestPath(ws.dir, { roles: pending.map((m) => ({ role: m.signed.type, metadata: m })) }));
  const earlierFollowUp = followUpPath === undefined ? undefined : leftoverFollowUp(followUpPath, ceremonyId(req));
  if (earlierFollowUp !== undefined) {
    const snapshotFile = join(ws.metadataDir, metadataFileName('snapshot', snapshotMd.signed.version, consistent));
    const i = files.findIndex((f) => f.path === snapshotFile);
    if (i >= 0) files.splice(i, 1);
  }
  commitFiles(files);
  if (configChanged) ws.config = config;
  const report: FinalizeReport = {
    workspace: ws.dir,
    ceremonyId: ceremonyId(req),
    fingerprint: requestFingerprint(req),
    roles: outcome.metadata.map((m, i): FinalizeReport['roles'][number] => ({
      role: names[i] ?? m.signed.type,
      version: m.signed.version,
      expires: m.signed.toJSON()['expires'] as string,
      signatures: m.signatures.size,
    })),
    written: files.map((f) => ws.relative(f.path)),
  };
  if (pending.length > 0) {
    // Published so far: root/targets (and snapshot when only timestamp is missing). The rest is one further
    // request that carries the original base forward.
    const head = outcome.request.transcript[outcome.request.transcript.length - 1]?.hash ?? '';
    const what = pending.map((m) => m.signed.type).join(' + ');
    const follow = newRequest(
      ws,
      pending,
      {
        purpose: `${req.purpose} (follow-up: ${what})`,
        parent: { ceremonyId: ceremonyId(req), head },
        base: { ...req.base },
      },
      ctx,
    );
    report.followUp =
      earlierFollowUp !== undefined && followUpPath !== undefined
        ? describeRequest(followUpPath, earlierFollowUp, ctx, ws.config)
        : writeRequest(ws, follow, options.followUpOut, ctx);
    return report;
  }
  if (options.bundleOut !== undefined) {
    // the bundle of a killed run of this same ceremony is replaced (it predates the re-run's snapshot/timestamp)
    if (bundleFormatOf(options.bundleOut) === 'folder' && fileExists(options.bundleOut)) {
      const earlier = (await checkBundleManifest(options.bundleOut)).manifest;
      if (earlier?.ceremonyId === ceremonyId(req)) removeTree(options.bundleOut);
    }
    const bundleFiles = collectBundleFiles(ws, req.base);
    const { manifest, entries } = buildBundle({
      repository: ws.config.name,
      ceremonyId: ceremonyId(req),
      fingerprint: requestFingerprint(req),
      base: req.base,
      ...baseRootOf(ws, req.base),
      files: bundleFiles,
      transcript: outcome.request.transcript,
    });
    report.bundle = { ...(await writeBundle(options.bundleOut, entries)), files: manifest.files };
  }
  return report;
}

/** The follow-up an earlier run of the same ceremony wrote at `path`, if that is what is there. */
function leftoverFollowUp(path: string, parentCeremony: string): SigningRequest | undefined {
  if (!fileExists(path)) return undefined;
  try {
    const earlier = readRequestFile(path);
    // the parent is recorded in the transcript's `created` event (hash-chained with the rest)
    const created = earlier.transcript[0];
    const parent = created?.['parent'];
    const id = isJsonObject(parent) ? parent['ceremony_id'] : undefined;
    return id === parentCeremony ? earlier : undefined;
  } catch {
    return undefined; // not a request: writeRequest refuses to overwrite it
  }
}

/** The snapshot a timestamp names, from the workspace, checked against the timestamp's length and hashes. */
function snapshotNamedBy(
  ws: Workspace,
  ts: Metadata<Timestamp>,
  consistent: boolean,
  file: string,
): Metadata<Snapshot> {
  const meta = ts.signed.snapshotMeta;
  const name = metadataFileName('snapshot', meta.version, consistent);
  if (!ws.hasMetadataFile(name)) {
    throw new TufsignError(
      'REQUEST_INVALID',
      `the request's timestamp names snapshot v${meta.version}, which is not in this workspace`,
      { file, rule: 'a timestamp follow-up finalizes the snapshot already written' },
    );
  }
  const bytes = readFileBounded(join(ws.metadataDir, name));
  const lengthOk = meta.length === undefined || meta.length === bytes.length;
  const hashesOk = [...(meta.hashes ?? new Map<string, string>())].every(([alg, h]) => hashHex(alg, bytes) === h);
  if (!lengthOk || !hashesOk) {
    throw new TufsignError('REQUEST_INVALID', `the request's timestamp does not match ${name} in this workspace`, {
      file,
      rule: 'SPEC-31 timestamp names the snapshot exactly',
    });
  }
  return ws.readMetadataFile(name, 'snapshot');
}

export async function finalizeRequestFile(
  ws: Workspace,
  path: string,
  options: Omit<FinalizeOptions, 'file'>,
  ctx: CeremonyContext,
): Promise<FinalizeReport> {
  return finalizeIntoWorkspace(ws, readRequestFile(path), { ...options, file: path }, ctx);
}

/** When a request is complete already (every key was here), apply it at once; otherwise write it. */
export async function applyOrRequest(
  ws: Workspace,
  req: SigningRequest,
  options: { out?: string; bundleOut?: string; allowShortExpiry?: boolean; knownKeys?: ReadonlyMap<string, KeyEntry> },
  ctx: CeremonyContext,
): Promise<{ applied?: FinalizeReport; request?: RequestWritten }> {
  const status = requestStatus(req, ctx.now, {
    minValidity: minValiditySeconds(ws.config),
    ...(options.allowShortExpiry === true ? { allowShortExpiry: true } : {}),
  });
  if (status.canFinalize) {
    const fo: FinalizeOptions = { file: 'request' };
    if (options.bundleOut !== undefined) fo.bundleOut = options.bundleOut;
    if (options.allowShortExpiry === true) fo.allowShortExpiry = true;
    if (options.knownKeys !== undefined) fo.knownKeys = options.knownKeys;
    return { applied: await finalizeIntoWorkspace(ws, req, fo, ctx) };
  }
  return { request: writeRequest(ws, req, options.out, ctx) };
}
