/**
 * `tufsign init DIR --import SOURCE`: turn an existing TUF repository (tufup,
 * python-tuf, tuf-on-ci, go-tuf v0) into a tufsign workspace without changing
 * anything a client has already seen. Published metadata is copied byte for
 * byte (every root version as N.root.json), target files are copied after
 * their hashes are checked, private keys the source keeps in files are
 * converted to encrypted PKCS#8 under a new passphrase, every other key is
 * recorded public-only. The source is verified first as a client would;
 * anything wrong refuses the whole import and nothing is written.
 */
import { sha256Hex } from '../io/hash';
import { createHash, createPublicKey } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { TufsignError } from '../errors';
import { ensureDir, fileExists, isNonEmptyDir, readFileBounded } from '../io/fs';
import type { SecretsHandler } from '../keystore/signer';
import { parseConfiguredKeyRef } from '../keystore/key-ref';
import { checkNewPassphrase, encryptPrivateKey } from '../keystore/file/pkcs8';
import {
  DEFAULT_EXPIRY,
  DEFAULT_MAX_EXPIRY,
  DEFAULT_MIN_VALIDITY,
  serializeConfig,
  type KeyEntry,
  type RolePeriods,
  type WorkspaceConfig,
} from '../repository/config';
import { FIX_KEYIDS_COMMAND } from '../repository/keyid-gate';
import { commitFiles, type PendingFile } from '../repository/transaction';
import { directorySource } from '../verify/sources';
import { verifyRepository, type RepositorySource, type VerifyReport } from '../verify/verify';
import {
  metadataFileName,
  targetFileNames,
  Workspace,
  METADATA_DIR,
  TARGETS_DIR,
  KEYS_DIR,
} from '../repository/workspace';
import { latestRelease } from '../release';
import { keyFromPublicKeyObject, type Key } from '../tuf/key';
import { keyidProblems, type KeyidProblem } from '../tuf/keyids';
import { HISTORY_PARSE, Metadata, TOP_LEVEL_ROLES, type Root, type Targets } from '../tuf/metadata';
import { parseTargetPath } from '../tuf/paths';
import { formatExpires, parsePeriod } from '../tuf/time';
import { detectGoTufV0, goTufV0Layout } from './go-tuf-v0';
import { readSourceKeyFile, needsPassphrase } from './keyfiles';
import { detectPythonTuf, pythonTufLayout } from './python-tuf';
import { isDir, type ImportFormat, type SourceLayout } from './source';
import { detectTufOnCi, tufOnCiLayout } from './tuf-on-ci';
import { detectTufup, tufupLayout } from './tufup';

export { IMPORT_FORMATS, isImportFormat, type ImportFormat } from './source';

const MAX_METADATA = 16 * 1024 * 1024;
const MAX_TARGET = 4 * 1024 * 1024 * 1024;

export interface ImportOptions {
  /** the new workspace */
  dir: string;
  /** the existing repository folder */
  source: string;
  format: ImportFormat | 'auto';
  dryRun: boolean;
  /** import even when target files are absent (listed, never silent) */
  skipMissingTargets: boolean;
  name?: string;
  now: Date;
  secrets: SecretsHandler;
  /** the verify report names files relative to this folder (the CLI's working directory); else as joined */
  shownFrom?: string;
}

export interface ImportedKey {
  keyid: string;
  roles: string[];
  scheme: string;
  /** file:keys/NAME.pem for converted keys; null for public-only */
  uri: string | null;
  /** the source file the private part came from */
  from?: string;
  owner?: string;
}

export interface ImportReport {
  format: ImportFormat;
  source: string;
  workspace: string;
  dryRun: boolean;
  rootVersions: number[];
  roles: { role: string; version: number; expires: string; file: string }[];
  keys: ImportedKey[];
  /** keyids a strict client recomputes differently (kept: they are published already) */
  legacyKeyids: KeyidProblem[];
  targets: { count: number; copied: number; missing: string[] };
  release?: { app: string; latest: string | null; next: string };
  notes: string[];
  warnings: string[];
  written: string[];
  /** verification of the new workspace (of the source, on a dry run) */
  verify: VerifyReport;
  /** what to run next */
  next: string[];
}

