/**
 * Build a tufup-compatible release (archive, patch, target info) from a bundle
 * folder, without touching the repository; and check a published archive by
 * rebuilding it.
 */
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { readFileBounded } from '../io/fs';
import { sha256Hex } from '../io/hash';
import { AtomicFileWriter } from '../io/stream-file';
import { TargetFile } from '../tuf/metadata';
import type { JsonValue } from '../tuf/json';
import { bsdiff, type PatchResult } from './bsdiff';
import { defaultThreads } from './workers';
import { archiveCustom, patchCustom } from './custom';
import { archiveTarDigest, gzipToFile, streamArchive, streamTarDigest } from './archive-stream';
import { gunzipBounded, gunzipSha256, gunzipShared, gzipDeterministic } from './gzip';
import type { ProgressCallback } from './progress';
import { readBundleFiles, scanBundle } from './scan';
import { layoutTar, readTar, tarRegions, writeTarHeaders, type TarEntry } from './tar';
import {
  archiveName,
  checkAppName,
  compareVersions,
  patchName,
  type Pep440Version,
  type ReleaseVersion,
} from './version';

/** Largest uncompressed tar tufsign builds or reads (suffix-array positions are 32-bit). */
export const MAX_TAR_BYTES = 0x7fff_0000;
/** tufup's client downloads the full archive when Σ patch sizes / archive size exceeds this. */
export const TUFUP_MAX_PATCH_RATIO = 0.8;

export interface PreviousRelease {
  /** parsed when targets was listed (`ReleaseInfo.parsed`) */
  version: Pep440Version;
  /** The previous uncompressed tar, if the caller has it; otherwise the archive is read. */
  tarBytes?: Uint8Array | undefined;
  archivePath?: string | undefined;
  archiveBytes?: Uint8Array | undefined;
  /** The previous archive's target info: its bytes must match before they are patched from. */
  targetFile?: TargetFile | undefined;
}

export interface BuildReleaseOptions {
  app: string;
  /** parsed once, where the version came in (`checkReleaseVersion` at the cli boundary) */
  version: ReleaseVersion;
  dir: string;
  /** The release to patch from: the latest archive already in targets (see `latestRelease`). */
  previous?: PreviousRelease | undefined;
  /** Versions of this app already in targets (archives or patches, parsed when listed); the new one must be newer than all. */
  existingVersions?: readonly Pep440Version[] | undefined;
  /** User metadata for the archive's `custom.user` (tufup's `--meta`). */
  meta?: JsonValue | null | undefined;
  required?: boolean | undefined;
  noPatch?: boolean | undefined;
  /** Seconds since the epoch for every tar mtime; see `releaseTimeFrom`. */
  releaseTime: number;
  onProgress?: ProgressCallback | undefined;
  /** Threads for compression and the patch (default: every core); the output bytes are the same for every value. */
  threads?: number | undefined;
}

export interface BuiltFile {
  /** Target path: the bare file name, as tufup expects. */
  name: string;
  bytes: Buffer;
  targetFile: TargetFile;
}

export interface BuiltRelease {
  app: string;
  version: string;
  archive: BuiltFile;
  patch?: (BuiltFile & { fromVersion: string; stats: PatchResult['stats'] }) | undefined;
  /** Why there is no patch, when there is none. */
  patchSkipped?: string | undefined;
  tar: { sha256: string; size: number; bytes: Buffer };
  files: number;
  releaseTime: number;
}

/**
 * The mtime for archive members: `SOURCE_DATE_EPOCH` when set (reproducible
 * builds convention), else the given time. Throws on a malformed value rather
 * than silently using the clock.
 */
export function releaseTimeFrom(env: NodeJS.ProcessEnv, now: Date): number {
  const raw = env['SOURCE_DATE_EPOCH'];
  if (raw === undefined || raw === '') return Math.floor(now.getTime() / 1000);
  if (!/^[0-9]{1,11}$/.test(raw)) {
    throw new TufsignError(
      'RELEASE_INVALID',
      `SOURCE_DATE_EPOCH=${JSON.stringify(raw)} is not a whole number of seconds`,
      { rule: 'reproducible-builds.org SOURCE_DATE_EPOCH' },
    );
  }
  return Number(raw);
}

