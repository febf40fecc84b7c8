/**
 * `tufsign verify` of a bundle in bounded memory (ADR 0005, "Memory bound"): the built CLI, in a child with a
 * 48 MiB heap, verifies a release bundle written as one `.tar.gz` of ~100 MB (incompressible data, so the
 * tarball, the tar it expands to and the release archive inside are each about twice the heap cap), and a bundle
 * folder with that tarball beside it. Its resident peak (VmHWM, read by the child itself at exit) stays under
 * 200 MiB and above a one-file bundle's by less than the tarball: the tarball is read in pieces and unpacked
 * as it streams, the archive inside is hashed in pieces, and the tarball beside a folder is compared by hashes
 * of pieces. Reading any of them whole (as before) adds at least one tarball's size.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runCli, TEST_OFFLINE_PASSPHRASE, TEST_PASSPHRASE } from '../helpers/cli';
import { readPeakKiB, writePeakPreload } from '../helpers/peak-rss';
import { tempDir } from '../helpers/tmp';

jest.setTimeout(180_000);

const MiB = 1024 * 1024;
const HEAP_MIB = 48;
/** What verifying the big bundle may add over a one-file bundle's peak: less than the tarball itself. */
const GROWTH_BOUND = 96 * MiB;
const base = tempDir('tufsign-bundle-memory-');
const ws = join(base, 'repo');
const peakFile = join(base, 'peak.json');
const preload = join(base, 'peak-preload.js');
const root = join(ws, 'metadata', '1.root.json');

/** `tufsign verify TARGET --root … --json` in a child with a capped heap: its report and resident peak (KiB). */
function cappedVerify(target: string): { status: number | null; json: any; peakKiB: number } {
  const r = spawnSync(
    process.execPath,
    [`--max-old-space-size=${HEAP_MIB}`, '--require', preload, BIN, 'verify', target, '--root', root, '--json'],
    { encoding: 'utf8', maxBuffer: 64 * MiB, env: { ...process.env, NO_COLOR: '1' } },
  );
  const peakKiB = readPeakKiB(peakFile);
  return { status: r.status, json: JSON.parse(r.stdout), peakKiB };
}

/** A folder of `files` × 4 MB of random bytes (gzip cannot shrink it) and a small script. */
function folder(name: string, files: number): string {
  const dir = join(base, name);
  mkdirSync(join(dir, 'lib'), { recursive: true });
  for (let f = 0; f < files; f++) writeFileSync(join(dir, 'lib', `part${f}.bin`), randomBytes(4_000_000));
  writeFileSync(join(dir, 'main.py'), `print(${JSON.stringify(name)})\n`);
  return dir;
}

/** A release with its bundle written as one tarball at `out`. */
function release(app: string, files: number, out: string): void {
  const r = runCli(['add-release', app, '1.0', folder(app, files), '-w', ws, '--bundle-out', out, '--json'], {
    env: { TUFSIGN_PASSPHRASE: TEST_PASSPHRASE, TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE },
    timeoutMs: 150_000,
  });
  if (r.status !== 0) throw new Error(r.stdout + r.stderr);
}

beforeAll(() => {
  writePeakPreload(preload, peakFile);
  const r = runCli(['init', ws, '--json']);
  if (r.status !== 0) throw new Error(r.stdout + r.stderr);
});

describe('verify of a bundle twice the heap cap', () => {
  it('a .tar.gz bundle, and a folder with its tarball beside it: both verify; resident peak under 200 MiB, growing by less than the tarball', () => {
    const tiny = join(base, 'tiny.tar.gz');
    release('tiny', 0, tiny);
    const big = join(base, 'big.tar.gz');
    release('big', 28, big); // ~112 MB
    const size = statSync(big).size;
    expect(size).toBeGreaterThan(2 * HEAP_MIB * MiB);
    expect(size).toBeGreaterThan(GROWTH_BOUND);

    const small = cappedVerify(tiny);
    expect(small.status).toBe(0);
    const r = cappedVerify(big);
    expect({ status: r.status, ok: r.json.ok }).toEqual({ status: 0, ok: true });
    // the release archive inside was checked (length and hashes), not skipped
    expect(r.json.targets).toContainEqual(expect.objectContaining({ path: 'big-1.0.tar.gz', ok: true }));
    expect(r.peakKiB * 1024).toBeLessThan(200 * MiB);
    // holding the tarball, or the tar, or the archive would each add about `size`
    // holding the tarball, the tar or the archive would each add `size` (reading them whole added ~3 × size);
    // what streaming adds is a constant: pieces, zlib state, and up to ~64 MB of garbage V8 lets pile up outside
    // its heap before it collects (measured +42…65 MiB here)
    expect((r.peakKiB - small.peakKiB) * 1024).toBeLessThan(GROWTH_BOUND);

    // the same bundle as a folder with the tarball beside it (bundles written before ADR 0017): both compared
    const dir = join(base, 'big-folder');
    mkdirSync(dir);
    execFileSync('tar', ['-xzf', big, '-C', dir]);
    copyFileSync(big, `${dir}.tar.gz`);
    const f = cappedVerify(dir);
    expect({ status: f.status, ok: f.json.ok }).toEqual({ status: 0, ok: true });
    const checks = f.json.roles.find((x: any) => x.role === 'bundle').checks.map((c: any) => c.message);
    expect(checks).toContainEqual(expect.stringContaining("big-folder.tar.gz holds exactly the folder's files"));
    expect(f.peakKiB * 1024).toBeLessThan(200 * MiB);
    expect((f.peakKiB - small.peakKiB) * 1024).toBeLessThan(GROWTH_BOUND);
    process.stderr.write(
      `verify peaks: tiny bundle ${small.peakKiB} KiB, ${size} B tarball ${r.peakKiB} KiB, folder + tarball ${f.peakKiB} KiB\n`,
    );

    // and a tarball whose archive member was altered is refused, still in bounded memory
    const bad = join(base, 'bad.tar.gz');
    const tar = execFileSync('sh', ['-c', 'gzip -dc "$0"', big], { maxBuffer: 512 * MiB });
    const mid = tar.length >> 1;
    tar[mid] = tar[mid]! ^ 0x01;
    writeFileSync(bad, execFileSync('gzip', ['-1', '-c'], { input: tar, maxBuffer: 512 * MiB }));
    const b = cappedVerify(bad);
    expect(b.status).toBe(1);
    expect(b.peakKiB * 1024).toBeLessThan(200 * MiB);
  });
});
