/**
 * `tufsign add-release`, `release verify`, `release list`: the repository side
 * of tufup releases. The archive and patch are built by src/release as files in
 * the workspace's staging folder (never held whole);
 * this module registers them as targets, re-signs (or writes a signing request
 * when targets needs absent keys), and writes the upload bundle.
 */
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { randomBytes } from 'node:crypto';
import { ensureDir, fileExists, removeDirIfEmpty, removeTree } from '../io/fs';
import { StagedFile } from '../io/stream-file';
import { fileDigest } from '../io/tree';
import { canonicalString } from '../tuf/canonical-json';
import { buildBundle, writeBundle, type ManifestFile, type WrittenBundle } from '../bundle';
import {
  buildReleaseFiles,
  checkAppName,
  checkReleaseTar,
  latestRelease,
  listReleases,
  releasedVersions,
  releaseTimeFrom,
  verifyRelease,
  type BuildReleaseOptions,
  type ProgressCallback,
  type ReleaseFile,
  type Pep440Version,
  type ReleaseInfo,
  type ReleaseVersion,
  type VerifyReleaseResult,
} from '../release';
import type { JsonValue } from '../tuf/json';
import { Targets, type TopLevelRole } from '../tuf/metadata';
import { parseNewTargetPath, type RoleRef } from '../tuf/paths';
import { baseRootOf, collectBundleFiles } from './bundle-files';
import type { CeremonyContext } from './context';
import { presentKeysConfig } from './key-availability';
import type { OperationResult } from './outcome';
import { clearBundleStaging, defaultReleaseBundleDir, finishReleaseBundle } from './release-resume';
import {
  defaultRequestPath,
  describeRequest,
  newRequest,
  readRequestFile,
  writeRequest,
  type RequestWritten,
} from './requests';
import type { SigningRequest } from '../ceremony';
import { openSignersFor } from './signing';
import { addPreparedTargets, targetFilesOf, type PreparedTarget } from './targets';
import { commitFiles } from './transaction';
import { targetFileNames, Workspace, type LoadedRepository } from './workspace';

export interface AddReleaseOptions {
  app: string;
  /** parsed once at the cli boundary (`checkReleaseVersion`): PEP 440, normalized */
  version: ReleaseVersion;
  dir: string;
  meta?: JsonValue | null;
  required?: boolean;
  noPatch?: boolean;
  dryRun?: boolean;
  /** where to write a signing request when targets needs absent keys */
  requestOut?: string;
  /** only `targets` is accepted: tufup clients read top-level targets (assertTopLevelRelease) */
  role?: RoleRef;
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
  /**
   * A re-run after a kill (ADR 0007). `bundle`: APP VERSION was already in signed targets and the folder rebuilt
   * to its archive; nothing was signed and the bundle was found complete or rebuilt (`exact`:
   * byte for byte what the killed run would have written). `request`: the signing request the killed run wrote
   * was kept.
   */
  resumed?: { bundle?: 'complete' | 'rebuilt'; exact?: boolean; request?: 'kept' };
  operation?: Omit<OperationResult, 'pending'>;
  request?: RequestWritten;
  bundle?: WrittenBundle & { files: ManifestFile[] };
}

/**
 * tufup's client lists the releases of an app from `targets.signed.targets`
 * of the top-level role only (tufup `Client._get_targets`, which never follows
 * delegations): a release signed into a delegated role would be invisible to
 * every tufup client. Releases therefore always go to top-level targets.
 */
export function assertTopLevelRelease(role: string | undefined): void {
  if (role === undefined || role === 'targets') return;
  throw new TufsignError(
    'ROLE_INVALID',
    `a tufup release cannot go to the delegated role ${JSON.stringify(role)}: tufup clients read only the top-level targets role, so they would never see it`,
    {
      rule: 'tufup releases live in top-level targets',
      suggestion:
        'Leave out --role. To sign releases without the offline keys, keep targets, snapshot and timestamp online (an HSM or key files in CI) and root offline: docs/releases.md.',
    },
  );
}

export async function addRelease(
  ws: Workspace,
  options: AddReleaseOptions,
  ctx: CeremonyContext,
): Promise<AddReleaseResult> {
  checkAppName(options.app);
  assertTopLevelRelease(options.role);
  const repo = ws.load();
  const consistent = repo.root.signed.consistentSnapshot === true;
  const targets = repo.targets.signed;
  const version = options.version.normalized;
  const bundleDir = options.bundleOut ?? defaultReleaseBundleDir(ws, options.app, version);
  const signed = listReleases(targets, options.app).find((r) => r.version === version && r.archive !== undefined);
  if (signed !== undefined && options.dryRun !== true) return resumeRelease(ws, options, signed, bundleDir);
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
      build.previous = { version: prev.parsed, archivePath, targetFile: prevArchive.targetFile };
  }
  // Secrets first: a missing or wrong passphrase/PIN fails now, not after building the archive and patch.
  if (options.dryRun !== true)
    await openSignersFor(repo.root.signed, ['targets', 'snapshot', 'timestamp'], presentKeysConfig(ws), ctx);
  // The archive and patch are built as files in the workspace's staging folder and moved into targets/ by the
  // commit, never held whole (ADR 0005, "Memory bound"). What a killed run left there goes first: the caller
  // holds the workspace lock, so no other run is using it.
  removeTree(ws.stagingDir);
  const staging = join(ws.stagingDir, `release-${randomBytes(6).toString('hex')}`);
  ensureDir(staging);
  try {
    return await buildAndCommit(ws, repo, options, ctx, { ...build, outDir: staging }, bundleDir);
  } finally {
    removeTree(staging);
    removeDirIfEmpty(ws.stagingDir);
  }
}

