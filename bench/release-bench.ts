/**
 * Release benchmark: tufsign's archive, hash and patch stages, and its whole
 * release build, against GNU tar + gzip -6, sha256sum + sha512sum and Debian
 * bsdiff, on the same generated ~200 MB bundles, in one run.
 *
 *   npx tsc -p bench/tsconfig.json && node node_modules/.cache/tufsign-bench/bench/release-bench.js
 *
 * The compiled script goes to node_modules/.cache/tufsign-bench (ignored by git
 * and lint), data to bench/data/ (gitignored), results to bench/RESULTS.md.
 * Every command runs under /usr/bin/time, which gives wall time and peak RSS.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem, release as osRelease } from 'node:os';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, readdirSync, unlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const BUILD = resolve(__dirname, '..');
const DATA = join(ROOT, 'bench/data');
const STAGE = join(BUILD, 'bench/stage.js');

// ------------------------------------------------------------ data generator

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(this.next(), i);
    for (; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

const WORDS = 'return if else for while const let function class import export from value result error index count buffer length data file path name version release archive patch target hash signature key root snapshot timestamp threshold update client server config options'.split(' ');

function text(rng: Rng, size: number): Buffer {
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const indent = '  '.repeat(rng.int(4));
    const words = Array.from({ length: 3 + rng.int(9) }, () => WORDS[rng.int(WORDS.length)]!).join(' ');
    const line = `${indent}${words}${rng.int(3) === 0 ? ` = ${rng.int(100000)};` : ''}\n`;
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/** Machine-code-like bytes: a skewed choice among a fixed set of short tokens, plus some raw noise. */
function binary(rng: Rng, size: number, dict: Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(size);
  let n = 0;
  while (n < size) {
    const r = rng.next() / 2 ** 32;
    if (r < 0.04) {
      const noise = rng.bytes(4 + rng.int(12));
      n += noise.copy(out, n);
    } else {
      const t = dict[Math.floor(r * r * r * dict.length)]!;
      n += t.copy(out, n);
    }
  }
  return out;
}

function write(path: string, data: Buffer, mode = 0o644): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, data);
  chmodSync(path, mode);
}

function generate(): void {
  const v1 = join(DATA, 'v1');
  const v2 = join(DATA, 'v2');
  if (existsSync(join(DATA, 'generated-ok'))) return;
  rmSync(v1, { recursive: true, force: true });
  rmSync(v2, { recursive: true, force: true });
  const rng = new Rng(20240601);
  const dict = Array.from({ length: 4096 }, () => rng.bytes(4 + rng.int(13)));
  // v1: sources, shared libraries, compressed assets, one large executable.
  const files = new Map<string, { data: Buffer; mode: number }>();
  for (let i = 0; i < 2500; i++) files.set(`app/src/pkg${i % 40}/module_${i}.py`, { data: text(rng, 2000 + rng.int(18000)), mode: 0o644 });
  for (let i = 0; i < 40; i++) files.set(`app/lib/libmod${i}.so`, { data: binary(rng, 500_000 + rng.int(3_500_000), dict), mode: 0o755 });
  for (let i = 0; i < 30; i++) files.set(`app/assets/img${i}.png`, { data: rng.bytes(200_000 + rng.int(1_300_000)), mode: 0o644 });
  files.set('app/bin/benchapp', { data: binary(rng, 60_000_000, dict), mode: 0o755 });
  for (const [p, f] of files) write(join(v1, p), f.data, f.mode);
  mkdirSync(join(v1, 'app/logs'), { recursive: true });

  // v2: ~5 % of sources edited, three libraries patched, assets replaced,
  // files added and removed, the large executable rebuilt (shifted code, changed pointers, a new section).
  const edit = (d: Buffer): Buffer => {
    const at = rng.int(d.length);
    return Buffer.concat([d.subarray(0, at), text(rng, 50 + rng.int(500)), d.subarray(Math.min(d.length, at + rng.int(200)))]);
  };
  const patchBinary = (d: Buffer, pointers: number, insert: number, replace: number): Buffer => {
    const b = Buffer.from(d);
    for (let i = 0; i < pointers; i++) b.writeUInt32LE(rng.next(), rng.int(b.length - 4));
    const at = rng.int(b.length);
    const r = rng.int(b.length - replace);
    binary(rng, replace, dict).copy(b, r);
    return Buffer.concat([b.subarray(0, at), binary(rng, insert, dict), b.subarray(at)]);
  };
  const keys = [...files.keys()];
  for (const k of keys) {
    const f = files.get(k)!;
    if (k.endsWith('.py') && rng.int(20) === 0) f.data = edit(f.data);
  }
  for (const i of [3, 17, 29]) files.get(`app/lib/libmod${i}.so`)!.data = patchBinary(files.get(`app/lib/libmod${i}.so`)!.data, 200, 65_536, 100_000);
  for (const i of [2, 9]) files.get(`app/assets/img${i}.png`)!.data = rng.bytes(files.get(`app/assets/img${i}.png`)!.data.length);
  for (const i of [11, 12, 13, 14, 15]) files.delete(`app/src/pkg${i % 40}/module_${i}.py`);
  files.delete('app/assets/img20.png');
  for (let i = 0; i < 3; i++) files.set(`app/src/new/feature_${i}.py`, { data: text(rng, 10_000), mode: 0o644 });
  files.set('app/lib/libnew.so', { data: binary(rng, 1_000_000, dict), mode: 0o755 });
  files.get('app/bin/benchapp')!.data = patchBinary(files.get('app/bin/benchapp')!.data, 3000, 100_000, 1_000_000);
  for (const [p, f] of files) write(join(v2, p), f.data, f.mode);
  mkdirSync(join(v2, 'app/logs'), { recursive: true });
  writeFileSync(join(DATA, 'generated-ok'), 'ok\n');
}