function refuse(
  message: string,
  context: { file?: string; rule: string; suggestion?: string; details?: Record<string, unknown> },
): never {
  throw new TufsignError('IMPORT_REFUSED', `${message}; nothing was written`, context);
}

export function detectFormat(dir: string): ImportFormat {
  if (detectTufOnCi(dir)) return 'tuf-on-ci';
  if (detectTufup(dir)) return 'tufup';
  if (detectGoTufV0(dir)) return 'go-tuf-v0';
  if (detectPythonTuf(dir)) return 'python-tuf';
  return refuse(`${dir} does not look like a tufup, python-tuf, tuf-on-ci or go-tuf v0 repository`, {
    file: dir,
    rule: 'tuf-on-ci: metadata/root_history/; tufup: .tufup-repo-config or repository/metadata + keystore; go-tuf v0: repository/ + keys/ or staged/; python-tuf: metadata/N.root.json',
    suggestion: 'Point --import at the repository folder, or name the format with --format.',
  });
}

export function sourceLayout(dir: string, format: ImportFormat): SourceLayout {
  switch (format) {
    case 'tufup':
      return tufupLayout(dir);
    case 'python-tuf':
      return pythonTufLayout(dir);
    case 'tuf-on-ci':
      return tufOnCiLayout(dir);
    case 'go-tuf-v0':
      return goTufV0Layout(dir);
  }
}

interface ReadFile {
  file: string;
  bytes: Buffer;
}

function read(file: string): ReadFile {
  return { file, bytes: readFileBounded(file, MAX_METADATA) };
}

function parseRoot(f: ReadFile): Metadata<Root> {
  return Metadata.fromBytes(f.bytes, f.file, 'root', HISTORY_PARSE);
}

/** Every root version 1..N, contiguous, each file holding the version its name says. */
function readRootHistory(layout: SourceLayout): { roots: ReadFile[]; parsed: Metadata<Root>[] } {
  const files = new Map(layout.rootFiles);
  if (layout.latestRootFile !== undefined) {
    const latest = parseRoot(read(layout.latestRootFile));
    const v = latest.signed.version;
    const known = files.get(v);
    if (known === undefined) {
      if (files.size > 0 && Math.max(...files.keys()) > v) {
        refuse(`root.json is version ${v} but ${Math.max(...files.keys())}.root.json exists`, {
          file: layout.latestRootFile,
          rule: 'root.json is the newest root',
        });
      }
      files.set(v, layout.latestRootFile);
    } else if (!Buffer.from(parseRoot(read(known)).signedBytes()).equals(Buffer.from(latest.signedBytes()))) {
      refuse(`root.json and ${v}.root.json are both version ${v} but differ`, {
        file: layout.latestRootFile,
        rule: 'one root per version',
      });
    }
  }
  if (files.size === 0)
    refuse(`no root metadata in ${layout.metadataDir}`, {
      file: layout.metadataDir,
      rule: 'a repository has root.json / N.root.json',
    });
  const max = Math.max(...files.keys());
  const missing: number[] = [];
  for (let v = 1; v <= max; v++) if (!files.has(v)) missing.push(v);
  if (missing.length > 0) {
    refuse(`root history gap: ${missing.map((v) => `${v}.root.json`).join(', ')} missing (newest is version ${max})`, {
      file: layout.metadataDir,
      rule: 'SPEC: every root version from 1 is kept, clients walk them one by one',
      suggestion:
        'Recover the missing root versions (git history, the published site, a client cache) into the metadata folder and retry.',
    });
  }
  const roots: ReadFile[] = [];
  const parsed: Metadata<Root>[] = [];
  for (let v = 1; v <= max; v++) {
    const f = read(files.get(v) as string);
    const md = parseRoot(f);
    if (md.signed.version !== v)
      refuse(`${f.file} holds root version ${md.signed.version}`, {
        file: f.file,
        rule: 'N.root.json holds root version N',
      });
    roots.push(f);
    parsed.push(md);
  }
  return { roots, parsed };
}

