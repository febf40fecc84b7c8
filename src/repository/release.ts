/**
 * `tufsign add-release`, `release verify`, `release list`: the repository side
 * of tufup releases. The archive and patch are built in memory by src/release;
 * this module registers them as targets, re-signs (or writes a signing request
 * when targets needs absent keys), and writes the upload bundle.
 */
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { fileExists, readFileBounded } from '../io/fs';
import { sha256Hex } from '../io/hash';
import { buildBundle, writeBundle, type ManifestFile, type WrittenBundle } from '../bundle';
import {
  buildRelease,
  checkAppName,
  latestRelease,
  listReleases,
  parseVersion,
  releasedVersions,
  releaseTimeFrom,
  verifyRelease,
  type BuildReleaseOptions,
  type ProgressCallback,
  type ReleaseInfo,
  type VerifyReleaseResult,
} from '../release';
import type { JsonValue } from '../tuf/json';
import type { TopLevelRole } from '../tuf/metadata';
import { collectBundleFiles } from './bundle-files';
import type { CeremonyContext } from './context';
import { presentKeysConfig } from './key-availability';
import type { OperationResult } from './outcome';
import { newRequest, writeRequest, type RequestWritten } from './requests';
import { openSignersFor } from './signing';
import { addPreparedTargets, targetFilesOf, type PreparedTarget } from './targets';
import { commitFiles } from './transaction';
import { targetFileNames, Workspace } from './workspace';

export interface AddReleaseOptions {
  app: string;
  version: string;
  dir: string;
  meta?: JsonValue | null;
  required?: boolean;
  noPatch?: boolean;
  dryRun?: boolean;
  /** where to write a signing request when targets needs absent keys */
  requestOut?: string;
  /** bundle folder (default: WORKSPACE/bundles/APP-VERSION) */
  bundleOut?: string;
  env: NodeJS.ProcessEnv;
  onProgress?: ProgressCallback;
  /** threads for compression and the patch (default: every core); output bytes do not depend on it */
  threads?: number;
}

export interface ReleaseFileSummary {
  path: string;
  length: number;
  sha256: string;
}

export interface AddReleaseResult {
  app: string;
  version: string;
  dryRun: boolean;
  archive: ReleaseFileSummary;
  patch: (ReleaseFileSummary & { from: string }) | null;
  patchSkipped: string | null;
  tar: { sha256: string; size: number };
  files: number;
  operation?: Omit<OperationResult, 'pending'>;
  request?: RequestWritten;
  bundle?: WrittenBundle & { files: ManifestFile[] };
}

function summary(path: string, data: Uint8Array, sha256: string | undefined): ReleaseFileSummary {
  return { path, length: data.length, sha256: sha256 ?? '' };
}

