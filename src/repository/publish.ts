/**
 * `tufsign publish`: copy a bundle, or a workspace's publishable tree (`metadata/`, `targets/`), into a local
 * folder — a web root, a mounted bucket, an rsync or `aws s3 sync` source — in the order TUF clients need:
 * target files, root metadata, delegated targets metadata, targets metadata, snapshot, and `timestamp.json`
 * last. Each file is written atomically, files already there with the same bytes are left alone, so a run that
 * stops half-way leaves clients on the old timestamp and a re-run finishes the job.
 */
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { fileExists, readFileBounded } from '../io/fs';
import { checkNoLinks, copyFileAtomic, fileDigest, listRegularFiles } from '../io/tree';
import { BUNDLE_MANIFEST, parseManifest } from '../bundle';
import { isTopLevelRole } from '../tuf/metadata';

/** The order of the phases is the order of the writes. */
export const PUBLISH_PHASES = ['targets', 'root', 'delegated', 'targets-metadata', 'snapshot', 'timestamp'] as const;
export type PublishPhase = (typeof PUBLISH_PHASES)[number];

export interface PublishItem {
  path: string;
  phase: PublishPhase;
}

export interface PublishResult {
  source: string;
  kind: 'bundle' | 'workspace';
  dest: string;
  /** every file of the plan, in the order it was handled */
  files: { path: string; phase: PublishPhase; action: 'written' | 'unchanged' }[];
  written: number;
  unchanged: number;
  /** the same order for object stores, with DEST as the source folder */
  commands: { s3: string[]; gcs: string[] };
}

function phaseOf(path: string): PublishPhase {
  if (path.startsWith('targets/')) return 'targets';
  const name = path
    .slice('metadata/'.length)
    .replace(/^[1-9][0-9]*\./, '')
    .replace(/\.json$/, '');
  if (!isTopLevelRole(name)) return 'delegated';
  return name === 'targets' ? 'targets-metadata' : name;
}

const rootVersion = (p: string): number =>
  Number(/^metadata\/([1-9][0-9]*)\.root\.json$/.exec(p)?.[1] ?? Number.MAX_SAFE_INTEGER);

/** The plan: which files, in which order (pure). Only `metadata/*.json` and `targets/**` are published. */
export function publishOrder(paths: readonly string[]): PublishItem[] {
  const items = paths
    .filter((p) => /^metadata\/[^/]+\.json$/.test(p) || /^targets\/./.test(p))
    .map((path): PublishItem => ({ path, phase: phaseOf(path) }));
  const rank = (i: PublishItem): number => PUBLISH_PHASES.indexOf(i.phase);
  return items.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.phase === 'root' ? rootVersion(a.path) - rootVersion(b.path) : 0) ||
      (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
}

/** Shell commands that upload DEST to an object store in the same order (the bucket is a placeholder). */
export function syncCommands(dest: string): { s3: string[]; gcs: string[] } {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const src = (sub: string): string => q(join(dest, sub) + '/');
  const steps: { what: string; filters: string[] }[] = [
    { what: 'targets', filters: [] },
    { what: 'root', filters: ['*.root.json', 'root.json'] },
    {
      what: 'targets and delegated metadata',
      filters: ['NOT:*.root.json', 'NOT:root.json', 'NOT:*snapshot.json', 'NOT:timestamp.json'],
    },
    { what: 'snapshot', filters: ['*snapshot.json'] },
  ];
  const s3: string[] = [];
  const gcs: string[] = [];
  for (const step of steps) {
    const sub = step.what === 'targets' ? 'targets' : 'metadata';
    const inc = step.filters.filter((f) => !f.startsWith('NOT:'));
    const exc = step.filters.filter((f) => f.startsWith('NOT:')).map((f) => f.slice(4));
    const s3f =
      inc.length > 0 ? [`--exclude '*'`, ...inc.map((f) => `--include '${f}'`)] : exc.map((f) => `--exclude '${f}'`);
    s3.push(`aws s3 sync ${src(sub)} s3://BUCKET/PREFIX/${sub}/ ${s3f.join(' ')}`.trim());
    const re = (g: string): string => g.replace(/\./g, '\\.').replace(/\*/g, '.*');
    const gcsf =
      inc.length > 0
        ? `--exclude '^(?!(${inc.map(re).join('|')})$).*'`
        : exc.length > 0
          ? `--exclude '^(${exc.map(re).join('|')})$'`
          : '';
    gcs.push(`gcloud storage rsync ${src(sub)} gs://BUCKET/PREFIX/${sub}/ ${gcsf}`.trim());
  }
  s3.push(`aws s3 cp ${q(join(dest, 'metadata', 'timestamp.json'))} s3://BUCKET/PREFIX/metadata/timestamp.json`);
  gcs.push(
    `gcloud storage cp ${q(join(dest, 'metadata', 'timestamp.json'))} gs://BUCKET/PREFIX/metadata/timestamp.json`,
  );
  return { s3, gcs };
}

