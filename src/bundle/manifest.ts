/**
 * `BUNDLE.json`: what a bundle holds and how to check it — every file's path,
 * length and sha256 (and whether it is new or re-published unchanged), the
 * root chain, the repository name, and the transcript's digest and head.
 */
import { TufsignError } from '../errors';
import { sha256Hex } from '../io/hash';
import { isJsonObject, newObject, parseJson, stringifyPretty, type JsonObject, type JsonValue } from '../tuf/json';
import type { TopLevelRole } from '../tuf/metadata';
import { isPlainRelativePath } from '../tuf/paths';
import { isOnDisk, itemLength, type BundleItem } from './tar';

export const BUNDLE_MANIFEST = 'BUNDLE.json';
export const BUNDLE_TRANSCRIPT = 'TRANSCRIPT.json';
export const BUNDLE_FORMAT = 'tufsign-bundle';

export interface ManifestFile {
  path: string;
  length: number;
  sha256: string;
  /** false for files re-published unchanged so the bundle verifies on its own */
  new: boolean;
}

export interface BundleManifest {
  repository: string;
  ceremonyId?: string;
  fingerprint?: string;
  /** versions published before this bundle */
  base: Partial<Record<TopLevelRole, number>>;
  /** the root clients hold before this bundle (its version and sha256): what `verify --root` must be given */
  baseRoot?: { version: number; sha256: string };
  files: ManifestFile[];
  rootChain: { version: number; path: string; sha256: string }[];
  transcript?: { path: string; length: number; sha256: string; head: string };
}

export interface BundleInput {
  repository: string;
  ceremonyId?: string;
  fingerprint?: string;
  base: Partial<Record<TopLevelRole, number>>;
  baseRoot?: { version: number; sha256: string };
  /** in memory (metadata), or on disk with their digest (target files, `BundleFileEntry`) */
  files: (BundleItem & { new: boolean })[];
  /** the transcript events (JSON), written as TRANSCRIPT.json */
  transcript?: readonly JsonObject[];
}

/** A file a bundle carries: under metadata/ or targets/, and a plain relative path by the one set of rules. */
function checkBundlePath(p: string): void {
  if (!/^(metadata|targets)\/./.test(p) || !isPlainRelativePath(p)) {
    throw new TufsignError('BUNDLE_INVALID', `unsafe bundle path ${JSON.stringify(p)}`, {
      rule: 'bundle files live under metadata/ or targets/',
    });
  }
}

function digestOf(f: BundleItem): string {
  return isOnDisk(f) ? f.sha256 : sha256Hex(f.data);
}