// ------------------------------------------------------------- measurement

interface Measure {
  seconds: number;
  maxRssMb: number;
  stdout: string;
}

function measure(cmd: string, args: string[]): Measure {
  const r = spawnSync('/usr/bin/time', ['-f', '@@TIME %e %M', cmd, ...args], { maxBuffer: 1 << 26, encoding: 'utf8' });
  const m = /@@TIME ([0-9.]+) ([0-9]+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { seconds: Number(m[1]), maxRssMb: Number(m[2]) / 1024, stdout: r.stdout };
}

function sh(script: string): Measure {
  return measure('bash', ['-c', `set -euo pipefail; ${script}`]);
}

function size(p: string): number {
  return statSync(p).size;
}

function sha256File(p: string): string {
  return createHash('sha256').update(readFileSync(p)).digest('hex');
}

function dirBytes(d: string): number {
  let n = 0;
  for (const e of readdirSync(d, { withFileTypes: true, recursive: true })) if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  return n;
}

const fmt = (x: number, d = 2): string => x.toFixed(d);
const mb = (b: number): string => (b / 1e6).toFixed(1);

function main(): void {
  mkdirSync(DATA, { recursive: true });
  const t0 = Date.now();
  generate();
  const v1 = join(DATA, 'v1');
  const v2 = join(DATA, 'v2');
  const w = join(DATA, 'work');
  rmSync(w, { recursive: true, force: true });
  mkdirSync(join(w, 'e2e'), { recursive: true });
  const node = process.execPath;
  process.stderr.write(`data ready (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);

  // Previous release (not timed as a comparison; it is the patch base).
  const prev = measure(node, [STAGE, 'archive', v1, join(w, 'v1.tar.gz'), join(w, 'v1.tar')]);
  // Archive stage.
  // The patch stages need v2's uncompressed tar; write it outside the timed run (the reference does not write one either).
  measure(node, [STAGE, 'archive', v2, join(w, 'v2-untimed.tar.gz'), join(w, 'v2.tar')]);
  const tsArchive = measure(node, [STAGE, 'archive', v2, join(w, 'v2.tar.gz')]);
  const refArchive = sh(`tar -C ${v2} -cf - . | gzip -6 > ${join(w, 'ref-v2.tar.gz')}`);
  process.stderr.write('archive done\n');
  // Hash stage (sha256 + sha512 of the archive).
  const tsHash = measure(node, [STAGE, 'hash', join(w, 'v2.tar.gz')]);
  const refHash = sh(`sha256sum ${join(w, 'v2.tar.gz')} > /dev/null; sha512sum ${join(w, 'v2.tar.gz')} > /dev/null`);
  process.stderr.write('hash done\n');
  // Patch stage, same tar pair for both.
  const tsPatch = measure(node, [STAGE, 'patch', join(w, 'v1.tar'), join(w, 'v2.tar'), join(w, 'ts.patch')]);
  process.stderr.write('tufsign patch done\n');
  const refPatch = measure('bsdiff', [join(w, 'v1.tar'), join(w, 'v2.tar'), join(w, 'ref.patch')]);
  process.stderr.write('bsdiff done\n');
  execFileSync('bspatch', [join(w, 'v1.tar'), join(w, 'ts-applied.tar'), join(w, 'ts.patch')]);
  const patchOk = sha256File(join(w, 'ts-applied.tar')) === sha256File(join(w, 'v2.tar'));
  // End to end: tufsign's whole build vs the reference tools one after the other.
  const tsE2e = measure(node, [STAGE, 'e2e', v2, join(w, 'v1.tar.gz'), join(w, 'e2e')]);
  const e2eOut = JSON.parse(tsE2e.stdout.trim()) as { archive: number; patch?: number; tarSha256: string };
  const refGunzip = sh(`gzip -dc ${join(w, 'v1.tar.gz')} > ${join(w, 'ref-old.tar')}`);
  const refTar = sh(`tar -C ${v2} -cf ${join(w, 'ref-new.tar')} .`);
  const refHashPatch = sh(`sha256sum ${join(w, 'ref.patch')} > /dev/null; sha512sum ${join(w, 'ref.patch')} > /dev/null`);
  const refSteps = [refArchive, refGunzip, refTar, refPatch, refHash, refHashPatch];
  const refE2e = { seconds: refSteps.reduce((s, m) => s + m.seconds, 0), maxRssMb: Math.max(...refSteps.map((m) => m.maxRssMb)) };
  process.stderr.write('e2e done\n');

  const archiveSize = size(join(w, 'v2.tar.gz'));
  const refArchiveSize = size(join(w, 'ref-v2.tar.gz'));
  const tsPatchSize = size(join(w, 'ts.patch'));
  const refPatchSize = size(join(w, 'ref.patch'));
  const tool = (c: string, a: string[]): string => {
    try {
      return execFileSync(c, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim();
    } catch (e) {
      return String((e as { stderr?: string }).stderr ?? '').split('\n')[0]!.trim();
    }
  };
  const row = (name: string, ts: { seconds: number; maxRssMb: number }, ref: { seconds: number; maxRssMb: number }, target: string, met: boolean): string =>
    `| ${name} | ${fmt(ts.seconds)} s | ${fmt(ref.seconds)} s | **${fmt(ts.seconds / ref.seconds)}** | ${fmt(ts.maxRssMb, 0)} MB | ${fmt(ref.maxRssMb, 0)} MB | ${fmt(ts.maxRssMb / ref.maxRssMb)} | ${target} | ${met ? 'met' : '**missed**'} |`;

  const md = `# Release benchmark

Generated by \`bench/release-bench.ts\` on ${new Date().toISOString().slice(0, 10)}. Reproduce with:

\`\`\`sh
npx tsc -p bench/tsconfig.json && node node_modules/.cache/tufsign-bench/bench/release-bench.js
\`\`\`

Every figure is one run of one command under \`/usr/bin/time\` (wall-clock seconds, peak resident memory), on the same data in the same run. Ratios are tufsign ÷ reference: below 1 means tufsign is faster or smaller.

## Machine

- CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}
- RAM: ${(totalmem() / 2 ** 30).toFixed(1)} GiB; kernel ${osRelease()}
- Node ${process.version}; ${tool('tar', ['--version'])}; ${tool('gzip', ['--version'])}; ${tool('sha256sum', ['--version'])}; bsdiff: Debian package ${tool('dpkg-query', ['-W', '-f=${Version}', 'bsdiff'])}

## Data

Two generated application bundles (deterministic generator, seed in the script):

- v1: ${mb(dirBytes(v1))} MB in 2,571 files — 2,500 Python-like sources, 40 shared-library-like binaries (0.5–4 MB), 30 incompressible assets, one 60 MB executable.
- v2: ${mb(dirBytes(v2))} MB — about 5 % of the sources edited, 3 libraries patched (pointer changes, a 64 KB insertion, a 100 KB section rewritten), 2 assets replaced, 6 files removed, 4 added (one a 1 MB library), and the 60 MB executable rebuilt (everything after a 100 KB insertion shifted, 3,000 pointers changed, a 1 MB section rewritten).
- Uncompressed tars: v1 ${mb(size(join(w, 'v1.tar')))} MB, v2 ${mb(size(join(w, 'v2.tar')))} MB.

## Results

| stage | tufsign | reference | time ratio | tufsign peak | reference peak | memory ratio | target | |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${row('archive (scan, read, tar, gzip) vs `tar \\| gzip -6`', tsArchive, refArchive, 'ratio ≤ 1.0', tsArchive.seconds <= refArchive.seconds)}
${row('hash (sha256 + sha512 of the archive) vs `sha256sum` then `sha512sum`', tsHash, refHash, 'ratio ≤ 1.2', tsHash.seconds <= 1.2 * refHash.seconds)}
${row('patch (v1.tar → v2.tar) vs Debian `bsdiff`', tsPatch, refPatch, 'ratio ≤ 0.33, less memory', tsPatch.seconds * 3 <= refPatch.seconds && tsPatch.maxRssMb < refPatch.maxRssMb)}
${row('end to end (archive + patch + hashes + checks) vs the tools in sequence', tsE2e, refE2e, 'ratio < 1.0', tsE2e.seconds < refE2e.seconds)}

Sizes:

| | tufsign | reference | ratio |
| --- | --- | --- | --- |
| archive (v2) | ${archiveSize} B | ${refArchiveSize} B (\`tar \\| gzip -6\`) | ${fmt(archiveSize / refArchiveSize, 3)} |
| patch v1 → v2 | ${tsPatchSize} B | ${refPatchSize} B (Debian \`bsdiff\`) | ${fmt(tsPatchSize / refPatchSize, 3)} (target ≤ 1.05) |
| patch ÷ archive | ${fmt(tsPatchSize / archiveSize, 4)} | | tufup clients patch when ≤ 0.8 |

Checks: tufsign's patch applied with Debian \`bspatch\` to v1.tar gives v2.tar: **${patchOk ? 'yes' : 'NO'}**. End-to-end run: archive ${e2eOut.archive} B, patch ${e2eOut.patch ?? 'skipped'} B, tar sha256 ${e2eOut.tarSha256.slice(0, 16)}….

Reference end-to-end = \`tar | gzip -6\` (${fmt(refArchive.seconds)} s) + \`gzip -dc\` of the previous archive (${fmt(refGunzip.seconds)} s) + \`tar -cf\` of the new tar (${fmt(refTar.seconds)} s) + \`bsdiff\` (${fmt(refPatch.seconds)} s) + \`sha256sum\`/\`sha512sum\` of archive and patch (${fmt(refHash.seconds + refHashPatch.seconds)} s); its peak is the largest single step. The previous release's archive stage (the patch base) took ${fmt(prev.seconds)} s and ${fmt(prev.maxRssMb, 0)} MB.

## Notes

- tufsign's patch stage matches member data that is byte-identical between the two tars and runs bsdiff's search only over the rest (docs/adr/0005-release-archives-and-patches.md); the patch format and the search loop are bsdiff 4.3's, which is why sizes stay close.
- tufsign's end-to-end run also gunzips the previous archive, re-reads the new archive to check it expands to the tar that was hashed, and computes sha256 and sha512 for both files; metadata signing is not included (milliseconds).
- One run per figure, on a 2-core VM: run nothing else meanwhile. tufsign's archive stage uses both cores for gzip (blocks compressed in parallel), as the reference pipeline uses two processes.
- tufsign's patch stage uses both cores: the suffix array is built in two halves (one in a worker thread) and bsdiff's loop runs over fixed 1 MiB chunks of the changed data shared out between the two threads; the patch bytes do not depend on which thread did what. Debian bsdiff is single-threaded. Patch sizes differ slightly from bsdiff's both ways, because matches cannot cross the halves or chunk borders and each chunk starts bsdiff's scan afresh.
- Memory: tufsign holds both tars, the new archive and, for the changed part only, a 4-byte-per-byte suffix array (plus one type bit per byte while building it); Debian bsdiff holds a suffix array of the whole old tar.
`;
  writeFileSync(join(ROOT, 'bench/RESULTS.md'), md);
  for (const f of ['ref-old.tar', 'ref-new.tar', 'ts-applied.tar']) if (existsSync(join(w, f))) unlinkSync(join(w, f));
  process.stderr.write(`wrote bench/RESULTS.md (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
}

main();