async function buildAndCommit(
  ws: Workspace,
  repo: LoadedRepository,
  options: AddReleaseOptions,
  ctx: CeremonyContext,
  build: BuildReleaseOptions & { outDir: string },
  bundleDir: string,
): Promise<AddReleaseResult> {
  const consistent = repo.root.signed.consistentSnapshot === true;
  const targets = repo.targets.signed;
  const built = await buildReleaseFiles(build);
  const summary = (f: ReleaseFile): ReleaseFileSummary => ({
    path: f.name,
    length: f.targetFile.length,
    sha256: f.targetFile.hashes.get('sha256') ?? '',
  });
  const result: AddReleaseResult = {
    app: built.app,
    version: built.version,
    dryRun: options.dryRun === true,
    archive: summary(built.archive),
    patch: built.patch === undefined ? null : { ...summary(built.patch), from: built.patch.fromVersion },
    patchSkipped: built.patchSkipped ?? null,
    tar: { sha256: built.tar.sha256, size: built.tar.size },
    files: built.files,
  };
  if (options.dryRun === true) return result;

  const prepared: PreparedTarget[] = [built.archive, ...(built.patch !== undefined ? [built.patch] : [])].map(
    (f): PreparedTarget => ({
      path: parseNewTargetPath(f.name),
      data: new StagedFile(f.path, f.targetFile.length),
      targetFile: f.targetFile,
    }),
  );
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
    // A run killed after writing its request leaves it behind: the re-run keeps it (it may carry signatures).
    const path = options.requestOut ?? defaultRequestPath(ws.dir, req);
    const earlier = await leftoverRequest(ws, path, req, { app: built.app, version: built.version, dir: options.dir });
    result.request =
      earlier === undefined ? writeRequest(ws, req, options.requestOut, ctx) : describeRequest(path, earlier, ctx);
    if (earlier !== undefined) result.resumed = { request: 'kept' };
    return result;
  }
  clearBundleStaging(bundleDir);
  const { manifest, entries } = buildBundle({
    repository: ws.config.name,
    base,
    ...baseRootOf(ws, base),
    files: collectBundleFiles(ws, base, targets),
  });
  result.bundle = { ...(await writeBundle(bundleDir, entries, options.onProgress)), files: manifest.files };
  return result;
}

/**
 * The request an earlier, killed run of the same release wrote at `path`, if that is what is there: same
 * repository, purpose, role versions and trusted root, the same release content (the killed run stored its
 * archive before writing the request; this folder must rebuild to it, the `release verify` check), and
 * otherwise the same targets. The same APP VERSION built from a changed folder is another release: its request
 * is not kept (and the one there is not overwritten).
 */
async function leftoverRequest(
  ws: Workspace,
  path: string,
  req: SigningRequest,
  release: { app: string; version: string; dir: string },
): Promise<SigningRequest | undefined> {
  if (!fileExists(path)) return undefined;
  let earlier: SigningRequest;
  try {
    earlier = readRequestFile(path);
  } catch {
    return undefined; // not a request: writeRequest refuses to overwrite it
  }
  const versions = (r: SigningRequest): string => r.roles.map((x) => `${x.role} v${x.metadata.signed.version}`).join();
  if (
    earlier.repository !== req.repository ||
    earlier.purpose !== req.purpose ||
    versions(earlier) !== versions(req) ||
    earlier.trustedRoot?.signed.version !== req.trustedRoot?.signed.version
  )
    return undefined;
  const targetsOf = (r: SigningRequest): Targets | undefined => {
    const signed = r.roles.find((x) => x.role === 'targets')?.metadata.signed;
    return signed instanceof Targets ? signed : undefined;
  };
  const [then, now] = [targetsOf(earlier), targetsOf(req)];
  if (then === undefined || now === undefined) return undefined;
  const find = (t: Targets): ReleaseInfo | undefined =>
    listReleases(t, release.app).find((r) => r.version === release.version);
  const [was, is] = [find(then), find(now)];
  if (was?.archive === undefined || is?.archive === undefined) return undefined;
  // Everything but this release's own files (whose bytes carry the run's release time) and the expiry.
  const rest = (t: Targets, r: ReleaseInfo): string => {
    const { expires: _clock, targets, ...other } = t.toJSON();
    const files = { ...(targets as Record<string, JsonValue>) };
    for (const p of [r.archive?.path, r.patch?.path]) if (p !== undefined) delete files[p];
    return canonicalString({ ...other, targets: files });
  };
  if (rest(then, was) !== rest(now, is)) return undefined;
  const consistent = ws.loadRoot().signed.consistentSnapshot === true;
  const stored = join(
    ws.targetsDir,
    targetFileNames(was.archive.path, was.archive.targetFile.hashes, consistent)[0] ?? was.archive.path,
  );
  if (fileDigest(stored)?.sha256 !== was.archive.targetFile.hashes.get('sha256')) return undefined;
  const check = await checkReleaseTar({ dir: release.dir, archivePath: stored, archiveName: was.archive.path });
  return check.tarIdentical ? earlier : undefined;
}