/** Build the manifest and the exact list of files a bundle holds (pure). */
export function buildBundle(input: BundleInput): { manifest: BundleManifest; entries: BundleItem[] } {
  const files = [...input.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  files.forEach((f) => checkBundlePath(f.path));
  const manifest: BundleManifest = {
    repository: input.repository,
    base: { ...input.base },
    files: files.map((f) => ({ path: f.path, length: itemLength(f), sha256: digestOf(f), new: f.new })),
    rootChain: files
      .map((f) => ({ m: /^metadata\/([1-9][0-9]*)\.root\.json$/.exec(f.path), f }))
      .filter((x) => x.m !== null)
      .map((x) => ({ version: Number(x.m?.[1]), path: x.f.path, sha256: digestOf(x.f) }))
      .sort((a, b) => a.version - b.version),
  };
  if (input.baseRoot !== undefined) manifest.baseRoot = { ...input.baseRoot };
  if (input.ceremonyId !== undefined) manifest.ceremonyId = input.ceremonyId;
  if (input.fingerprint !== undefined) manifest.fingerprint = input.fingerprint;
  const entries: BundleItem[] = files.map((f) =>
    isOnDisk(f)
      ? { path: f.path, source: f.source, length: f.length, sha256: f.sha256 }
      : { path: f.path, data: f.data },
  );
  if (input.transcript !== undefined) {
    const text = Buffer.from(stringifyPretty(input.transcript));
    const head = input.transcript[input.transcript.length - 1]?.['hash'];
    manifest.transcript = {
      path: BUNDLE_TRANSCRIPT,
      length: text.length,
      sha256: sha256Hex(text),
      head: typeof head === 'string' ? head : '',
    };
    entries.push({ path: BUNDLE_TRANSCRIPT, data: text });
  }
  entries.push({ path: BUNDLE_MANIFEST, data: Buffer.from(serializeManifest(manifest)) });
  return { manifest, entries };
}

export function serializeManifest(m: BundleManifest): string {
  const o = newObject();
  o['format'] = BUNDLE_FORMAT;
  o['format_version'] = 1;
  o['repository'] = m.repository;
  if (m.ceremonyId !== undefined) o['ceremony_id'] = m.ceremonyId;
  if (m.fingerprint !== undefined) o['fingerprint'] = m.fingerprint;
  const base = newObject();
  for (const [k, v] of Object.entries(m.base)) if (v !== undefined) base[k] = v;
  o['base'] = base;
  if (m.baseRoot !== undefined) o['base_root'] = { version: m.baseRoot.version, sha256: m.baseRoot.sha256 };
  o['files'] = m.files.map((f) => ({ path: f.path, length: f.length, sha256: f.sha256, new: f.new }));
  o['root_chain'] = m.rootChain.map((r) => ({ version: r.version, path: r.path, sha256: r.sha256 }));
  if (m.transcript !== undefined) o['transcript'] = { ...m.transcript };
  return stringifyPretty(o);
}

function bad(message: string, path: string): TufsignError {
  return new TufsignError('BUNDLE_INVALID', message, { file: BUNDLE_MANIFEST, path, rule: 'BUNDLE.json format' });
}

function s(o: JsonObject, k: string, p: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw bad(`"${k}" must be a string`, `${p}.${k}`);
  return v;
}

function n(o: JsonObject, k: string, p: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw bad(`"${k}" must be a non-negative integer`, `${p}.${k}`);
  return v;
}

function list(v: JsonValue | undefined, p: string): JsonObject[] {
  if (!Array.isArray(v)) throw bad('must be a list', p);
  return v.map((x, i) => {
    if (!isJsonObject(x)) throw bad('must be an object', `${p}[${i}]`);
    return x;
  });
}

export function parseManifest(bytes: Uint8Array): BundleManifest {
  let doc: JsonValue;
  try {
    doc = parseJson(bytes, BUNDLE_MANIFEST);
  } catch (e) {
    if (e instanceof TufsignError)
      throw new TufsignError('BUNDLE_INVALID', `BUNDLE.json: ${e.message}`, {
        file: BUNDLE_MANIFEST,
        path: e.path,
        cause: e,
      });
    throw e;
  }
  if (!isJsonObject(doc) || doc['format'] !== BUNDLE_FORMAT || doc['format_version'] !== 1)
    throw bad('not a tufsign bundle manifest (format/format_version)', '$.format');
  const base: Partial<Record<TopLevelRole, number>> = {};
  const b = doc['base'];
  if (isJsonObject(b)) for (const [k, v] of Object.entries(b)) if (typeof v === 'number') base[k as TopLevelRole] = v;
  const m: BundleManifest = {
    repository: s(doc, 'repository', '$'),
    base,
    files: list(doc['files'], '$.files').map((f, i) => {
      const p = `$.files[${i}]`;
      const path = s(f, 'path', p);
      checkBundlePath(path);
      return { path, length: n(f, 'length', p), sha256: s(f, 'sha256', p), new: f['new'] === true };
    }),
    rootChain: list(doc['root_chain'], '$.root_chain').map((r, i) => ({
      version: n(r, 'version', `$.root_chain[${i}]`),
      path: s(r, 'path', `$.root_chain[${i}]`),
      sha256: s(r, 'sha256', `$.root_chain[${i}]`),
    })),
  };
  const br = doc['base_root'];
  if (br !== undefined) {
    if (!isJsonObject(br)) throw bad('base_root must be an object', '$.base_root');
    const sha = s(br, 'sha256', '$.base_root');
    if (!/^[0-9a-f]{64}$/.test(sha)) throw bad('base_root.sha256 must be 64 hex digits', '$.base_root.sha256');
    m.baseRoot = { version: n(br, 'version', '$.base_root'), sha256: sha };
  }
  if (typeof doc['ceremony_id'] === 'string') m.ceremonyId = doc['ceremony_id'];
  if (typeof doc['fingerprint'] === 'string') m.fingerprint = doc['fingerprint'];
  const t = doc['transcript'];
  if (t !== undefined) {
    if (!isJsonObject(t)) throw bad('transcript must be an object', '$.transcript');
    m.transcript = {
      path: s(t, 'path', '$.transcript'),
      length: n(t, 'length', '$.transcript'),
      sha256: s(t, 'sha256', '$.transcript'),
      head: s(t, 'head', '$.transcript'),
    };
  }
  return m;
}