export function publish(
  source: string,
  dest: string,
  onFile?: (path: string, action: 'written' | 'unchanged') => void,
): PublishResult {
  const isBundle = fileExists(join(source, BUNDLE_MANIFEST));
  let paths: string[];
  const expected = new Map<string, { length: number; sha256: string }>();
  if (isBundle) {
    // a bundle publishes exactly what its manifest lists, and only if every file still has the listed bytes
    const manifest = parseManifest(readFileBounded(join(source, BUNDLE_MANIFEST)));
    for (const f of manifest.files) expected.set(f.path, { length: f.length, sha256: f.sha256 });
    paths = manifest.files.map((f) => f.path);
  } else {
    if (!fileExists(join(source, 'metadata', 'timestamp.json'))) {
      throw new TufsignError(
        'WORKSPACE_NOT_FOUND',
        `${source} is neither a bundle (no ${BUNDLE_MANIFEST}) nor a workspace with metadata/timestamp.json`,
        {
          file: source,
          suggestion: 'Name a bundle folder, or a workspace with -w.',
        },
      );
    }
    paths = [
      ...listRegularFiles(join(source, 'metadata')).map((p) => `metadata/${p}`),
      ...(fileExists(join(source, 'targets'))
        ? listRegularFiles(join(source, 'targets')).map((p) => `targets/${p}`)
        : []),
    ];
    // temp files of an interrupted write are never published
    paths = paths.filter((p) => !p.split('/').some((s) => s.startsWith('.')));
  }
  const plan = publishOrder(paths);
  if (!plan.some((i) => i.phase === 'timestamp') && !isBundle)
    throw new TufsignError('WORKSPACE_NOT_FOUND', `${source} has no timestamp.json to publish`, { file: source });
  // check everything before writing anything
  const digests = new Map<string, { length: number; sha256: string }>();
  for (const item of plan) {
    const from = join(source, item.path);
    checkNoLinks(source, item.path);
    const d = fileDigest(from);
    if (d === undefined)
      throw new TufsignError('BUNDLE_INVALID', `${item.path} is listed but missing`, {
        file: from,
        rule: 'a bundle holds every file its manifest lists',
      });
    const want = expected.get(item.path);
    if (want !== undefined && (want.length !== d.length || want.sha256 !== d.sha256)) {
      throw new TufsignError('BUNDLE_INVALID', `${item.path} does not match ${BUNDLE_MANIFEST} (length or sha256)`, {
        file: from,
        rule: 'publish only the bytes the manifest lists',
      });
    }
    checkNoLinks(dest, item.path);
    digests.set(item.path, d);
  }
  const files: PublishResult['files'] = [];
  for (const item of plan) {
    const to = join(dest, item.path);
    const have = fileDigest(to);
    const want = digests.get(item.path);
    const action =
      have !== undefined && want !== undefined && have.length === want.length && have.sha256 === want.sha256
        ? 'unchanged'
        : 'written';
    if (action === 'written') copyFileAtomic(join(source, item.path), to);
    files.push({ path: item.path, phase: item.phase, action });
    onFile?.(item.path, action);
  }
  return {
    source,
    kind: isBundle ? 'bundle' : 'workspace',
    dest,
    files,
    written: files.filter((f) => f.action === 'written').length,
    unchanged: files.filter((f) => f.action === 'unchanged').length,
    commands: syncCommands(dest),
  };
}