/**
 * APP VERSION is already in signed targets: the run that signed it may have been killed before its bundle was
 * complete. If the folder rebuilds to the signed archive, finish the bundle and report; otherwise the version
 * is taken by other content (RELEASE_NOT_NEWER, as for any released version).
 */
async function resumeRelease(
  ws: Workspace,
  options: AddReleaseOptions,
  release: ReleaseInfo,
  bundleDir: string,
): Promise<AddReleaseResult> {
  const check = await checkReleaseTar({
    dir: options.dir,
    archivePath: storedArchive(ws, release),
    archiveName: release.archive?.path,
    onProgress: options.onProgress,
  });
  if (!check.tarIdentical) {
    throw new TufsignError(
      'RELEASE_NOT_NEWER',
      `${options.app} ${release.version} is already released with other content`,
      {
        rule: 'releases only move forward (tufup clients pick the highest version)',
        suggestion: 'choose a higher version (`tufsign release verify` shows what differs)',
        details: { existing: release.version, differences: check.differences.length },
      },
    );
  }
  const bundle = await finishReleaseBundle(ws, bundleDir, release, options.onProgress);
  const archive = release.archive!;
  const releases = listReleases(ws.load().targets.signed, options.app);
  const before = releases[releases.findIndex((r) => r.version === release.version) - 1];
  const sha = (tf: { hashes: ReadonlyMap<string, string> }): string => tf.hashes.get('sha256') ?? '';
  return {
    app: options.app,
    version: release.version,
    dryRun: false,
    archive: { path: archive.path, length: archive.length, sha256: sha(archive.targetFile) },
    patch:
      release.patch === undefined
        ? null
        : {
            path: release.patch.path,
            length: release.patch.length,
            sha256: sha(release.patch.targetFile),
            from: before?.version ?? '',
          },
    patchSkipped: release.patch === undefined ? 'none in signed targets' : null,
    tar: { sha256: check.rebuilt.tarSha256, size: check.rebuilt.tarSize },
    files: check.rebuilt.files,
    resumed: { bundle: bundle.state, exact: bundle.exact },
    bundle: { path: bundle.path, format: bundle.format, files: bundle.files },
  };
}

/**
 * The workspace's copy of a published release's archive, checked against its signed target info (hashed in
 * pieces, not held).
 */
function storedArchive(ws: Workspace, release: ReleaseInfo): string {
  const archive = release.archive;
  if (archive === undefined) throw new TufsignError('INTERNAL', `release ${release.version} has no archive`);
  const consistent = ws.loadRoot().signed.consistentSnapshot === true;
  const name = targetFileNames(archive.path, archive.targetFile.hashes, consistent)[0] ?? archive.path;
  const path = join(ws.targetsDir, name);
  const expected = archive.targetFile.hashes.get('sha256');
  const digest = fileDigest(path);
  if (digest === undefined)
    throw new TufsignError('TARGET_NOT_FOUND', `the stored archive ${name} is missing`, {
      file: path,
      rule: 'the workspace keeps the files its targets list',
    });
  if (digest.length !== archive.targetFile.length || (expected !== undefined && digest.sha256 !== expected)) {
    throw new TufsignError('VERIFY_FAILED', `the stored archive ${name} does not match its targets metadata`, {
      file: path,
      rule: 'target hashes must match',
    });
  }
  return path;
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
  return listReleases(targets, app).map((r: ReleaseInfo): ReleaseListing => ({
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
  version: Pep440Version,
  dir: string,
  onProgress?: ProgressCallback,
): Promise<VerifyReleaseResult & { archive: string }> {
  const repo = ws.load();
  const release = listReleases(repo.targets.signed, app).find((r) => r.version === version.normalized);
  if (release?.archive === undefined) {
    throw new TufsignError('TARGET_NOT_FOUND', `no published archive for ${app} ${version.normalized}`, {
      rule: 'release verify compares with a published release',
      suggestion: 'See `tufsign release list`.',
    });
  }
  const r = await verifyRelease({
    dir,
    archivePath: storedArchive(ws, release),
    archiveName: release.archive.path,
    ...(onProgress !== undefined ? { onProgress } : {}),
  });
  return { ...r, archive: release.archive.path };
}
