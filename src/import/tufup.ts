/**
 * tufup (tufup.repo.Repository): `.tufup-repo-config` beside `repository/`
 * (metadata/ and targets/) and a `keystore/` of securesystemslib key files
 * (private = key name, public = NAME.pub). consistent_snapshot is false;
 * roots are kept as N.root.json plus root.json.
 */
import { join, resolve } from 'node:path';
import { fileExists, readFileBounded } from '../io/fs';
import { isJsonObject, parseJson } from '../tuf/json';
import { filesIn, isDir, listDir, versionedRoots, type SourceKeyFile, type SourceLayout } from './source';

export const TUFUP_CONFIG = '.tufup-repo-config';

function readConfig(dir: string): Record<string, unknown> | undefined {
  const file = join(dir, TUFUP_CONFIG);
  if (!fileExists(file)) return undefined;
  const value = parseJson(readFileBounded(file, 1024 * 1024), file);
  return isJsonObject(value) ? value : undefined;
}

export function detectTufup(dir: string): boolean {
  return (
    fileExists(join(dir, TUFUP_CONFIG)) || (isDir(join(dir, 'repository', 'metadata')) && isDir(join(dir, 'keystore')))
  );
}

export function tufupLayout(dir: string, keystore?: string): SourceLayout {
  const config = readConfig(dir) ?? {};
  const str = (k: string): string | undefined => (typeof config[k] === 'string' ? config[k] : undefined);
  const repoDir = resolve(dir, str('repo_dir') ?? 'repository');
  const keysDir = resolve(dir, keystore ?? str('keys_dir') ?? 'keystore');
  const metadataDir = join(repoDir, 'metadata');
  const notes: string[] = [];
  const keyFiles: SourceKeyFile[] = [];
  for (const name of listDir(keysDir)) {
    // private key files are the key names without extension; NAME.pub are the public halves
    if (name.includes('.') || !isDir(keysDir) || isDir(join(keysDir, name))) continue;
    keyFiles.push({ name, file: join(keysDir, name), kind: 'securesystemslib' });
  }
  if (!isDir(keysDir)) notes.push(`no keystore at ${keysDir}: every key is imported public-only`);
  const layout: SourceLayout = {
    format: 'tufup',
    metadataDir,
    rootFiles: versionedRoots(metadataDir),
    metadataFile: filesIn(metadataDir),
    targetsDir: join(repoDir, 'targets'),
    keyFiles,
    notes,
  };
  if (fileExists(join(metadataDir, 'root.json'))) layout.latestRootFile = join(metadataDir, 'root.json');
  const app = str('app_name');
  if (app !== undefined) {
    layout.app = app;
    layout.name = app;
  }
  const days = config['expiration_days'];
  if (days !== null && typeof days === 'object') {
    const expiry: SourceLayout['expiry'] = {};
    for (const role of ['root', 'targets', 'snapshot', 'timestamp'] as const) {
      const d = (days as Record<string, unknown>)[role];
      if (typeof d === 'number' && Number.isSafeInteger(d) && d > 0) expiry[role] = `${d}d`;
    }
    layout.expiry = expiry;
  }
  return layout;
}