export async function addRelease(
  ws: Workspace,
  options: AddReleaseOptions,
  ctx: CeremonyContext,
): Promise<AddReleaseResult> {
  checkAppName(options.app);
  // the version string is parsed once, by buildRelease (published ones when listed)
  const repo = ws.load();
  const consistent = repo.root.signed.consistentSnapshot === true;
  const targets = repo.targets.signed;
  const prev = latestRelease(targets, options.app);
  const build: BuildReleaseOptions = {
    app: options.app,
    version: options.version,
    dir: options.dir,
    releaseTime: releaseTimeFrom(options.env, ctx.now),
    existingVersions: releasedVersions(targets, options.app),
    meta: options.meta ?? null,
    required: options.required === true,
    noPatch: options.noPatch === true,
  };
  if (options.onProgress !== undefined) build.onProgress = options.onProgress;
  if (options.threads !== undefined) build.threads = options.threads;
  const prevArchive = prev?.archive;
  if (prev !== undefined && prevArchive !== undefined && options.noPatch !== true) {
    const name = targetFileNames(prevArchive.path, prevArchive.targetFile.hashes, consistent)[0] ?? prevArchive.path;
    const archivePath = join(ws.targetsDir, name);
    if (fileExists(archivePath))
      build.previous = { version: prev.version, archivePath, targetFile: prevArchive.targetFile };
  }
  // Secrets first: a missing or wrong passphrase/PIN fails now, not after building the archive and patch.
  if (options.dryRun !== true)
    await openSignersFor(repo.root.signed, ['targets', 'snapshot', 'timestamp'], presentKeysConfig(ws), ctx);
  const built = await buildRelease(build);
  const result: AddReleaseResult = {
    app: built.app,
    version: built.version,
    dryRun: options.dryRun === true,
    archive: summary(built.archive.name, built.archive.bytes, built.archive.targetFile.hashes.get('sha256')),
    patch:
      built.patch === undefined
        ? null
        : {
            ...summary(built.patch.name, built.patch.bytes, built.patch.targetFile.hashes.get('sha256')),
            from: built.patch.fromVersion,
          },
    patchSkipped: built.patchSkipped ?? null,
    tar: { sha256: built.tar.sha256, size: built.tar.size },
    files: built.files,
  };
  if (options.dryRun === true) return result;

  const prepared: PreparedTarget[] = [
    { path: built.archive.name, data: built.archive.bytes, targetFile: built.archive.targetFile },
  ];
  if (built.patch !== undefined)
    prepared.push({ path: built.patch.name, data: built.patch.bytes, targetFile: built.patch.targetFile });
  const base: Partial<Record<TopLevelRole, number>> = {
    root: repo.root.signed.version,
    targets: targets.version,
    snapshot: repo.snapshot.signed.version,
    timestamp: repo.timestamp.signed.version,
  };
  // Only keys whose private part is reachable here sign; the rest is a ceremony.
  const here = new Workspace(ws.dir, { ...ws.config, keys: presentKeysConfig(ws).keys });
  const op = await addPreparedTargets(here, prepared, ctx, { deferIncomplete: true });
  const { pending, ...operation } = op;
  result.operation = operation;
  if (pending !== undefined && pending.length > 0) {
    // targets needs offline keys: store the new files (content-addressed, invisible to clients until
    // a signed targets lists them) and write the request the keyholders sign.
    commitFiles(targetFilesOf(ws, prepared, consistent));
    const req = newRequest(ws, pending, { purpose: `release ${built.app} ${built.version}` }, ctx);
    result.request = writeRequest(ws, req, options.requestOut, ctx);
    return result;
  }
  const bundleDir = options.bundleOut ?? join(ws.dir, 'bundles', `${built.app}-${built.version}`);
  const { manifest, entries } = buildBundle({
    repository: ws.config.name,
    base,
    files: collectBundleFiles(ws, base, targets),
  });
  result.bundle = { ...writeBundle(bundleDir, entries), files: manifest.files };
  return result;
}

export interface ReleaseListing {
  app: string;
  version: string;
  channel: string;
  archive: { path: string; length: number; required: boolean } | null;
  patch: { path: string; length: number; ratio: number | null } | null;
}

export function releaseListing(ws: Workspace, app?: string): ReleaseListing[] {
  const targets = ws.load().targets.signed;
  return listReleases(targets, app).map((r: ReleaseInfo) => ({
    app: r.app,
    version: r.version,
    channel: r.channel,
    archive:
      r.archive === undefined ? null : { path: r.archive.path, length: r.archive.length, required: r.archive.required },
    patch:
      r.patch === undefined
        ? null
        : {
            path: r.patch.path,
            length: r.patch.length,
            ratio: r.archive === undefined || r.archive.length === 0 ? null : r.patch.length / r.archive.length,
          },
  }));
}

/** Rebuild APP VERSION from a folder and compare it byte for byte with the published archive. */
export async function verifyPublishedRelease(
  ws: Workspace,
  app: string,
  version: string,
  dir: string,
  onProgress?: ProgressCallback,
): Promise<VerifyReleaseResult & { archive: string }> {
  const repo = ws.load();
  const release = listReleases(repo.targets.signed, app).find((r) => r.version === parseVersion(version).normalized);
  if (release?.archive === undefined) {
    throw new TufsignError('TARGET_NOT_FOUND', `no published archive for ${app} ${version}`, {
      rule: 'release verify compares with a published release',
      suggestion: 'See `tufsign release list`.',
    });
  }
  const consistent = repo.root.signed.consistentSnapshot === true;
  const name =
    targetFileNames(release.archive.path, release.archive.targetFile.hashes, consistent)[0] ?? release.archive.path;
  const archiveBytes = readFileBounded(join(ws.targetsDir, name), 0x7fff_ffff);
  const expected = release.archive.targetFile.hashes.get('sha256');
  if (expected !== undefined && sha256Hex(archiveBytes) !== expected) {
    throw new TufsignError('VERIFY_FAILED', `the stored archive ${name} does not match its targets metadata`, {
      file: join(ws.targetsDir, name),
      rule: 'target hashes must match',
    });
  }
  const r = await verifyRelease({
    dir,
    archiveBytes,
    archiveName: release.archive.path,
    ...(onProgress !== undefined ? { onProgress } : {}),
  });
  return { ...r, archive: release.archive.path };
}