/** Build the uncompressed tar for a bundle folder: scanned, checked and read once. */
export function buildTar(
  dir: string,
  releaseTime: number,
  onProgress?: ProgressCallback,
): { tar: Buffer; files: number; entries: number } {
  const members = scanBundle(dir, onProgress);
  const layout = layoutTar(members);
  if (layout.size > MAX_TAR_BYTES) {
    throw new TufsignError(
      'RELEASE_INVALID',
      `the bundle makes a ${layout.size}-byte tar; tufsign handles up to ${MAX_TAR_BYTES}`,
      { file: dir, rule: 'bounded release size' },
    );
  }
  // Shared memory, so that patch workers read it in place.
  const tar = Buffer.from(new SharedArrayBuffer(layout.size));
  writeTarHeaders(tar, members, layout, releaseTime);
  readBundleFiles(dir, members, layout.dataOffsets, tar, onProgress);
  return { tar, files: members.filter((m) => m.type === 'file').length, entries: members.length };
}

function checkNewer(app: string, version: Pep440Version, existing: readonly Pep440Version[]): void {
  for (const other of existing) {
    if (compareVersions(version, other) <= 0) {
      throw new TufsignError(
        'RELEASE_NOT_NEWER',
        `${app} ${version.normalized} is not newer than ${other.normalized}, which is already released`,
        {
          rule: 'releases only move forward (tufup clients pick the highest version)',
          suggestion: 'choose a higher version',
          details: { existing: other.normalized },
        },
      );
    }
  }
}

async function previousTar(prev: PreviousRelease): Promise<Uint8Array> {
  if (prev.tarBytes !== undefined) return prev.tarBytes;
  let archive: Uint8Array;
  if (prev.archiveBytes !== undefined) archive = prev.archiveBytes;
  else if (prev.archivePath !== undefined) {
    try {
      archive = readFileBounded(prev.archivePath, MAX_TAR_BYTES);
    } catch (cause) {
      throw new TufsignError('TARGET_NOT_FOUND', `the previous release archive ${prev.archivePath} cannot be read`, {
        file: prev.archivePath,
        suggestion: 'put the published archive back in targets/, or use --no-patch',
        cause,
      });
    }
  } else throw new TufsignError('INTERNAL', 'previous release given without its archive or tar');
  if (prev.targetFile !== undefined) {
    const want = prev.targetFile.hashes.get('sha256');
    if (archive.length !== prev.targetFile.length || (want !== undefined && sha256Hex(archive) !== want)) {
      throw new TufsignError('ARCHIVE_INVALID', `the previous release archive does not match its signed target info`, {
        file: prev.archivePath,
        rule: 'patch only from the bytes clients have',
        suggestion: 'restore the published archive, or use --no-patch',
      });
    }
  }
  return gunzipShared(archive, MAX_TAR_BYTES, prev.archivePath);
}

/** The checks every build starts with: the app name, and a version newer than every released one. */
function checkBuild(options: BuildReleaseOptions): ReleaseVersion {
  checkAppName(options.app);
  const version = options.version;
  checkNewer(options.app, version, [
    ...(options.existingVersions ?? []),
    ...(options.previous !== undefined ? [options.previous.version] : []),
  ]);
  return version;
}

/**
 * Build `APP-VERSION.tar.gz` and, from the previous release, `APP-VERSION.patch`
 * with tufup's custom metadata. Pure with respect to the repository: reads the
 * bundle (and the previous archive), writes nothing.
 */
