/**
 * Build a tufup-compatible release (archive, patch, target info) from a bundle
 * folder, without touching the repository; and check a published archive by
 * rebuilding it.
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { TufsignError } from '../errors';
import { makePrivateTempDir, readFileBounded, removeFileQuietly, removeTree } from '../io/fs';
import { sha256Hex } from '../io/hash';
import { AtomicFileWriter, readPieces } from '../io/stream-file';
import { TargetFile } from '../tuf/metadata';
import type { JsonValue } from '../tuf/json';
import { bsdiff, type PatchResult } from './bsdiff';
import { defaultThreads } from './workers';
import { archiveCustom, patchCustom } from './custom';
import {
  archiveTarDigest,
  expandArchiveTo,
  readArchiveDigest,
  rebuildArchiveDigest,
  scanBounded,
  streamArchive,
  streamArchiveUnchecked,
  streamTarDigest,
} from './archive-stream';
import { FileSource, memorySource, type ByteSource } from './source';
import { gunzipBounded, gunzipShared } from './gzip';
import type { ProgressCallback } from './progress';
import { readBundleFiles } from './scan';
import { tarRegions, writeTarHeaders, type TarMemberDigest } from './tar';
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
  const { members, layout } = scanBounded(dir, MAX_TAR_BYTES, onProgress);
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

/**
 * The previous tar for the patch engine: in memory when the caller has it (library use), else its archive expanded
 * to `tarPath` and read from there a member at a time. The archive must match its signed target info first.
 */
async function previousTarSource(prev: PreviousRelease, tarPath: string, shared: boolean): Promise<ByteSource> {
  if (prev.tarBytes !== undefined) return memorySource(prev.tarBytes, shared);
  const want =
    prev.targetFile === undefined
      ? undefined
      : { length: prev.targetFile.length, sha256: prev.targetFile.hashes.get('sha256') };
  if (prev.archiveBytes !== undefined) {
    const archive = prev.archiveBytes;
    if (
      want !== undefined &&
      (archive.length !== want.length || (want.sha256 !== undefined && sha256Hex(archive) !== want.sha256))
    )
      throw new TufsignError('ARCHIVE_INVALID', `the previous release archive does not match its signed target info`, {
        file: prev.archivePath,
        rule: 'patch only from the bytes clients have',
        suggestion: 'restore the published archive, or use --no-patch',
      });
    return memorySource(await gunzipShared(archive, MAX_TAR_BYTES, prev.archivePath), shared);
  }
  if (prev.archivePath === undefined)
    throw new TufsignError('INTERNAL', 'previous release given without its archive or tar');
  await expandArchiveTo({ path: prev.archivePath, tarPath, maxTarBytes: MAX_TAR_BYTES, want });
  return new FileSource(tarPath);
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
 * with tufup's custom metadata, returned as buffers (library use; the CLI writes
 * them as files with `buildReleaseFiles`, which this runs in a temporary folder,
 * so both give the same bytes). Pure with respect to the repository: reads the
 * bundle (and the previous archive), writes nothing outside that folder.
 */
export async function buildRelease(options: BuildReleaseOptions): Promise<BuiltRelease> {
  const outDir = makePrivateTempDir('tufsign-release-');
  try {
    const built = await buildReleaseFiles({ ...options, outDir });
    const read = (f: ReleaseFile): BuiltFile => ({
      name: f.name,
      bytes: readFileBounded(f.path, MAX_TAR_BYTES),
      targetFile: f.targetFile,
    });
    const tarBytes = gunzipBounded(readFileBounded(built.archive.path, MAX_TAR_BYTES), MAX_TAR_BYTES);
    return {
      app: built.app,
      version: built.version,
      archive: read(built.archive),
      patch:
        built.patch === undefined
          ? undefined
          : { ...read(built.patch), fromVersion: built.patch.fromVersion, stats: built.patch.stats },
      patchSkipped: built.patchSkipped,
      tar: { ...built.tar, bytes: tarBytes },
      files: built.files,
      releaseTime: built.releaseTime,
    };
  } finally {
    removeTree(outDir);
  }
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
 * The release's archive and patch, written as files in `outDir` (the caller's staging folder). The archive
 * streams from the folder (a few gzip blocks held, whatever the folder's size). With a patch, the previous
 * archive is expanded to a scratch tar in `outDir` and the new tar is copied there as it streams; the patch
 * engine reads both a job's members at a time, so neither tar is held whole (ADR 0005, "Memory bound").
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
  const name = patchName(app, version.normalized);
  // Scratch copies of both tars, read a member at a time by the patch engine; removed whatever happens.
  const oldTarPath = join(options.outDir, `.${name}.old-tar.tmp`);
  const newTarPath = join(options.outDir, `.${name}.new-tar.tmp`);
  let oldTar: ByteSource | undefined;
  let newTar: FileSource | undefined;
  // The new archive's read-back check (and its commit), run on while the patch is computed.
  let checked: Promise<void> | undefined;
  try {
    // The previous archive is expanded while the new one streams (its gunzip and the new gzip share the cores).
    // Its check is reported first: a previous archive that does not match its signed target info stops the
    // build whatever the folder holds, once the folder's stream has stopped.
    const expanding = previousTarSource(previous, oldTarPath, threads > 1);
    expanding.catch(() => undefined); // awaited below
    const streaming = streamArchiveUnchecked({
      dir,
      releaseTime,
      path: archivePath,
      threads,
      maxTarBytes: MAX_TAR_BYTES,
      tarCopy: newTarPath,
      onProgress,
    });
    streaming.catch(() => undefined); // awaited below
    try {
      oldTar = await expanding;
    } catch (e) {
      const s = await streaming.catch(() => undefined);
      await s?.checked.catch(() => undefined);
      removeFileQuietly(archivePath); // nothing is left of a build that stopped
      throw e;
    }
    const { archive: streamed, checked: check } = await streaming;
    checked = check;
    newTar = new FileSource(newTarPath);
    const patchResult = await bsdiff(oldTar, newTar, {
      oldRegions: tarRegions(oldTar),
      newRegions: tarRegions(newTar),
      onProgress,
      threads,
    });
    await checked;
    const result: FileRelease = {
      app,
      version: version.normalized,
      archive: {
        name: archiveName(app, version.normalized),
        path: archivePath,
        targetFile: TargetFile.fromDigests(streamed.length, streamed.hashes, custom),
      },
      tar: streamed.tar,
      files: streamed.files,
      releaseTime,
    };
    if (patchResult.patch.length > TUFUP_MAX_PATCH_RATIO * streamed.length) {
      result.patchSkipped = tooLargePatch(patchResult.patch.length, streamed.length);
      return result;
    }
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
      targetFile: TargetFile.fromData(patchResult.patch, patchCustom(streamed.tar.sha256, streamed.tar.size)),
      fromVersion: previous.version.normalized,
      stats: patchResult.stats,
    };
    return result;
  } finally {
    // Whatever happened, the archive's check has ended (committed or removed) before the caller sees the folder.
    await checked?.catch(() => undefined);
    if (oldTar instanceof FileSource) oldTar.close();
    newTar?.close();
    removeFileQuietly(oldTarPath);
    removeFileQuietly(newTarPath);
  }
}

