/**
 * A tufsign workspace on disk:
 *   tufsign.json            config (names, key locations, expiry policy)
 *   metadata/               signed metadata as published: N.root.json + root.json,
 *                           N.targets.json / N.snapshot.json when consistent snapshots are on,
 *                           timestamp.json unversioned
 *   targets/                target files (hash-prefixed names when consistent)
 *   keys/                   encrypted key files, 0600
 *   .staging/               a running add-release's archive and patch, until its commit moves them to targets/
 */
import { join, resolve, dirname, basename } from 'node:path';
import { TufsignError } from '../errors';
import { ensureDir, fileExists, listNames, readFileBounded, writeFileAtomic } from '../io/fs';
import { WriteOnce } from '../io/write-once';
import { stringifyPretty } from '../tuf/json';
import { Metadata, Snapshot, type Root, type Targets, type Timestamp, type TopLevelRole } from '../tuf/metadata';
import { snapshotPretty } from '../tuf/snapshot-text';
import { metadataFileName, rootFileName, targetFileNames } from '../tuf/naming';
import { CONFIG_FILE, parseConfig, serializeConfig, type WorkspaceConfig } from './config';

export const METADATA_DIR = 'metadata';
export const TARGETS_DIR = 'targets';
export const KEYS_DIR = 'keys';
/** Files a running add-release builds (the archive, the patch) until its commit moves them into targets/. */
export const STAGING_DIR = '.staging';
/** Key files of offline roles that init generated: to be moved to the keyholders (ADR 0011). */
export const OFFLINE_KEYS_DIR = 'offline-keys';

// The spec's naming rules live in src/tuf; re-exported here for the workspace's callers.
export { metadataFileName, targetFileNames };

export function serializeMetadata(md: Metadata): string {
  // A 16,384-bin snapshot's entries are written without building an object each (same bytes).
  const snapshot = md.signed instanceof Snapshot ? snapshotPretty(md as Metadata<Snapshot>) : undefined;
  return snapshot ?? stringifyPretty(md.toJSON());
}

/** How `serializeMetadata` begins for metadata with no signatures and no unknown field sorting before them. */
const UNSIGNED_HEAD = '{\n  "signatures": [],\n';

/**
 * `serializeMetadata(md)` for `md` just signed, given `unsigned`, its text before signing (no signatures, the
 * same `signed`): only the signatures are rendered, the signed part (a 16,384-entry snapshot) is not written
 * again. Any other layout falls back to the full serialization.
 */
export function serializeSignedFrom(unsigned: string, md: Metadata): string {
  if (!unsigned.startsWith(UNSIGNED_HEAD)) return serializeMetadata(md);
  const sigs = stringifyPretty({ signatures: [...md.signatures.values()].map((s) => s.toJSON()) });
  // '{\n  "signatures": [ … ]\n}\n' → '{\n  "signatures": [ … ],\n', then the signed part as it was
  return sigs.slice(0, sigs.length - '\n}\n'.length) + ',\n' + unsigned.slice(UNSIGNED_HEAD.length);
}

export interface LoadedRepository {
  root: Metadata<Root>;
  targets: Metadata<Targets>;
  snapshot: Metadata<Snapshot>;
  timestamp: Metadata<Timestamp>;
}

export class Workspace {
  constructor(
    readonly dir: string,
    public config: WorkspaceConfig,
  ) {}

  static configPath(dir: string): string {
    return join(dir, CONFIG_FILE);
  }

  static exists(dir: string): boolean {
    return fileExists(Workspace.configPath(dir));
  }

  static open(dir: string): Workspace {
    const abs = resolve(dir);
    const file = Workspace.configPath(abs);
    if (!fileExists(file)) {
      throw new TufsignError('WORKSPACE_NOT_FOUND', `${abs} is not a tufsign workspace (no ${CONFIG_FILE})`, {
        file,
        suggestion: 'Create one with `tufsign init -w DIR`, or name an existing one with -w DIR.',
      });
    }
    return new Workspace(abs, parseConfig(readFileBounded(file), file));
  }