/** The source as a published layout (`metadata/…`, `targets/…`), for the verifier. */
function layoutSource(layout: SourceLayout, roots: ReadFile[]): RepositorySource {
  const byPath = new Map<string, string>();
  roots.forEach((r, i) => byPath.set(`metadata/${i + 1}.root.json`, r.file));
  const last = roots[roots.length - 1];
  if (last !== undefined) byPath.set('metadata/root.json', last.file);
  const resolvePath = (path: string): string | undefined => {
    const known = byPath.get(path);
    if (known !== undefined) return known;
    if (path.startsWith('metadata/')) {
      const name = path.slice('metadata/'.length);
      if (/\.root\.json$/.test(name)) return undefined;
      return layout.metadataFile(name);
    }
    if (path.startsWith('targets/')) return targetFileOf(layout, path.slice('targets/'.length));
    return undefined;
  };
  return {
    read(path) {
      const file = resolvePath(path);
      return file === undefined
        ? undefined
        : readFileBounded(file, path.startsWith('metadata/') ? MAX_METADATA : MAX_TARGET);
    },
    describe(path) {
      return resolvePath(path) ?? `${layout.metadataDir}/${path}`;
    },
  };
}

/** The source file of a stored target name (or, for layouts that keep plain names, of its target path). */
function targetFileOf(layout: SourceLayout, storedName: string, targetPath?: string): string | undefined {
  if (layout.targetFile !== undefined) return layout.targetFile(storedName, targetPath ?? storedName);
  if (layout.targetsDir === undefined) return undefined;
  const p = join(layout.targetsDir, storedName);
  return fileExists(p) ? p : undefined;
}

/** Current metadata files (besides root): timestamp, the snapshot it names, every targets role the snapshot lists. */
function currentFiles(
  layout: SourceLayout,
  root: Root,
): { name: string; file: ReadFile; role: string; version: number }[] {
  const consistent = root.consistentSnapshot === true;
  const out: { name: string; file: ReadFile; role: string; version: number }[] = [];
  const get = (fileName: string): ReadFile => {
    const f = layout.metadataFile(fileName);
    if (f === undefined)
      return refuse(`${fileName} is missing from ${layout.metadataDir}`, {
        file: layout.metadataDir,
        rule: 'every referenced metadata file must exist',
      });
    return read(f);
  };
  const ts = get('timestamp.json');
  const timestamp = Metadata.fromBytes(ts.bytes, ts.file, 'timestamp');
  out.push({ name: 'timestamp.json', file: ts, role: 'timestamp', version: timestamp.signed.version });
  const snName = metadataFileName('snapshot', timestamp.signed.snapshotMeta.version, consistent);
  const sn = get(snName);
  const snapshot = Metadata.fromBytes(sn.bytes, sn.file, 'snapshot');
  out.push({ name: snName, file: sn, role: 'snapshot', version: snapshot.signed.version });
  for (const [metaName, meta] of snapshot.signed.meta) {
    const role = metaName.replace(/\.json$/, '');
    parseTargetPath(metaName, 'role file name');
    if (role.includes('/'))
      refuse(`role name ${JSON.stringify(role)} contains "/"`, { rule: 'role names are file names' });
    const fileName = metadataFileName(role, meta.version, consistent);
    const f = layout.metadataFile(fileName);
    if (f === undefined) continue; // the verifier reports roles that matter and are missing
    out.push({ name: fileName, file: read(f), role, version: meta.version });
  }
  return out;
}

function fingerprint(ko: ReturnType<typeof createPublicKey>): string {
  return sha256Hex(ko.export({ format: 'der', type: 'spki' }));
}

