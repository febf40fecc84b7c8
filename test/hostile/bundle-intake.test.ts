/**
 * Bundles and workspaces as an attacker hands them over: unsafe target paths
 * in validly signed metadata (CLI `verify` of a workspace and of a bundle),
 * symlinks, FIFOs and devices in a bundle folder, and a gzip bomb or huge
 * declared sizes beside it — refused by code, with bounded memory (measured
 * in a child process under a heap cap).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { buildBundle, deterministicTarGz, loadItems, writeBundle, type BundleEntry } from '../../src/bundle';
import { TargetFile } from '../../src/tuf/metadata';
import { runCli, ROOT } from '../helpers/cli';
import { buildTestRepo } from '../helpers/repo';
import { PEAK_RSS_SNIPPET } from '../helpers/peak-rss';
import { tempDir } from '../helpers/tmp';
import { publish } from './helpers';

const AT = '2026-01-01T00:00:00Z';
const base = tempDir('tufsign-hostile-bundle-');
let n = 0;

function writeTree(dir: string, files: Record<string, Uint8Array>): string {
  for (const [p, data] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), data);
  }
  return dir;
}

async function bundle(
  extra: Record<string, Uint8Array> = {},
  mutate?: (repo: Awaited<ReturnType<typeof buildTestRepo>>) => void,
): Promise<string> {
  const repo = await buildTestRepo();
  mutate?.(repo);
  const files = await publish(repo, extra);
  const { entries } = buildBundle({
    repository: 'hostile',
    base: {},
    files: Object.entries(files).map(([path, data]) => ({ path, data, new: true })),
  });
  return (await writeBundle(join(base, `b${n++}`), entries)).path;
}

function failedChecks(report: any): { role: string; code: string; rule?: string; message: string }[] {
  return report.roles.flatMap((r: any) =>
    r.checks
      .filter((c: any) => !c.ok)
      .map((c: any) => ({ role: r.role, code: c.code, rule: c.rule, message: c.message })),
  );
}

function verify(dir: string): { status: number; failures: ReturnType<typeof failedChecks> } {
  const r = runCli(['verify', dir, '--at', AT, '--json']);
  // failures come as the error envelope, with the full report in details (docs/json-output.md)
  return { status: r.status, failures: r.status === 0 ? [] : failedChecks(r.json().error.details.report) };
}

describe('verify: unsafe target paths in a workspace and in a bundle', () => {
  it('a clean bundle verifies', async () => {
    expect(verify(await bundle())).toEqual({ status: 0, failures: [] });
  });

  it.each([
    ['../escape', 'BAD-40'],
    ['/abs/x', 'BAD-41'],
    ['a\\b', 'BAD-41/BAD-42'],
  ])('%j: exit 1 with PATH_UNSAFE naming targets (workspace and bundle)', async (path, rule) => {
    const mutate = (repo: Awaited<ReturnType<typeof buildTestRepo>>): void =>
      void repo.targets.signed.targets.set(path, TargetFile.fromData(Buffer.from('x')));
    const ws = writeTree(join(base, `w${n++}`), await publish(await buildTestRepo().then((r) => (mutate(r), r))));
    const b = await bundle({}, mutate);
    for (const dir of [ws, b]) {
      const r = verify(dir);
      expect(r.status).toBe(1);
      expect(r.failures).toEqual([
        {
          role: 'targets',
          code: 'PATH_UNSAFE',
          rule: expect.stringContaining(rule),
          message: expect.stringContaining(JSON.stringify(path)),
        },
      ]);
    }
  });
});

describe('bundle folder: regular files only (BAD-47), never followed', () => {
  it('a listed file replaced by a symlink to an identical copy is refused', async () => {
    const dir = await bundle();
    const outside = join(base, `outside-${n++}.json`);
    copyFileSync(join(dir, 'metadata/targets.json'), outside);
    rmSync(join(dir, 'metadata/targets.json'));
    symlinkSync(outside, join(dir, 'metadata/targets.json'));
    const r = verify(dir);
    expect(r.status).toBe(1);
    expect(r.failures).toContainEqual(
      expect.objectContaining({
        role: 'bundle',
        code: 'BUNDLE_INVALID',
        rule: expect.stringContaining('BAD-47'),
        message: expect.stringContaining('symlink'),
      }),
    );
    // The repository checks never read through the link either.
    expect(r.failures).toContainEqual(expect.objectContaining({ role: 'files', code: 'BUNDLE_INVALID' }));
  });

  it('a FIFO (listed or not) is refused without blocking', async () => {
    const dir = await bundle();
    rmSync(join(dir, 'targets/hello.txt'));
    expect(spawnSync('mkfifo', [join(dir, 'targets/hello.txt'), join(dir, 'targets/extra')]).status).toBe(0);
    const r = verify(dir);
    expect(r.status).toBe(1);
    const fifo = r.failures.filter((f) => f.role === 'bundle' && f.rule?.includes('BAD-47'));
    expect(fifo.map((f) => f.message).sort()).toEqual([
      expect.stringContaining('targets/extra is a FIFO'),
      expect.stringContaining('targets/hello.txt is a FIFO'),
    ]);
  });

  it('a device node is refused', async () => {
    const dir = await bundle();
    const dev = join(dir, 'targets/null');
    // mknod needs root (CI and the dev machine run as root); anything else is a failure, not a skip.
    expect(spawnSync('mknod', [dev, 'c', '1', '3']).status).toBe(0);
    const r = verify(dir);
    expect(r.status).toBe(1);
    expect(r.failures).toContainEqual(
      expect.objectContaining({
        role: 'bundle',
        code: 'BUNDLE_INVALID',
        rule: expect.stringContaining('BAD-47'),
        message: expect.stringContaining('character device'),
      }),
    );
  });
});

/** Run verifyBundle from the built code in a child with a 96 MiB heap; report failures and peak RSS. */
function verifyInChild(dir: string): { failures: ReturnType<typeof failedChecks>; maxRssMiB: number } {
  const script = `${PEAK_RSS_SNIPPET}
    const { verifyBundle } = require(${JSON.stringify(join(ROOT, 'dist/bundle/verify.js'))});
    verifyBundle(process.argv[1], { at: new Date(${JSON.stringify(AT)}), requireTargetFiles: false }).then((r) =>
      process.stdout.write(JSON.stringify({ report: r, maxRss: peakRssKiB() })));`;
  const child = spawnSync(process.execPath, ['--max-old-space-size=96', '-e', script, dir], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(child.signal).toBeNull();
  expect(child.status).toBe(0);
  const out = JSON.parse(child.stdout);
  return { failures: failedChecks(out.report), maxRssMiB: out.maxRss / 1024 };
}

/** A gzip stream that expands to `members` × 16 MiB of zeros (concatenated members, ~16 KiB each). */
function gzipBomb(members: number): Buffer {
  const one = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
  return Buffer.concat(Array.from({ length: members }, () => one));
}

describe('bundle tarball: decompression capped by the manifest', () => {
  it('a gzip bomb beside the folder (16 KiB per 16 MiB, 4 GiB in all) is refused with bounded memory', async () => {
    // An 8 MiB target makes the 4 MiB bomb fit under the compressed-size cap, so the decompression cap is what stops it.
    const dir = await bundle({ 'targets/big.bin': randomBytes(8 * 1024 * 1024) });
    writeFileSync(`${dir}.tar.gz`, gzipBomb(256));
    const r = verifyInChild(dir);
    expect(r.failures).toEqual([
      expect.objectContaining({ role: 'bundle', code: 'ARCHIVE_INVALID', rule: expect.stringContaining('BAD-51') }),
    ]);
    expect(r.maxRssMiB).toBeLessThan(200);
  });

  it('a tarball larger than the manifest allows is refused before it is read', async () => {
    const dir = await bundle();
    writeFileSync(`${dir}.tar.gz`, gzipBomb(900));
    const r = verifyInChild(dir);
    expect(r.failures).toEqual([
      expect.objectContaining({ role: 'bundle', code: 'FILE_TOO_LARGE', rule: expect.stringContaining('BAD-51') }),
    ]);
    expect(r.maxRssMiB).toBeLessThan(200);
  });

  it('a huge declared length does not steer any allocation, and the tarball is not opened', async () => {
    const dir = await bundle();
    const manifestPath = join(dir, 'BUNDLE.json');
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    m.files.find((f: any) => f.path === 'targets/hello.txt').length = 2 ** 50;
    writeFileSync(manifestPath, JSON.stringify(m));
    writeFileSync(`${dir}.tar.gz`, gzipBomb(64));
    const r = verifyInChild(dir);
    const bundleFailures = r.failures.filter((f) => f.role === 'bundle');
    expect(bundleFailures.map((f) => f.code)).toEqual(['BUNDLE_INVALID', 'BUNDLE_INVALID']);
    expect(bundleFailures[1]!.message).toContain('not checked');
    expect(r.maxRssMiB).toBeLessThan(200);
  });

  it('a tampered (but small) tarball is reported as differing from the folder', async () => {
    const dir = await bundle();
    writeFileSync(`${dir}.tar.gz`, gzipSync(Buffer.alloc(10240)));
    const r = verifyInChild(dir);
    expect(r.failures.map((f) => f.role)).toEqual(['bundle']);
  });
});

/** Open a bundle tarball from the built code in a child with a 96 MiB heap; the error code and peak RSS. */
function openTarballInChild(tarball: string): { code: string | null; maxRssMiB: number } {
  const script = `${PEAK_RSS_SNIPPET}
    const { openBundle } = require(${JSON.stringify(join(ROOT, 'dist/bundle/archive.js'))});
    openBundle(process.argv[1]).then(
      (b) => { b.close(); return null; },
      (e) => e.code ?? String(e),
    ).then((code) => process.stdout.write(JSON.stringify({ code, maxRss: peakRssKiB() })));`;
  const child = spawnSync(process.execPath, ['--max-old-space-size=96', '-e', script, tarball], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(child.status).toBe(0);
  const out = JSON.parse(child.stdout);
  return { code: out.code, maxRssMiB: out.maxRss / 1024 };
}

describe('a bundle given as one .tar.gz (ADR 0017)', () => {
  async function tarballOf(extra: Record<string, Uint8Array> = {}, edit?: (e: BundleEntry[]) => BundleEntry[]) {
    const repo = await buildTestRepo();
    const files = await publish(repo, extra);
    const { entries } = buildBundle({
      repository: 'hostile',
      base: {},
      files: Object.entries(files).map(([path, data]) => ({ path, data, new: true })),
    });
    const out = join(base, `t${n++}.tar.gz`);
    writeFileSync(out, deterministicTarGz(edit === undefined ? entries : edit(loadItems(entries))));
    return out;
  }

  it('a clean bundle tarball verifies, and writeBundle writes only the tarball for a .tar.gz path', async () => {
    expect(verify(await tarballOf())).toEqual({ status: 0, failures: [] });
    const repo = await buildTestRepo();
    const files = await publish(repo, {});
    const { entries } = buildBundle({
      repository: 'hostile',
      base: {},
      files: Object.entries(files).map(([path, data]) => ({ path, data, new: true })),
    });
    const w = await writeBundle(join(base, 'only', 'x.tar.gz'), entries);
    expect(w.format).toBe('tar.gz');
    expect(readdirSync(join(base, 'only'))).toEqual(['x.tar.gz']);
    expect(verify(w.path)).toEqual({ status: 0, failures: [] });
  });

  it('a file the manifest does not list, inside the tarball, fails verification', async () => {
    const t = await tarballOf({}, (e) => [...e, { path: 'targets/smuggled.bin', data: Buffer.from('x') }]);
    const r = verify(t);
    expect(r.status).toBe(1);
    expect(r.failures).toContainEqual(expect.objectContaining({ role: 'bundle', code: 'BUNDLE_INVALID' }));
  });

  it('a gzip bomb named .tar.gz is refused with bounded memory, before it is decompressed', () => {
    const bomb = join(base, 'bomb.tar.gz');
    writeFileSync(bomb, gzipBomb(256));
    // 256 gzip members: the second one, met after the first 16 MiB, is refused (BAD-67) before the manifest check
    const r = openTarballInChild(bomb);
    expect(r.code).toBe('ARCHIVE_INVALID');
    expect(r.maxRssMiB).toBeLessThan(200);
    // one member of 32 MiB of zeros: read only as far as a manifest would reach, and there is none
    writeFileSync(bomb, gzipSync(Buffer.alloc(32 * 1024 * 1024), { level: 9 }));
    const one = openTarballInChild(bomb);
    expect(one.code).toBe('BUNDLE_INVALID'); // no manifest first
    expect(one.maxRssMiB).toBeLessThan(200);
  });

  it('a manifest that declares huge lengths cannot buy a huge decompression', async () => {
    const t = await tarballOf({}, (e) =>
      e.map((x) => {
        if (x.path !== 'BUNDLE.json') return x;
        const m = JSON.parse(Buffer.from(x.data).toString('utf8'));
        m.files[0].length = 2 ** 40;
        return { ...x, data: Buffer.from(JSON.stringify(m)) };
      }),
    );
    const r = openTarballInChild(t);
    expect(r.code).toBe('FILE_TOO_LARGE');
    expect(r.maxRssMiB).toBeLessThan(200);
  });

  it('a tarball holding every member twice is refused before anything is unpacked (strict tar reader)', async () => {
    const dup = await tarballOf({}, (e) => e);
    // every name twice: the tar without its end marker, then the whole tar again (tarBytes itself refuses duplicates)
    const tar = gunzipSync(readFileSync(dup));
    const twice = Buffer.concat([tar.subarray(0, tar.length - 1024), tar.subarray(0, tar.length)]);
    const bad = join(base, 'dup.tar.gz');
    writeFileSync(bad, gzipSync(twice));
    const r = runCli(['verify', bad, '--at', AT, '--json']);
    expect(r.status).not.toBe(0);
    expect(['ARCHIVE_INVALID', 'BUNDLE_INVALID']).toContain(r.json().error.code);
  });
});