export async function buildRelease(options: BuildReleaseOptions): Promise<BuiltRelease> {
  const { dir, releaseTime, onProgress } = options;
  const app = options.app;
  const version = checkBuild(options);

  const { tar, files } = buildTar(dir, releaseTime, onProgress);
  const tarSha = sha256Hex(tar);
  onProgress?.({ stage: 'compress', done: 0, total: tar.length });
  // Compression runs on the thread pool while the patch is computed here.
  const threads = options.threads ?? defaultThreads();
  const gz = gzipDeterministic(tar, threads);
  gz.catch(() => undefined); // awaited below; avoid an unhandled rejection while the patch runs

  let patchResult: PatchResult | undefined;
  let patchSkipped: string | undefined;
  try {
    if (options.noPatch === true) patchSkipped = 'patches disabled (--no-patch)';
    else if (options.previous === undefined) patchSkipped = 'first release: nothing to patch from';
    else {
      const old = await previousTar(options.previous);
      patchResult = await bsdiff(old, tar, {
        oldRegions: tarRegions(old),
        newRegions: tarRegions(tar),
        onProgress,
        threads,
      });
    }
  } catch (error) {
    await gz.catch(() => undefined);
    throw error;
  }

  const archiveBytes = await gz;
  onProgress?.({ stage: 'compress', done: tar.length, total: tar.length });
  // Re-read what was written (practice 13): the archive must expand to exactly the tar.
  onProgress?.({ stage: 'verify', done: 0, total: archiveBytes.length });
  if ((await gunzipSha256(archiveBytes, MAX_TAR_BYTES)) !== tarSha)
    throw new TufsignError('INTERNAL', 'the archive does not expand to the tar that was built');
  onProgress?.({ stage: 'verify', done: archiveBytes.length, total: archiveBytes.length });

  onProgress?.({ stage: 'hash', done: 0, total: archiveBytes.length });
  const archive: BuiltFile = {
    name: archiveName(app, version.normalized),
    bytes: archiveBytes,
    targetFile: TargetFile.fromData(archiveBytes, archiveCustom(options.meta, options.required ?? false)),
  };
  onProgress?.({ stage: 'hash', done: archiveBytes.length, total: archiveBytes.length });

  let patch: BuiltRelease['patch'];
  if (patchResult !== undefined && options.previous !== undefined) {
    if (patchResult.patch.length > TUFUP_MAX_PATCH_RATIO * archiveBytes.length) {
      patchSkipped = tooLargePatch(patchResult.patch.length, archiveBytes.length);
    } else {
      const bytes = Buffer.from(patchResult.patch.buffer, patchResult.patch.byteOffset, patchResult.patch.byteLength);
      patch = {
        name: patchName(app, version.normalized),
        bytes,
        targetFile: TargetFile.fromData(bytes, patchCustom(tarSha, tar.length)),
        fromVersion: options.previous.version.normalized,
        stats: patchResult.stats,
      };
    }
  }
  return {
    app,
    version: version.normalized,
    archive,
    patch,
    patchSkipped,
    tar: { sha256: tarSha, size: tar.length, bytes: tar },
    files,
    releaseTime,
  };
}

export interface StreamedRelease {
  app: string;
  version: string;
  /** The archive, written to the file the caller named. */
  archive: { name: string; path: string; targetFile: TargetFile };
  tar: { sha256: string; size: number };
  files: number;
  releaseTime: number;
}

/**
 * An archive-only release (a first release, or `--no-patch`) streamed to
 * `archivePath`: the same bytes as `buildRelease`'s archive, in memory bounded
 * by a few gzip blocks per thread whatever the folder's size (ADR 0005).
 */
export async function buildArchiveRelease(
  options: Omit<BuildReleaseOptions, 'previous' | 'noPatch'> & { archivePath: string },
): Promise<StreamedRelease> {
  const { app, dir, releaseTime, onProgress } = options;
  const version = checkBuild(options);
  const streamed = await streamArchive({
    dir,
    releaseTime,
    path: options.archivePath,
    threads: options.threads ?? defaultThreads(),
    maxTarBytes: MAX_TAR_BYTES,
    onProgress,
  });
  const custom = archiveCustom(options.meta, options.required ?? false);
  return {
    app,
    version: version.normalized,
    archive: {
      name: archiveName(app, version.normalized),
      path: streamed.path,
      targetFile: TargetFile.fromDigests(streamed.length, streamed.hashes, custom),
    },
    tar: streamed.tar,
    files: streamed.files,
    releaseTime,
  };
}

/** A release file written by `buildReleaseFiles`: its target name, where it is, and its target info. */
export interface ReleaseFile {
  name: string;
  path: string;
  targetFile: TargetFile;
}

export interface FileRelease {
  app: string;
  version: string;
  archive: ReleaseFile;
  patch?: (ReleaseFile & { fromVersion: string; stats: PatchResult['stats'] }) | undefined;
  patchSkipped?: string | undefined;
  tar: { sha256: string; size: number };
  files: number;
  releaseTime: number;
}