function tooLargePatch(patchLength: number, archiveLength: number): string {
  return `the patch (${patchLength} bytes) is over ${TUFUP_MAX_PATCH_RATIO} of the archive (${archiveLength} bytes); tufup clients would download the archive anyway`;
}

export interface VerifyReleaseOptions {
  dir: string;
  /** The published archive: a file, read in pieces (`release verify`), or its bytes. Exactly one. */
  archivePath?: string | undefined;
  archiveBytes?: Uint8Array | undefined;
  archiveName?: string | undefined;
  /** gzip blocks compressed at once (default every core); the result does not depend on it */
  threads?: number | undefined;
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
 * reader (BAD-48 … BAD-52), never extracted. Neither archive nor tar is held:
 * both sides are hashed as they stream, member by member, so the differences
 * are listed from the members' hashes (ADR 0005, "Memory bound").
 */
export async function verifyRelease(options: VerifyReleaseOptions): Promise<VerifyReleaseResult> {
  const { archivePath, archiveBytes } = options;
  if ((archivePath === undefined) === (archiveBytes === undefined))
    throw new TufsignError('INTERNAL', 'verifyRelease takes an archive path or its bytes');
  const input = archivePath !== undefined ? readPieces(archivePath) : Readable.from([Buffer.from(archiveBytes!)]);
  const published = await readArchiveDigest(input, MAX_TAR_BYTES, options.archiveName ?? archivePath);
  const releaseTime = published.members[0]?.mtime ?? 0;
  const rebuilt = await rebuildArchiveDigest({
    dir: options.dir,
    releaseTime,
    threads: options.threads ?? defaultThreads(),
    maxTarBytes: MAX_TAR_BYTES,
    onProgress: options.onProgress,
  });
  const tarIdentical = rebuilt.tarSize === published.tarSize && rebuilt.tarSha256 === published.tarSha256;
  return {
    identical: rebuilt.length === published.length && rebuilt.sha256 === published.sha256,
    tarIdentical,
    releaseTime,
    published: { sha256: published.sha256, tarSha256: published.tarSha256 },
    rebuilt: { sha256: rebuilt.sha256, tarSha256: rebuilt.tarSha256, tarSize: rebuilt.tarSize, files: rebuilt.files },
    differences: tarIdentical ? [] : diffMembers(published.members, rebuilt.members),
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
    archivePath: options.archivePath,
    archiveName: options.archiveName,
    onProgress: options.onProgress,
  });
  return { tarIdentical: r.tarIdentical, rebuilt: r.rebuilt, differences: r.differences };
}

function diffMembers(a: readonly TarMemberDigest[], b: readonly TarMemberDigest[]): ReleaseDifference[] {
  const out: ReleaseDifference[] = [];
  const bm = new Map(b.map((e) => [e.path, e]));
  for (const e of a) {
    const o = bm.get(e.path);
    if (o === undefined) out.push({ path: e.path, what: 'missing-in-folder' });
    else if (o.type !== e.type) out.push({ path: e.path, what: 'type' });
    else if (o.size !== e.size || o.sha256 !== e.sha256) out.push({ path: e.path, what: 'content' });
    else if (o.mode !== e.mode) out.push({ path: e.path, what: 'mode' });
    bm.delete(e.path);
  }
  for (const p of bm.keys()) out.push({ path: p, what: 'missing-in-archive' });
  return out;
}