function safeKeyName(name: string, taken: Set<string>): string {
  let base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'key';
  if (base.length > 40) base = base.slice(0, 40);
  let n = base;
  for (let i = 2; taken.has(n); i++) n = `${base}-${i}`;
  taken.add(n);
  return n;
}

export async function importRepository(options: ImportOptions): Promise<ImportReport> {
  const source = resolve(options.source);
  const dir = resolve(options.dir);
  if (!isDir(source))
    refuse(`${source} is not a folder`, { file: source, rule: '--import names the repository folder' });
  if (Workspace.exists(dir))
    throw new TufsignError('WORKSPACE_EXISTS', `${dir} already holds a tufsign workspace`, {
      file: Workspace.configPath(dir),
      suggestion: 'Import into a new, empty directory.',
    });
  if (isDir(join(dir, METADATA_DIR)) && isNonEmptyDir(join(dir, METADATA_DIR))) {
    throw new TufsignError('WORKSPACE_EXISTS', `${join(dir, METADATA_DIR)} is not empty`, {
      suggestion: 'Import into a new, empty directory.',
    });
  }
  if (dir === source || dir.startsWith(source + '/'))
    refuse('the workspace must not be inside the source repository', {
      file: dir,
      rule: 'the source is never modified',
    });
  const format = options.format === 'auto' ? detectFormat(source) : options.format;
  const layout = sourceLayout(source, format);
  const warnings: string[] = [];
  const notes = [...layout.notes];

  // 1. roots: the whole history, then the source verified as a client would
  const { roots, parsed } = readRootHistory(layout);
  const latestRoot = parsed[parsed.length - 1] as Metadata<Root>;
  const root = latestRoot.signed;
  const src = layoutSource(layout, roots);
  const verify = verifyRepository(src, { at: options.now, requireTargetFiles: false, allowLegacyKeyids: true });
  const failures = verify.roles.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => ({ role: r.role, ...c })));
  const blocking = failures.filter((c) => c.code !== 'METADATA_EXPIRED');
  for (const f of failures)
    if (f.code === 'METADATA_EXPIRED')
      warnings.push(
        `${f.role}: ${f.message} (re-sign it after the import: tufsign refresh / tufsign sign ${f.role} --bump)`,
      );
  const badTargets = verify.targets.filter((t) => !t.ok);
  if (blocking.length > 0 || badTargets.length > 0 || verify.roles.length < 4) {
    const first = blocking[0];
    const what =
      first !== undefined
        ? `${first.role}: ${first.message}`
        : badTargets[0] !== undefined
          ? `target ${badTargets[0].path}: ${badTargets[0].message}`
          : 'the repository is incomplete';
    refuse(`the source does not verify (${blocking.length + badTargets.length} problem(s)); first: ${what}`, {
      file: source,
      rule: first?.rule ?? 'a source must verify as a TUF client would (root chain, thresholds, versions, hashes)',
      details: {
        problems: [
          ...blocking.map((c) => ({ role: c.role, message: c.message, code: c.code })),
          ...badTargets.map((t) => ({ target: t.path, message: t.message })),
        ],
      },
    });
  }

  // 2. current metadata and target files (each target read once, checked, then copied)
  const current = currentFiles(layout, root);
  const consistent = root.consistentSnapshot === true;
  const files: PendingFile[] = [];
  const ws = new Workspace(dir, {
    name: '',
    expiry: DEFAULT_EXPIRY,
    minValidity: DEFAULT_MIN_VALIDITY,
    keys: new Map(),
    extra: {},
  });
  roots.forEach((r, i) => files.push({ path: join(ws.metadataDir, `${i + 1}.root.json`), data: r.bytes }));
  files.push({ path: join(ws.metadataDir, 'root.json'), data: (roots[roots.length - 1] as ReadFile).bytes });
  const targetsMds: { role: string; md: Metadata<Targets> }[] = [];
  for (const c of current) {
    files.push({ path: join(ws.metadataDir, c.name), data: c.file.bytes });
    if (c.role !== 'timestamp' && c.role !== 'snapshot')
      targetsMds.push({ role: c.role, md: Metadata.fromBytes(c.file.bytes, c.file.file, 'targets', HISTORY_PARSE) });
  }
  const missing: string[] = [];
  let count = 0;
  let copied = 0;
  const seen = new Set<string>();
  for (const { md } of targetsMds) {
    for (const [path, tf] of md.signed.targets) {
      if (seen.has(path)) continue;
      seen.add(path);
      count++;
      parseTargetPath(path);
      let found = false;
      let first: Buffer | undefined;
      for (const name of targetFileNames(path, tf.hashes, consistent)) {
        const from = targetFileOf(layout, name, path);
        if (from === undefined) continue;
        const read = readFileBounded(from, MAX_TARGET);
        // the same bytes under another hash name: pass the same buffer, so the workspace stores it once (ADR 0017)
        const data = first !== undefined && first.equals(read) ? first : read;
        first ??= data;
        const ok =
          data.length === tf.length &&
          [...tf.hashes].every(([alg, digest]) => createHash(alg).update(data).digest('hex') === digest);
        if (!ok)
          refuse(`target file ${from} does not match its length/hashes in metadata`, {
            file: from,
            rule: 'SPEC-21 target files match their metadata',
          });
        files.push({ path: join(ws.targetsDir, name), data });
        found = true;
      }
      if (found) copied++;
      else missing.push(path);
    }
  }
  if (missing.length > 0 && !options.skipMissingTargets) {
    refuse(
      `${missing.length} target file(s) listed in metadata are not in the source: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      {
        file: layout.targetsDir ?? source,
        rule: 'every target is imported with its file',
        suggestion:
          'Copy the files into the source targets folder, or pass --skip-missing-targets to import the metadata without them (they are listed in the report).',
        details: { missing },
      },
    );
  }
  for (const m of missing)
    warnings.push(
      `target ${m}: file not in the source, not imported (--skip-missing-targets); add-release cannot patch from it`,
    );

  // 3. keys: converted when the source keeps the private part in a file, else public-only
  const currentKeys = new Map<string, { key: Key; roles: string[] }>();
  for (const r of TOP_LEVEL_ROLES) {
    for (const keyid of root.role(r).keyids) {
      const key = root.keys.get(keyid);
      if (key === undefined) continue;
      const e = currentKeys.get(keyid) ?? { key, roles: [] };
      e.roles.push(r);
      currentKeys.set(keyid, e);
    }
  }
  for (const { role, md } of targetsMds) {
    const d = md.signed.delegations;
    if (d === undefined) continue;
    for (const [keyid, key] of d.keys) {
      const roles = [
        ...(d.roles ?? []).filter((x) => x.keyids.includes(keyid)).map((x) => x.name),
        ...(d.succinctRoles?.keyids.includes(keyid) === true ? [`${d.succinctRoles.namePrefix}-*`] : []),
      ];
      const e = currentKeys.get(keyid) ?? { key, roles: [] };
      e.roles.push(...roles.map((n) => `${n} (delegated by ${role})`));
      currentKeys.set(keyid, e);
    }
  }
  const historical = new Map<string, number>();
  for (const md of parsed)
    for (const key of md.signed.keys.values()) historical.set(fingerprint(key.keyObject()), md.signed.version);
  const byFingerprint = new Map<string, string[]>();
  for (const [keyid, { key }] of currentKeys)
    byFingerprint.set(fingerprint(key.keyObject()), [
      ...(byFingerprint.get(fingerprint(key.keyObject())) ?? []),
      keyid,
    ]);

  const converted = new Map<string, { uri: string; from: string }>();
  const keyFiles: { path: string; privateKey: Parameters<typeof encryptPrivateKey>[0] }[] = [];
  const taken = new Set<string>();
  for (const kf of layout.keyFiles) {
    if (options.dryRun && needsPassphrase(kf)) {
      notes.push(`${kf.file}: encrypted; its passphrase is asked at the real import (TUFSIGN_SOURCE_PASSPHRASE)`);
      continue;
    }
    const keys = await readSourceKeyFile(kf, () =>
      options.secrets.getSecret({ kind: 'source-passphrase', label: `source key file ${kf.file}` }),
    );
    for (const k of keys) {
      const pub = createPublicKey(k.privateKey);
      const fp = fingerprint(pub);
      const keyids = byFingerprint.get(fp);
      if (keyids === undefined) {
        const v = historical.get(fp);
        if (v !== undefined) {
          notes.push(`${kf.file}: a key of root v${v} that the newest root no longer lists (revoked); not imported`);
          continue;
        }
        const shown = keyFromPublicKeyObject(pub, k.scheme).keyid();
        refuse(`key file ${kf.file} holds a key (keyid ${shown}) that matches no key of any root version`, {
          file: kf.file,
          rule: 'every imported private key belongs to the repository',
          suggestion:
            'Remove foreign key files from the keystore (or point the import at the right keystore) and retry.',
        });
      }
      const name = safeKeyName(kf.name, taken);
      const rel = `${KEYS_DIR}/${name}.pem`;
      keyFiles.push({ path: join(dir, rel), privateKey: k.privateKey });
      for (const keyid of keyids) converted.set(keyid, { uri: `file:${rel}`, from: kf.file });
    }
  }

  // 4. config: key references, expiry policy, the legacy keyids the workspace may read
  const legacy: KeyidProblem[] = [];
  for (const md of parsed) legacy.push(...keyidProblems(md.signed));
  for (const { role, md } of targetsMds) legacy.push(...keyidProblems(md.signed, role));
  const importedExpiry = parseImportedExpiry(layout.expiry);
  const config: WorkspaceConfig = {
    name: options.name ?? layout.name ?? basename(source),
    expiry: { ...DEFAULT_EXPIRY, ...importedExpiry },
    minValidity: { ...DEFAULT_MIN_VALIDITY },
    keys: new Map(),
    extra: ws.config.extra,
  };
  const maxExpiry = longerThanDefaultMax(importedExpiry);
  if (Object.keys(maxExpiry).length > 0) {
    // The source's own policy: kept, and allowed by this workspace's max_expiry, or its ceremonies would refuse it.
    config.maxExpiry = maxExpiry;
    notes.push(
      `the source's expiry policy (${Object.entries(maxExpiry)
        .map(([r, p]) => `${r} ${p.text}`)
        .join(', ')}) is longer than tufsign's default max_expiry: kept as this workspace's expiry and max_expiry. ` +
        'Keyholders who sign a request without a copy of the workspace refuse it unless their trust folder policy.json allows it; pass a shorter --expires for those ceremonies.',
    );
  }
  const importedKeys: ImportedKey[] = [];
  for (const [keyid, { key, roles }] of currentKeys) {
    const entry: KeyEntry = {};
    const c = converted.get(keyid);
    if (c !== undefined) entry.ref = parseConfiguredKeyRef(c.uri);
    const owner = key.unrecognizedFields['x-tuf-on-ci-keyowner'];
    if (typeof owner === 'string') entry.owner = owner;
    config.keys.set(keyid, entry);
    const ik: ImportedKey = { keyid, roles, scheme: key.scheme, uri: c?.uri ?? null };
    if (c !== undefined) ik.from = c.from;
    if (entry.owner !== undefined) ik.owner = entry.owner;
    importedKeys.push(ik);
  }
  const legacyIds = [...new Set(legacy.map((p) => p.keyid))];
  if (legacyIds.length > 0) config.legacyKeyids = legacyIds;
  const currentLegacy = legacy.filter(
    (p) => p.where.startsWith(`root v${root.version} `) || !p.where.startsWith('root '),
  );
  if (currentLegacy.length > 0) {
    warnings.push(
      `${currentLegacy.length} keyid(s) in the newest metadata are not sha256 of their key: python-tuf, tuf-js, go-tuf and tufup clients accept them, tough/sigstore-rs refuse them. ` +
        `Releases and refreshes work as before; the next root version must fix them: ${FIX_KEYIDS_COMMAND}`,
    );
  }

  // 5. tufup: the release series continues from the newest archive
  const report: ImportReport = {
    format,
    source,
    workspace: dir,
    dryRun: options.dryRun,
    rootVersions: parsed.map((p) => p.signed.version),
    roles: [
      {
        role: 'root',
        version: root.version,
        expires: formatExpires(root.expires),
        file: `${METADATA_DIR}/${root.version}.root.json`,
      },
      ...current.map((c) => {
        const md = Metadata.fromBytes(c.file.bytes, c.file.file, undefined, HISTORY_PARSE);
        return {
          role: c.role,
          version: md.signed.version,
          expires: formatExpires(md.signed.expires),
          file: `${METADATA_DIR}/${c.name}`,
        };
      }),
    ],
    keys: importedKeys,
    legacyKeyids: legacy,
    targets: { count, copied, missing },
    notes,
    warnings,
    written: [],
    verify,
    next: [],
  };
  const topTargets = targetsMds.find((t) => t.role === 'targets')?.md.signed;
  if (format === 'tufup' && layout.app !== undefined && topTargets !== undefined) {
    const latest = latestRelease(topTargets, layout.app);
    report.release = {
      app: layout.app,
      latest: latest?.version ?? null,
      next: `tufsign add-release ${layout.app} NEW_VERSION BUNDLE_DIR -w ${options.dir}`,
    };
  }
  if (currentLegacy.some((p) => p.where.startsWith('root ')))
    report.next.push(`${FIX_KEYIDS_COMMAND} -w ${options.dir}   # keyid migration root (strict clients)`);
  if (report.release !== undefined) report.next.push(report.release.next);
  if (warnings.some((w) => w.includes('expired'))) report.next.push(`tufsign refresh -w ${options.dir}`);
  if (options.dryRun) return report;

  // 6. write: keys and targets first, metadata next, timestamp last (commitFiles); then verify the workspace
  if (keyFiles.length > 0) {
    const passphrase = await options.secrets.getSecret({
      kind: 'new-passphrase',
      label: `the converted key files (${keyFiles.map((k) => k.path.slice(dir.length + 1)).join(', ')})`,
    });
    try {
      checkNewPassphrase(passphrase);
      for (const k of keyFiles)
        files.push({ path: k.path, data: encryptPrivateKey(k.privateKey, passphrase), mode: 0o600 });
    } finally {
      passphrase.fill(0);
    }
  }
  files.push({ path: Workspace.configPath(dir), data: serializeConfig(config) });
  ensureDir(dir);
  commitFiles(files);
  ensureDir(join(dir, TARGETS_DIR));
  report.written = files.map((f) => f.path.slice(dir.length + 1));
  report.verify = verifyRepository(directorySource(dir, options.shownFrom), {
    at: options.now,
    requireTargetFiles: missing.length === 0,
    allowLegacyKeyids: true,
  });
  return report;
}

/** The roles whose imported expiry period exceeds tufsign's default max_expiry (the keyholder's check, ADR 0008). */
function longerThanDefaultMax(expiry: RolePeriods): RolePeriods {
  const out: RolePeriods = {};
  for (const role of TOP_LEVEL_ROLES) {
    const period = expiry[role];
    if (period !== undefined && period.seconds > DEFAULT_MAX_EXPIRY[role].seconds) out[role] = period;
  }
  return out;
}

/** The source's expiry periods (tufup's `expiration_days`), parsed once here as `tufsign.json` will hold them. */
function parseImportedExpiry(expiry: SourceLayout['expiry']): RolePeriods {
  const out: RolePeriods = {};
  for (const role of TOP_LEVEL_ROLES) {
    const text = expiry?.[role];
    if (text !== undefined) out[role] = parsePeriod(text, `the source's ${role} expiry`);
  }
  return out;
}
