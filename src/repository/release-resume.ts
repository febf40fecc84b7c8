/**
 * `add-release` re-run after a kill (ADR 0007, "Re-runs after a kill").
 *
 * The metadata naming a release is committed before its bundle is written, so a run killed in between leaves a
 * release in signed targets whose bundle is missing or has no tarball yet. The re-run recognises the release
 * (same APP VERSION, the folder rebuilds to the signed archive) and finishes the bundle from the workspace
 * instead of refusing with RELEASE_NOT_NEWER; leftovers of the killed bundle write are replaced, never an error.
 */
import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { TufsignError } from '../errors';
import { fileExists, listNames, removeTree } from '../io/fs';
import {
  buildBundle,
  bundleFormatOf,
  checkBundleManifest,
  streamTarGz,
  writeBundle,
  type ManifestFile,
  type WrittenBundle,
} from '../bundle';
import type { ProgressCallback, ReleaseInfo } from '../release';
import type { TopLevelRole } from '../tuf/metadata';
import { baseRootOf, collectBundleFiles } from './bundle-files';
import { targetFileNames, Workspace } from './workspace';
import { fileDigest } from '../io/tree';

export interface FinishedBundle extends WrittenBundle {
  files: ManifestFile[];
  /** `complete`: it was already there; `rebuilt`: written again */
  state: 'complete' | 'rebuilt';
  /**
   * The bundle has the base of the run that added the release, so its bytes are the ones that run would have
   * written (consistent snapshots, release still the newest change); otherwise it is a superset: everything
   * since the targets version before the release.
   */
  exact: boolean;
}

/** The default bundle folder of a release: WORKSPACE/bundles/APP-VERSION. */
export function defaultReleaseBundleDir(ws: Workspace, app: string, version: string): string {
  return join(ws.dir, 'bundles', `${app}-${version}`);
}

/**
 * Leftovers of a bundle write that was killed, beside the bundle: staging folders (`.NAME.staging-*`) of a
 * folder bundle, and the temp file (`.NAME.HEX.tmp`) of a `.tar.gz` bundle's atomic write.
 */
export function clearBundleStaging(bundleDir: string): void {
  const dir = resolve(bundleDir);
  const prefix = `.${basename(dir)}.`;
  for (const n of listNames(dirname(dir))) {
    if (!n.startsWith(prefix)) continue;
    const rest = n.slice(prefix.length);
    if (rest.startsWith('staging-') || /^[0-9a-f]{12}\.tmp$/.test(rest)) removeTree(join(dirname(dir), n));
  }
}

/** The bundle of the commit that added `archivePath`, rebuilt from the workspace. */
function releaseBundle(ws: Workspace, archivePath: string): ReturnType<typeof buildBundle> & { exact: boolean } {
  const repo = ws.load();
  const consistent = repo.root.signed.consistentSnapshot === true;
  const t = repo.targets.signed.version;
  // The targets version that first listed the archive (only consistent snapshots keep older versions).
  let added = t;
  while (
    consistent &&
    added > 1 &&
    ws.hasMetadataFile(`${added - 1}.targets.json`) &&
    ws.readMetadataFile(`${added - 1}.targets.json`, 'targets').signed.targets.has(archivePath)
  )
    added -= 1;
  const exact = consistent && added === t;
  // add-release moves targets, snapshot and timestamp one version each; root does not change.
  const base: Partial<Record<TopLevelRole, number>> = exact
    ? {
        root: repo.root.signed.version,
        targets: t - 1,
        snapshot: repo.snapshot.signed.version - 1,
        timestamp: repo.timestamp.signed.version - 1,
      }
    : { root: repo.root.signed.version, targets: added - 1 };
  return {
    ...buildBundle({ repository: ws.config.name, base, ...baseRootOf(ws, base), files: collectBundleFiles(ws, base) }),
    exact,
  };
}

/**
 * Make sure the bundle of a release already in signed targets is complete at `out` (a folder, or a `.tar.gz`
 * written atomically): keep a complete one that lists the release, or rebuild it. Something else there is
 * replaced only in the workspace's own `bundles/` folder; a path the operator named with --bundle-out is never
 * removed.
 */
export async function finishReleaseBundle(
  ws: Workspace,
  out: string,
  release: ReleaseInfo,
  onProgress?: ProgressCallback,
): Promise<FinishedBundle> {
  const archive = release.archive;
  if (archive === undefined) throw new Error('finishReleaseBundle: a release without an archive');
  const path = resolve(out);
  const format = bundleFormatOf(out);
  clearBundleStaging(path);
  const built = releaseBundle(ws, archive.path);
  const done = (state: FinishedBundle['state'], files: ManifestFile[], exact: boolean): FinishedBundle => ({
    path,
    format,
    files,
    state,
    exact,
  });
  if (fileExists(path)) {
    if (format === 'tar.gz') {
      // written atomically: complete, and ours when it is byte for byte the rebuilt bundle (both hashed in pieces)
      const rebuilt = createHash('sha256');
      let length = 0;
      await streamTarGz(built.entries, (piece) => {
        rebuilt.update(piece);
        length += piece.length;
      });
      const there = fileDigest(path);
      if (there?.length === length && there.sha256 === rebuilt.digest('hex'))
        return done('complete', built.manifest.files, built.exact);
    } else {
      const checked = await checkBundleManifest(path);
      const consistent = ws.loadRoot().signed.consistentSnapshot === true;
      const names = targetFileNames(archive.path, archive.targetFile.hashes, consistent).map((n) => `targets/${n}`);
      if (checked.report.ok && checked.manifest?.files.some((f) => names.includes(f.path)) === true)
        return done('complete', checked.manifest.files, true);
    }
  }
  const own = dirname(path) === join(ws.dir, 'bundles');
  if (!own && fileExists(path)) {
    throw new TufsignError('IO_ERROR', `${path} exists and is not the complete bundle of this release`, {
      file: path,
      rule: 'never overwrite a bundle the operator named',
      suggestion: 'Remove it or choose another --bundle-out path; the re-run then writes the bundle there.',
    });
  }
  removeTree(path);
  await writeBundle(path, built.entries, onProgress);
  return done('rebuilt', built.manifest.files, built.exact);
}