  get metadataDir(): string {
    return join(this.dir, METADATA_DIR);
  }
  get targetsDir(): string {
    return join(this.dir, TARGETS_DIR);
  }
  /** Large files built before their commit (release archives), moved into targets/ by it: same filesystem. */
  get stagingDir(): string {
    return join(this.dir, STAGING_DIR);
  }

  saveConfig(): void {
    writeFileAtomic(Workspace.configPath(this.dir), serializeConfig(this.config));
  }

  /** Highest N with metadata/N.root.json present. */
  latestRootVersion(): number {
    let max = 0;
    for (const e of listNames(this.metadataDir)) {
      const m = /^([1-9][0-9]*)\.root\.json$/.exec(e);
      if (m?.[1] !== undefined) max = Math.max(max, Number(m[1]));
    }
    return max;
  }

  readMetadataFile<R extends TopLevelRole>(
    fileName: string,
    role: R,
  ): Metadata<Extract<Root | Targets | Snapshot | Timestamp, { type: R }>> {
    const path = join(this.metadataDir, fileName);
    // Published history is read as it was signed: only the legacy keyids recorded at import are accepted here.
    const legacy = new Set(this.config.legacyKeyids ?? []);
    return Metadata.fromBytes(readFileBounded(path), path, role, {
      allowLegacyKeyids: legacy,
      allowLegacyExpires: role === 'root',
    });
  }

  hasMetadataFile(fileName: string): boolean {
    return fileExists(join(this.metadataDir, fileName));
  }

  loadRoot(version?: number): Metadata<Root> {
    const v = version ?? this.latestRootVersion();
    if (v === 0)
      throw new TufsignError('WORKSPACE_NOT_FOUND', `no root metadata in ${this.metadataDir}`, {
        suggestion: 'Run `tufsign init`.',
      });
    return this.readMetadataFile(rootFileName(v), 'root');
  }

  /** Load the current top-level metadata, following timestamp → snapshot → targets. */
  load(root: Metadata<Root> = this.loadRoot()): LoadedRepository {
    const consistent = root.signed.consistentSnapshot === true;
    const timestamp = this.readMetadataFile('timestamp.json', 'timestamp');
    const snapshot = this.readMetadataFile(
      metadataFileName('snapshot', timestamp.signed.snapshotMeta.version, consistent),
      'snapshot',
    );
    const targetsMeta = snapshot.signed.meta.get('targets.json');
    const targets = this.readMetadataFile(
      metadataFileName('targets', targetsMeta?.version ?? 1, consistent),
      'targets',
    );
    return { root, targets, snapshot, timestamp };
  }

  /** Write one metadata file atomically; root also refreshes `root.json`. Returns the paths written. */
  writeMetadata(md: Metadata, consistent: boolean): string[] {
    const text = serializeMetadata(md);
    const name = metadataFileName(md.signed.type, md.signed.version, consistent);
    const written = [join(this.metadataDir, name)];
    writeFileAtomic(written[0] ?? '', text);
    if (md.signed.type === 'root') {
      const latest = join(this.metadataDir, 'root.json');
      writeFileAtomic(latest, text);
      written.push(latest);
    }
    return written;
  }

  /** Store target bytes under every name a client may request. */
  writeTarget(path: string, data: Uint8Array, hashes: ReadonlyMap<string, string>, consistent: boolean): string[] {
    const once = new WriteOnce();
    return targetFileNames(path, hashes, consistent).map((name) => {
      const full = join(this.targetsDir, name);
      ensureDir(dirname(full));
      once.write(full, data);
      return full;
    });
  }

  relative(path: string): string {
    return path.startsWith(this.dir + '/') ? path.slice(this.dir.length + 1) : path;
  }
}

export function defaultRepositoryName(dir: string): string {
  return basename(resolve(dir)) || 'tuf-repository';
}
