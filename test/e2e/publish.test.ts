/**
 * `tufsign publish`: the order of writes (targets, root, delegated, targets metadata, snapshot, timestamp.json
 * last), atomic files, re-runs that only finish the job, a failure that never reaches timestamp.json, bundles
 * published only as their manifest lists them, and no writing through links.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor } from '../../src/errors';
import { PUBLISH_PHASES, publishOrder } from '../../src/repository/publish';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const base = tempDir();
const ws = join(base, 'repo');

beforeAll(() => {
  expect(runCli(['init', '-w', ws, '--json']).status).toBe(0);
  writeFileSync(join(base, 'app-1.txt'), 'one\n');
  expect(runCli(['targets', 'add', join(base, 'app-1.txt'), '-w', ws, '--json']).status).toBe(0);
});

const phaseRank = (p: string): number => PUBLISH_PHASES.indexOf(p as (typeof PUBLISH_PHASES)[number]);

describe('publish order', () => {
  it('puts targets first, then root by version, delegated, targets metadata, snapshot, timestamp last', () => {
    const plan = publishOrder([
      'metadata/timestamp.json',
      'metadata/2.snapshot.json',
      'metadata/2.root.json',
      'metadata/1.root.json',
      'metadata/root.json',
      'metadata/3.targets.json',
      'metadata/1.bins-0.json',
      'targets/abc.app.txt',
      'BUNDLE.json',
      'TRANSCRIPT.json',
    ]);
    expect(plan.map((i) => i.path)).toEqual([
      'targets/abc.app.txt',
      'metadata/1.root.json',
      'metadata/2.root.json',
      'metadata/root.json',
      'metadata/1.bins-0.json',
      'metadata/3.targets.json',
      'metadata/2.snapshot.json',
      'metadata/timestamp.json',
    ]);
  });

  it('a workspace is published in that order, each file once; a re-run writes nothing', () => {
    const dest = join(base, 'www');
    const r = runCli(['publish', '-w', ws, dest, '--json']);
    expect(r.status).toBe(0);
    const out = r.json();
    const ranks = out.files.map((f: any) => phaseRank(f.phase));
    expect(ranks).toEqual([...ranks].sort((a: number, b: number) => a - b));
    expect(out.files.at(-1)).toMatchObject({ path: 'metadata/timestamp.json', action: 'written' });
    expect(out.files.filter((f: any) => f.phase === 'targets').length).toBeGreaterThan(0);
    for (const f of out.files)
      expect(readFileSync(join(dest, f.path)).equals(readFileSync(join(ws, f.path)))).toBe(true);
    // the files were written in that order: modification times never go backwards, timestamp.json is the newest
    const mtimes = out.files.map((f: any) => statSync(join(dest, f.path)).mtimeMs);
    expect(mtimes).toEqual([...mtimes].sort((a: number, b: number) => a - b));
    expect(Math.max(...mtimes)).toBe(mtimes.at(-1));
    // no temp files left behind
    expect(readdirSync(join(dest, 'metadata')).some((n) => n.startsWith('.'))).toBe(false);
    const again = runCli(['publish', '-w', ws, dest, '--json']).json();
    expect(again.written).toBe(0);
    expect(again.unchanged).toBe(out.files.length);
    // the equivalent object-store commands upload timestamp.json last
    expect(out.commands.s3.at(-1)).toContain('metadata/timestamp.json');
    expect(out.commands.gcs.at(-1)).toContain('metadata/timestamp.json');
  });

  it('a destination that cannot take every file is refused before anything is written, timestamp.json included', () => {
    const dest = join(base, 'www-fail');
    const snapshot = readdirSync(join(ws, 'metadata'))
      .filter((n) => /^\d+\.snapshot\.json$/.test(n))
      .sort()
      .at(-1)!;
    // the snapshot's place is taken by a folder: that write fails
    mkdirSync(join(dest, 'metadata', snapshot), { recursive: true });
    const r = runCli(['publish', '-w', ws, dest, '--json']);
    expect(r.json().error.code).toBe('PATH_UNSAFE');
    expect(existsSync(join(dest, 'metadata', 'timestamp.json'))).toBe(false);
    // checked before the first write: nothing at all was published
    expect(existsSync(join(dest, 'targets'))).toBe(false);
  });

  it('never writes through a link at the destination', () => {
    const dest = join(base, 'www-link');
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(dest, { recursive: true });
    mkdirSync(elsewhere, { recursive: true });
    symlinkSync(elsewhere, join(dest, 'targets'));
    const r = runCli(['publish', '-w', ws, dest, '--json']);
    expect(r.status).toBe(exitCodeFor('PATH_UNSAFE'));
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(existsSync(join(dest, 'metadata'))).toBe(false);
  });
});

describe('publishing a bundle', () => {
  it('publishes what BUNDLE.json lists and refuses a bundle whose files were changed, before writing anything', () => {
    const app = join(base, 'app');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'main.py'), 'print(1)\n');
    const rel = runCli(['add-release', 'myapp', '1.0', app, '-w', ws, '--bundle-out', join(base, 'b1'), '--json']);
    expect(rel.status).toBe(0);
    const bundle = join(base, 'b1');
    const manifest = JSON.parse(readFileSync(join(bundle, 'BUNDLE.json'), 'utf8'));
    const dest = join(base, 'www-bundle');
    const out = runCli(['publish', bundle, dest, '--json']).json();
    expect(out.kind).toBe('bundle');
    expect(out.files.map((f: any) => f.path).sort()).toEqual(manifest.files.map((f: any) => f.path).sort());
    expect(out.files.at(-1).path).toBe('metadata/timestamp.json');
    expect(existsSync(join(dest, 'BUNDLE.json'))).toBe(false);
    // tamper with one listed file
    const target = manifest.files.find((f: any) => f.path.startsWith('targets/')).path;
    writeFileSync(join(bundle, target), 'evil');
    const dest2 = join(base, 'www-bundle2');
    const bad = runCli(['publish', bundle, dest2, '--json']);
    expect(bad.json().error.code).toBe('BUNDLE_INVALID');
    expect(existsSync(dest2)).toBe(false);
  });
});
