/** Release archives and patches (tufup-compatible). Pure core: no printing, no signing. */
export {
  buildRelease,
  buildArchiveRelease,
  buildReleaseFiles,
  checkReleaseTar,
  buildTar,
  verifyRelease,
  releaseTimeFrom,
  MAX_TAR_BYTES,
  TUFUP_MAX_PATCH_RATIO,
} from './build';
export type {
  BuildReleaseOptions,
  BuiltRelease,
  BuiltFile,
  StreamedRelease,
  FileRelease,
  ReleaseFile,
  ReleaseTarCheck,
  PreviousRelease,
  VerifyReleaseOptions,
  VerifyReleaseResult,
  ReleaseDifference,
} from './build';
export { listReleases, latestRelease, releasedVersions, type ReleaseInfo } from './list';
export { archiveCustom, patchCustom, readTufupCustom, type TufupCustom } from './custom';
export {
  parseVersion,
  checkReleaseVersion,
  compareVersions,
  compareVersionStrings,
  channelOf,
  channelIncludes,
  checkAppName,
  archiveName,
  patchName,
  parseTargetName,
  type Pep440Version,
  type ReleaseVersion,
  type Channel,
} from './version';
export { bsdiff, type PatchResult } from './bsdiff';
export { bzip2 } from './bzip2';
export { readTar, tarRegions, type TarEntry } from './tar';
export { scanBundle } from './scan';
export { checkMemberName } from '../tuf/paths';
export type { Progress, ProgressCallback, ReleaseStage } from './progress';
