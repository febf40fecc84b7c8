/** Releases as tufup sees them in a `Targets` object. */
import type { Targets, TargetFile } from '../tuf/metadata';
import type { JsonValue } from '../tuf/json';
import { readTufupCustom } from './custom';
import { channelOf, compareVersions, parseTargetName, type Channel, type Pep440Version } from './version';

export interface ReleaseInfo {
  app: string;
  version: string;
  channel: Channel;
  archive?:
    { path: string; length: number; required: boolean; user: JsonValue | null; targetFile: TargetFile } | undefined;
  patch?:
    | { path: string; length: number; tarSize: number | undefined; tarHash: string | undefined; targetFile: TargetFile }
    | undefined;
}

/** All releases (optionally of one app), oldest first, ordered as PEP 440. */
export function listReleases(targets: Targets, app?: string): ReleaseInfo[] {
  return collectReleases(targets, app).map(({ parsed: _parsed, ...rest }) => rest);
}

/** Target names are parsed here, once; the parsed version travels with the release. */
function collectReleases(targets: Targets, app?: string): (ReleaseInfo & { parsed: Pep440Version })[] {
  const byKey = new Map<string, ReleaseInfo & { parsed: Pep440Version }>();
  for (const [path, tf] of targets.targets) {
    const parsed = parseTargetName(path);
    if (parsed === undefined || (app !== undefined && parsed.app !== app)) continue;
    const key = `${parsed.app}\0${parsed.version.normalized}`;
    let info = byKey.get(key);
    if (info === undefined) {
      info = {
        app: parsed.app,
        version: parsed.version.normalized,
        channel: channelOf(parsed.version),
        parsed: parsed.version,
      };
      byKey.set(key, info);
    }
    const custom = readTufupCustom(tf);
    if (parsed.kind === 'archive') {
      info.archive = {
        path,
        length: tf.length,
        required: custom.tufup['required'] === true,
        user: custom.user,
        targetFile: tf,
      };
    } else {
      const size = custom.tufup['tar_size'];
      const hash = custom.tufup['tar_hash'];
      info.patch = {
        path,
        length: tf.length,
        tarSize: typeof size === 'number' ? size : undefined,
        tarHash: typeof hash === 'string' ? hash : undefined,
        targetFile: tf,
      };
    }
  }
  return [...byKey.values()].sort((a, b) =>
    a.app < b.app ? -1 : a.app > b.app ? 1 : compareVersions(a.parsed, b.parsed),
  );
}

/** Every version of `app` present in targets (archives and patches), for the "newer than all" check. */
export function releasedVersions(targets: Targets, app: string): Pep440Version[] {
  return collectReleases(targets, app).map((r) => r.parsed);
}

/**
 * The release a new patch starts from: tufup patches from the highest version
 * with an archive in targets, pre-releases included.
 */
export function latestRelease(targets: Targets, app: string): (ReleaseInfo & { parsed: Pep440Version }) | undefined {
  const withArchive = collectReleases(targets, app).filter((r) => r.archive !== undefined);
  return withArchive[withArchive.length - 1];
}