/**
 * `buildRelease`'s archive and patch, written as files in `outDir` (the caller's staging folder) instead of
 * returned as buffers: the same bytes. Without a patch the archive streams from the folder (a few gzip blocks
 * held, whatever the folder's size); with one, the new tar is held for the patch engine and the archive is
 * gzipped from it to the file block by block, never held whole (ADR 0005, "Memory bound").
 */
export async function buildReleaseFiles(options: BuildReleaseOptions & { outDir: string }): Promise<FileRelease> {
  const { app, dir, releaseTime, onProgress } = options;
  const version = checkBuild(options);
  const threads = options.threads ?? defaultThreads();
  const archivePath = join(options.outDir, archiveName(app, version.normalized));
  const custom = archiveCustom(options.meta, options.required ?? false);
  if (options.noPatch === true || options.previous === undefined) {
    const streamed = await streamArchive({
      dir,
      releaseTime,
      path: archivePath,
      threads,
      maxTarBytes: MAX_TAR_BYTES,
      onProgress,
    });
    return {
      app,
      version: version.normalized,
      archive: {
        name: archiveName(app, version.normalized),
        path: archivePath,
        targetFile: TargetFile.fromDigests(streamed.length, streamed.hashes, custom),
      },
      patchSkipped: options.noPatch === true ? 'patches disabled (--no-patch)' : 'first release: nothing to patch from',
      tar: streamed.tar,
      files: streamed.files,
      releaseTime,
    };
  }
  const previous = options.previous;
  const { tar, files } = buildTar(dir, releaseTime, onProgress);
  const tarSha = sha256Hex(tar);
  onProgress?.({ stage: 'compress', done: 0, total: tar.length });
  // The archive is compressed on the thread pool, straight to its file, while the patch is computed here.
  const gz = gzipToFile({ tar, tarSha256: tarSha, path: archivePath, threads, maxTarBytes: MAX_TAR_BYTES });
  gz.catch(() => undefined); // awaited below; avoid an unhandled rejection while the patch runs
  let patchResult: PatchResult;
  try {
    const old = await previousTar(previous);
    patchResult = await bsdiff(old, tar, {
      oldRegions: tarRegions(old),
      newRegions: tarRegions(tar),
      onProgress,
      threads,
    });
  } catch (error) {
    await gz.catch(() => undefined);
    throw error;
  }
  const written = await gz;
  onProgress?.({ stage: 'compress', done: tar.length, total: tar.length });
  const archive: ReleaseFile = {
    name: archiveName(app, version.normalized),
    path: archivePath,
    targetFile: TargetFile.fromDigests(written.length, written.hashes, custom),
  };
  const result: FileRelease = {
    app,
    version: version.normalized,
    archive,
    tar: { sha256: tarSha, size: tar.length },
    files,
    releaseTime,
  };
  if (patchResult.patch.length > TUFUP_MAX_PATCH_RATIO * written.length) {
    result.patchSkipped = tooLargePatch(patchResult.patch.length, written.length);
    return result;
  }
  const name = patchName(app, version.normalized);
  const out = new AtomicFileWriter(join(options.outDir, name));
  try {
    out.write(patchResult.patch);
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  result.patch = {
    name,
    path: out.path,
    targetFile: TargetFile.fromData(patchResult.patch, patchCustom(tarSha, tar.length)),
    fromVersion: previous.version.normalized,
    stats: patchResult.stats,
  };
  return result;
}

function tooLargePatch(patchLength: number, archiveLength: number): string {
  return `the patch (${patchLength} bytes) is over ${TUFUP_MAX_PATCH_RATIO} of the archive (${archiveLength} bytes); tufup clients would download the archive anyway`;
}

export interface VerifyReleaseOptions {
  dir: string;
  /** The published archive. */
  archiveBytes: Uint8Array;
  archiveName?: string | undefined;
  onProgress?: ProgressCallback | undefined;
}

export interface ReleaseDifference {
  path: string;
  what: 'missing-in-folder' | 'missing-in-archive' | 'content' | 'mode' | 'type';
}

export interface VerifyReleaseResult {
  /** The rebuilt archive is byte-identical to the published one. */
  identical: boolean;
  /** The uncompressed tars are identical (the archive may differ only by the zlib build). */
  tarIdentical: boolean;
  releaseTime: number;
  published: { sha256: string; tarSha256: string };
  rebuilt: { sha256: string; tarSha256: string; tarSize: number; files: number };
  differences: ReleaseDifference[];
}

/**
 * Rebuild the archive from `dir` with the published archive's release time,
 * and compare byte for byte. The published archive is read with the strict tar
 * reader (BAD-48 … BAD-52), never extracted.
 */
export async function verifyRelease(options: VerifyReleaseOptions): Promise<VerifyReleaseResult> {
  const pubTar = gunzipBounded(options.archiveBytes, MAX_TAR_BYTES, options.archiveName);
  const pubEntries = readTar(pubTar);
  const releaseTime = pubEntries[0]?.mtime ?? 0;
  const { tar, files } = buildTar(options.dir, releaseTime, options.onProgress);
  const tarIdentical = Buffer.compare(tar, pubTar) === 0;
  const rebuiltArchive = await gzipDeterministic(tar);
  const identical = Buffer.compare(rebuiltArchive, Buffer.from(options.archiveBytes)) === 0;
  const differences = tarIdentical ? [] : diffEntries(pubTar, pubEntries, tar, readTar(tar));
  return {
    identical,
    tarIdentical,
    releaseTime,
    published: { sha256: sha256Hex(options.archiveBytes), tarSha256: sha256Hex(pubTar) },
    rebuilt: { sha256: sha256Hex(rebuiltArchive), tarSha256: sha256Hex(tar), tarSize: tar.length, files },
    differences,
  };
}

export interface ReleaseTarCheck {
  /** `dir` builds exactly the stored archive's tar. */
  tarIdentical: boolean;
  rebuilt: { tarSha256: string; tarSize: number; files: number };
  /** what differs, listed only when the tars differ */
  differences: ReleaseDifference[];
}

/**
 * Whether `dir` still builds the tar of the stored archive at `archivePath` (with that archive's release time):
 * the re-run check of add-release. Both tars are hashed as they stream, neither is held; only when they differ
 * (or the archive's first member is not a plain header) is the comparison redone in memory by `verifyRelease`,
 * to list the differences.
 */
export async function checkReleaseTar(options: {
  dir: string;
  archivePath: string;
  archiveName?: string | undefined;
  onProgress?: ProgressCallback | undefined;
}): Promise<ReleaseTarCheck> {
  const published = await archiveTarDigest(options.archivePath, MAX_TAR_BYTES);
  if (published.firstMtime !== undefined) {
    const rebuilt = await streamTarDigest({
      dir: options.dir,
      releaseTime: published.firstMtime,
      maxTarBytes: MAX_TAR_BYTES,
      onProgress: options.onProgress,
    });
    if (rebuilt.sha256 === published.sha256)
      return {
        tarIdentical: true,
        rebuilt: { tarSha256: rebuilt.sha256, tarSize: rebuilt.size, files: rebuilt.files },
        differences: [],
      };
  }
  const r = await verifyRelease({
    dir: options.dir,
    archiveBytes: readFileBounded(options.archivePath, MAX_TAR_BYTES),
    archiveName: options.archiveName,
    onProgress: options.onProgress,
  });
  return { tarIdentical: r.tarIdentical, rebuilt: r.rebuilt, differences: r.differences };
}

function diffEntries(aTar: Uint8Array, a: TarEntry[], bTar: Uint8Array, b: TarEntry[]): ReleaseDifference[] {
  const out: ReleaseDifference[] = [];
  const bm = new Map(b.map((e) => [e.path, e]));
  for (const e of a) {
    const o = bm.get(e.path);
    if (o === undefined) out.push({ path: e.path, what: 'missing-in-folder' });
    else if (o.type !== e.type) out.push({ path: e.path, what: 'type' });
    else if (
      o.size !== e.size ||
      Buffer.compare(aTar.subarray(e.offset, e.offset + e.size), bTar.subarray(o.offset, o.offset + o.size)) !== 0
    )
      out.push({ path: e.path, what: 'content' });
    else if (o.mode !== e.mode) out.push({ path: e.path, what: 'mode' });
    bm.delete(e.path);
  }
  for (const p of bm.keys()) out.push({ path: p, what: 'missing-in-archive' });
  return out;
}
