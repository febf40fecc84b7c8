/**
 * Release benchmark: tufsign's add-release (archive only, and archive + patch)
 * and its patch stage against Debian bsdiff, `tar | gzip -6`,
 * `sha256sum` + `sha512sum` and an emulation of tufup's repository side, on
 * generated release pairs (bench/generate.ts), all in one run.
 *
 *   npx tsc -p bench/tsconfig.json && node node_modules/.cache/tufsign-bench/bench/release-bench.js [options]
 *     --pairs hard,easy,many,large   which pairs (default all four; large = one big folder, archive only)
 *     --scale 1                size of the hard pair (1 = ~200 MB, the issue's application)
 *     --many 100000            file count of the many-small-files pair
 *     --large-gb 1             size of the large folder (archive-only streaming, peak memory)
 *     --out bench/RESULTS.md   where the report goes
 *
 * Data goes to bench/data/ (gitignored). Every command runs as its own process
 * under /usr/bin/time, which gives wall time and peak RSS (worker threads are
 * in the same process, so they are counted).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem, release as osRelease } from 'node:os';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { generateEasy, generateHard, generateLarge, generateMany, type PairInfo } from './generate';
import { readTar } from '../src/release/tar';

const ROOT = resolve(__dirname, '../../../..');
const BUILD = resolve(__dirname, '..');
const STAGE = join(BUILD, 'bench/stage.js');
const TUFUP = join(ROOT, 'bench/tufup-emulation.py');

interface Measure {
  seconds: number;
  peakMiB: number;
  /** User + system CPU seconds of the process and its children (all threads). */
  cpuSeconds: number;
  /** 1-minute load average just before the command started (other processes' demand on the 2 cores). */
  loadBefore: number;
  stdout: string;
}

const load1 = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/** Every measurement, appended as one JSON line, so a run cut short still leaves its raw figures. */
let rawLog: string | undefined;

function measure(cmd: string, args: string[]): Measure {
  const loadBefore = load1();
  const r = spawnSync('/usr/bin/time', ['-f', '@@TIME %e %M %U %S', cmd, ...args], {
    maxBuffer: 1 << 26,
    encoding: 'utf8',
  });
  const m = /@@TIME ([0-9.]+) ([0-9]+) ([0-9.]+) ([0-9.]+)/.exec(r.stderr);
  if (r.status !== 0 || m === null)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const out = {
    seconds: Number(m[1]),
    peakMiB: Number(m[2]) / 1024,
    cpuSeconds: Number(m[3]) + Number(m[4]),
    loadBefore,
    stdout: r.stdout,
  };
  if (rawLog !== undefined)
    appendFileSync(
      rawLog,
      `${JSON.stringify({ at: new Date().toISOString(), cmd: [cmd, ...args].join(' '), ...out, loadAfter: load1() })}\n`,
    );
  return out;
}

const sh = (script: string): Measure => measure('bash', ['-c', `set -euo pipefail; ${script}`]);
const size = (p: string): number => statSync(p).size;
const sha256File = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
const fmt = (x: number, d = 2): string => x.toFixed(d);
const log = (s: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

function args(): {
  pairs: string[];
  scale: number;
  many: number;
  largeGb: number;
  bsdiffCap: number;
  out: string;
} {
  const a = process.argv.slice(2);
  const get = (k: string, d: string): string => {
    const i = a.indexOf(k);
    return i >= 0 && a[i + 1] !== undefined ? a[i + 1]! : d;
  };
  return {
    pairs: get('--pairs', 'hard,easy,many,large').split(','),
    largeGb: Number(get('--large-gb', '1')),
    bsdiffCap: Number(get('--bsdiff-cap', '0')),
    scale: Number(get('--scale', '1')),
    many: Number(get('--many', '100000')),
    out: resolve(get('--out', join(ROOT, 'bench/RESULTS.md'))),
  };
}

/** Bytes of the new tar's members, by how they relate to the old tar. */
function composition(
  oldTar: Buffer,
  newTar: Buffer,
): { unchanged: number; moved: number; modified: number; added: number; headers: number } {
  const digest = (t: Buffer, e: { offset: number; size: number }): string =>
    createHash('sha1')
      .update(t.subarray(e.offset, e.offset + e.size))
      .digest('hex');
  const oldByPath = new Map<string, string>();
  const oldDigests = new Set<string>();
  for (const e of readTar(oldTar)) {
    if (e.type !== 'file') continue;
    const d = digest(oldTar, e);
    oldByPath.set(e.path, d);
    oldDigests.add(d);
  }
  const out = { unchanged: 0, moved: 0, modified: 0, added: 0, headers: 0 };
  let data = 0;
  for (const e of readTar(newTar)) {
    if (e.type !== 'file') continue;
    data += e.size;
    const d = digest(newTar, e);
    const was = oldByPath.get(e.path);
    if (was === d) out.unchanged += e.size;
    else if (oldDigests.has(d)) out.moved += e.size;
    else if (was !== undefined) out.modified += e.size;
    else out.added += e.size;
  }
  out.headers = newTar.length - data;
  return out;
}

interface PairResult {
  name: string;
  info: PairInfo;
  md: string;
}

function runPair(name: string, info: PairInfo, dir: string, bsdiffCap: number): PairResult {
  const w = join(dir, 'work');
  rmSync(w, { recursive: true, force: true });
  mkdirSync(join(w, 'r1'), { recursive: true });
  mkdirSync(join(w, 'r2-t1'), { recursive: true });
  mkdirSync(join(w, 'r2-t2'), { recursive: true });
  const node = process.execPath;
  const v1tar = join(w, 'v1.tar');
  const v2tar = join(w, 'v2.tar');
  // Uncompressed tars for bsdiff and the patch stage (not timed; the reference tools get the same files).
  execFileSync(node, [STAGE, 'tar', info.v1, v1tar, '1.0']);
  execFileSync(node, [STAGE, 'tar', info.v2, v2tar, '2.0']);
  const comp = composition(readFileSync(v1tar), readFileSync(v2tar));
  log(`${name}: tars ready`);

  const ts1 = measure(node, [STAGE, 'release', info.v1, '-', join(w, 'r1'), '2']);
  const r1 = JSON.parse(ts1.stdout) as { archivePath: string };
  log(`${name}: tufsign 1.0 ${ts1.seconds} s`);
  const ts2 = measure(node, [STAGE, 'release', info.v2, r1.archivePath, join(w, 'r2-t2'), '2']);
  const ts2one = measure(node, [STAGE, 'release', info.v2, r1.archivePath, join(w, 'r2-t1'), '1']);
  const r2 = JSON.parse(ts2.stdout) as {
    archivePath: string;
    archive: number;
    patchPath?: string;
    patch?: number;
    patchSkipped?: string;
  };
  const r2one = JSON.parse(ts2one.stdout) as { archivePath: string; patchPath?: string };
  log(`${name}: tufsign 2.0 ${ts2.seconds} s (2 threads), ${ts2one.seconds} s (1 thread)`);
  const patch2 = measure(node, [STAGE, 'patch', v1tar, v2tar, join(w, 'ts-t2.patch'), '2']);
  const patch1 = measure(node, [STAGE, 'patch', v1tar, v2tar, join(w, 'ts-t1.patch'), '1']);
  log(`${name}: tufsign patch ${patch2.seconds} s (2 threads), ${patch1.seconds} s (1 thread)`);

  const refGzip = sh(`tar -C ${info.v2} -cf - . | gzip -6 > ${join(w, 'ref-v2.tar.gz')}`);
  const refHash = sh(`sha256sum ${r2.archivePath} > /dev/null; sha512sum ${r2.archivePath} > /dev/null`);
  // tufup emulation; its bsdiff step is the Debian bsdiff measurement of this run.
  const tufup1 = measure('python3', [TUFUP, 'archive', info.v1, join(w, 'tufup-1.0.tar.gz')]);
  const tufup2a = measure('python3', [TUFUP, 'archive', info.v2, join(w, 'tufup-2.0.tar.gz')]);
  log(`${name}: tufup archives ${tufup1.seconds} + ${tufup2a.seconds} s; bsdiff running`);
  const tufup2p = measure('python3', [
    TUFUP,
    'patch',
    join(w, 'tufup-1.0.tar.gz'),
    join(w, 'tufup-2.0.tar.gz'),
    join(w, 'ref.patch'),
    String(bsdiffCap),
  ]);
  const tp = JSON.parse(tufup2p.stdout) as {
    gunzipSeconds: number;
    bsdiffSeconds: number;
    bsdiffCpuSeconds: number;
    bsdiffMaxRssKiB: number;
    bsdiffCapped: boolean;
    selfMaxRssKiB: number;
  };
  // A capped bsdiff is a lower bound on its time: every ratio against it is an upper bound ("<").
  const capped = tp.bsdiffCapped;
  const bsdiff = {
    seconds: tp.bsdiffSeconds,
    peakMiB: tp.bsdiffMaxRssKiB / 1024,
    cpuSeconds: tp.bsdiffCpuSeconds,
    loadBefore: tufup2p.loadBefore,
  };
  const tufup = {
    seconds: tufup1.seconds + tufup2a.seconds + tufup2p.seconds,
    cpuSeconds: tufup1.cpuSeconds + tufup2a.cpuSeconds + tufup2p.cpuSeconds,
    loadBefore: tufup1.loadBefore,
    peakMiB: Math.max(tufup1.peakMiB, tufup2a.peakMiB, tp.selfMaxRssKiB / 1024 + tp.bsdiffMaxRssKiB / 1024),
  };
  log(`${name}: bsdiff ${capped ? '> ' : ''}${fmt(bsdiff.seconds)} s`);

  // Checks: Debian bspatch turns v1.tar into v2.tar with tufsign's patch; thread counts give the same bytes.
  const applied = join(w, 'applied.tar');
  let patchOk = false;
  if (r2.patchPath !== undefined) {
    execFileSync('bspatch', [v1tar, applied, r2.patchPath]);
    patchOk = sha256File(applied) === sha256File(v2tar);
    rmSync(applied, { force: true });
  }
  const sameBytes =
    sha256File(join(w, 'ts-t1.patch')) === sha256File(join(w, 'ts-t2.patch')) &&
    sha256File(r2.archivePath) === sha256File(r2one.archivePath) &&
    (r2.patchPath === undefined) === (r2one.patchPath === undefined) &&
    (r2.patchPath === undefined || sha256File(r2.patchPath) === sha256File(r2one.patchPath!));
  const tsPatchSize = size(join(w, 'ts-t2.patch'));
  const refPatchSize = capped ? NaN : size(join(w, 'ref.patch'));
  const newTarSize = size(v2tar);
  const pct = (x: number): string => `${((100 * x) / newTarSize).toFixed(1)} %`;

  const row = (step: string, m: Omit<Measure, 'stdout'>, output = '', lowerBound = false): string =>
    `| ${step} | ${lowerBound ? '> ' : ''}${fmt(m.seconds)} s | ${lowerBound ? '> ' : ''}${fmt(m.cpuSeconds, 1)} s | ${fmt(m.peakMiB, 0)} MiB | ${fmt(m.loadBefore)} | ${output} |`;
  // upper: the reference was capped, so the true ratio is below the value shown.
  const ratio = (what: string, value: number, target: number, fmtTarget: string, upper = false): string =>
    Number.isNaN(value)
      ? `| ${what} | not measured (reference capped) | ${fmtTarget} | |`
      : `| ${what} | **${upper ? '< ' : ''}${fmt(value, 3)}** | ${fmtTarget} | ${target === Infinity ? '' : value <= target ? 'met' : upper ? 'not shown' : '**missed**'} |`;
  const md = `## ${name} pair

${info.description.map((l) => `- ${l}`).join('\n')}
- Tars: v1 ${size(v1tar).toLocaleString('en')} B, v2 ${newTarSize.toLocaleString('en')} B. Of v2's tar: ${pct(comp.modified)} in modified members (same path, other content), ${pct(comp.added)} in added or renamed-and-changed members, ${pct(comp.moved)} in members moved or renamed unchanged, ${pct(comp.unchanged)} unchanged, ${pct(comp.headers)} headers and padding.

| step (same data, same run) | wall time | CPU (user + sys) | peak memory | load before | output |
| --- | --- | --- | --- | --- | --- |
${row('tufsign add-release 1.0 (archive only)', ts1, `archive ${size(r1.archivePath).toLocaleString('en')} B`)}
${row('tufsign add-release 2.0 (archive + patch), 2 threads', ts2, r2.patch !== undefined ? `patch ${r2.patch.toLocaleString('en')} B` : `no patch: ${r2.patchSkipped ?? ''}`)}
${row('tufsign add-release 2.0, 1 thread', ts2one)}
${row('tufsign patch stage (v1.tar → v2.tar), 2 threads', patch2, `patch ${tsPatchSize.toLocaleString('en')} B`)}
${row('tufsign patch stage, 1 thread', patch1)}
${row('Debian `bsdiff v1.tar v2.tar`', bsdiff, capped ? `stopped at the cap of ${bsdiffCap} s, unfinished` : `patch ${refPatchSize.toLocaleString('en')} B`, capped)}
${row('`tar \\| gzip -6` of v2', refGzip, `archive ${size(join(w, 'ref-v2.tar.gz')).toLocaleString('en')} B`)}
${row('`sha256sum` + `sha512sum` of the 2.0 archive', refHash)}
${row('tufup repository side (emulated), 1.0 + 2.0', tufup, `1.0 archive ${fmt(tufup1.seconds)} s, 2.0 archive ${fmt(tufup2a.seconds)} s, gunzip both ${fmt(tp.gunzipSeconds)} s, bsdiff ${capped ? '> ' : ''}${fmt(tp.bsdiffSeconds)} s`, capped)}

| ratio | value | target | |
| --- | --- | --- | --- |
${ratio('patch stage (2 threads) ÷ Debian bsdiff, time', patch2.seconds / bsdiff.seconds, 0.1, '≤ 0.1', capped)}
${ratio('add-release 2.0 ÷ (bsdiff + `tar \\| gzip -6`), time', ts2.seconds / (bsdiff.seconds + refGzip.seconds), 0.12, '≤ 0.12', capped)}
${ratio('add-release 1.0 + 2.0 ÷ tufup 1.0 + 2.0, time', (ts1.seconds + ts2.seconds) / tufup.seconds, 0.1, '≤ 0.1', capped)}
${ratio('add-release 1.0 ÷ `tar \\| gzip -6`, time', ts1.seconds / refGzip.seconds, 1.5, '≤ 1.5')}
${ratio('patch size ÷ Debian bsdiff patch size', tsPatchSize / refPatchSize, 1.02, '≤ 1.02')}
${ratio('add-release 2.0 peak ÷ bsdiff peak', ts2.peakMiB / bsdiff.peakMiB, 0.5, '≤ 0.5')}

The same targets in CPU seconds (user + system, all threads), which another process's load changes far less than wall time. With one thread, CPU time is about the wall time on an idle core, so these rows bound what an idle machine would show with one thread (two threads can only shorten tufsign's wall time; the references are single-threaded):

| ratio (CPU time) | value | target (wall) | |
| --- | --- | --- | --- |
${ratio('patch stage, 1 thread ÷ Debian bsdiff', patch1.cpuSeconds / bsdiff.cpuSeconds, 0.1, '≤ 0.1', capped)}
${ratio('patch stage, 2 threads ÷ Debian bsdiff', patch2.cpuSeconds / bsdiff.cpuSeconds, Infinity, 'report', capped)}
${ratio('add-release 2.0, 1 thread ÷ (bsdiff + `tar \\| gzip -6`)', ts2one.cpuSeconds / (bsdiff.cpuSeconds + refGzip.cpuSeconds), 0.12, '≤ 0.12', capped)}
${ratio('add-release 1.0 + 2.0 (2.0 on 1 thread) ÷ tufup 1.0 + 2.0', (ts1.cpuSeconds + ts2one.cpuSeconds) / tufup.cpuSeconds, 0.1, '≤ 0.1', capped)}
${ratio('add-release 2.0, 2 threads ÷ 1 thread (parallel overhead)', ts2.cpuSeconds / ts2one.cpuSeconds, Infinity, 'report')}

| other ratios | value | target | |
| --- | --- | --- | --- |
${ratio('add-release 1.0 peak, MiB ÷ 200', ts1.peakMiB / 200, 1, '≤ 1 (200 MiB)')}
${ratio('patch stage 1 thread ÷ 2 threads, time (scaling)', patch1.seconds / patch2.seconds, Infinity, 'report')}
${ratio('add-release 2.0 1 thread ÷ 2 threads, time (scaling)', ts2one.seconds / ts2.seconds, Infinity, 'report')}

Checks: tufsign's 2.0 patch applied by Debian \`bspatch\` to v1.tar gives v2.tar: **${r2.patchPath === undefined ? 'no patch' : patchOk ? 'yes' : 'NO'}**. Archive and patch bytes identical with 1 and 2 threads: **${sameBytes ? 'yes' : 'NO'}**.
`;
  log(`${name}: done`);
  return { name, info, md };
}

/** Archive-only release of one large folder: streamed, so its peak memory must not grow with the folder. */
function runLarge(dir: string, gb: number): string {
  const { dir: bundle, description } = generateLarge(dir, gb * 1e9);
  log('large: data ready');
  const w = join(dir, 'work');
  rmSync(w, { recursive: true, force: true });
  mkdirSync(w, { recursive: true });
  const ts = measure(process.execPath, [STAGE, 'release', bundle, '-', w, '2']);
  const r = JSON.parse(ts.stdout) as { archivePath: string; archive: number; tarSha256: string };
  log(`large: tufsign 1.0 ${ts.seconds} s, ${fmt(ts.peakMiB, 0)} MiB`);
  const refGzip = sh(`tar -C ${bundle} -cf - . | gzip -6 > ${join(w, 'ref.tar.gz')}`);
  const refHash = sh(`sha256sum ${r.archivePath} > /dev/null; sha512sum ${r.archivePath} > /dev/null`);
  const expands = sh(`gzip -dc ${r.archivePath} | sha256sum`).stdout.split(' ')[0] === r.tarSha256;
  const tarBytes = Number(sh(`gzip -dc ${r.archivePath} | wc -c`).stdout.trim());
  const refSize = size(join(w, 'ref.tar.gz'));
  const row = (step: string, m: Omit<Measure, 'stdout'>, output = ''): string =>
    `| ${step} | ${fmt(m.seconds)} s | ${fmt(m.cpuSeconds, 1)} s | ${fmt(m.peakMiB, 0)} MiB | ${fmt(m.loadBefore)} | ${output} |`;
  rmSync(w, { recursive: true, force: true });
  return `## large folder, archive only (streaming)

- ${description}
- Tar ${tarBytes.toLocaleString('en')} B.

| step (same data, same run) | wall time | CPU (user + sys) | peak memory | load before | output |
| --- | --- | --- | --- | --- | --- |
${row('tufsign add-release 1.0 (archive only, streamed), 2 threads', ts, `archive ${r.archive.toLocaleString('en')} B`)}
${row('`tar \\| gzip -6`', refGzip, `archive ${refSize.toLocaleString('en')} B`)}
${row('`sha256sum` + `sha512sum` of the archive', refHash)}

| ratio | value | target | |
| --- | --- | --- | --- |
| add-release 1.0 peak, MiB ÷ 200 | **${fmt(ts.peakMiB / 200, 3)}** | ≤ 1 (200 MiB) | ${ts.peakMiB <= 200 ? 'met' : '**missed**'} |
| add-release 1.0 ÷ \`tar \\| gzip -6\`, time | **${fmt(ts.seconds / refGzip.seconds, 3)}** | report | |

Check: \`gzip -dc\` of tufsign's archive gives the tar it hashed: **${expands ? 'yes' : 'NO'}**.
`;
}

function tool(c: string, a: string[]): string {
  try {
    return execFileSync(c, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n')[0]!
      .trim();
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? '')
      .split('\n')[0]!
      .trim();
  }
}

function main(): void {
  const opt = args();
  const t0 = Date.now();
  const sections: string[] = [];
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  mkdirSync(join(ROOT, 'bench/data'), { recursive: true });
  rawLog = join(ROOT, 'bench/data', `raw-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.jsonl`);
  const commit = tool('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = tool('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no', 'src', 'bench']) !== '';
  // Written after every pair, so a run cut short still leaves what it measured (marked partial).
  const report = (done: boolean): void => {
    const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const cmd =
      `npx tsc -p bench/tsconfig.json && node node_modules/.cache/tufsign-bench/bench/release-bench.js ${process.argv.slice(2).join(' ')}`.trim();
    const md = `# Release benchmark

Generated by \`bench/release-bench.ts\` at commit ${commit}${dirty ? ' (with uncommitted changes under src/ or bench/)' : ''} on ${new Date().toISOString().slice(0, 16)}Z in ${((Date.now() - t0) / 60000).toFixed(0)} minutes${done ? '' : ` (partial: ${sections.length} of ${opt.pairs.length} pairs so far)`}. Reproduce with:

\`\`\`sh
${cmd}
\`\`\`

Every figure is one run of one command under \`/usr/bin/time\` (wall-clock seconds; CPU = user + system seconds of the process and its children, all threads; peak resident memory of the process, worker threads included), on the same data in the same run. "load before" is the 1-minute load average just before the command started (2 cores: up to ~1 means the rest of the machine was nearly quiet). Raw figures of every command: ${rawLog}. Ratios are tufsign ÷ reference: below 1 means tufsign is faster or smaller.

## Machine

- CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}; load average ${loadBefore} before the run, ${loadAfter} ${done ? 'after' : 'at the last pair'} (the machine is shared: absolute times are noisy, ratios within a run less so).
- RAM: ${(totalmem() / 2 ** 30).toFixed(1)} GiB; kernel ${osRelease()}
- Node ${process.version}; ${tool('tar', ['--version'])}; ${tool('gzip', ['--version'])}; ${tool('sha256sum', ['--version'])}; bsdiff: Debian package ${tool('dpkg-query', ['-W', '-f=${Version}', 'bsdiff'])}; ${tool('python3', ['--version'])}

## How the references run

- \`tar | gzip -6\`: GNU tar of the v2 folder piped into gzip -6 (two processes).
- Debian \`bsdiff\`: the Debian package, run inside the tufup emulation on the tars tufup's two archives expand to (CPython \`tarfile\`, PAX headers: the same member data as the v1.tar and v2.tar tufsign's patch stage reads, a few per cent more header bytes). With \`--bsdiff-cap S\` it is stopped after S seconds and reported as "> S", a lower bound; ratios against it are then upper bounds ("<").
- tufup's repository side, emulated (tufup is on PyPI, which is not reachable here; \`python3-bsdiff4\` is not in Debian): \`bench/tufup-emulation.py\` builds each archive with \`tarfile.open(mode='w:gz', format=PAX_FORMAT)\` (gzip level 9) as tufup does, then for 2.0 reads both archives fully into memory with \`gzip.open().read()\` and diffs them with Debian \`bsdiff\` (bsdiff 4.3, the algorithm \`bsdiff4\` wraps) on the two tars written to scratch files (the write is not timed). Its bsdiff step is the \`bsdiff\` row. Peak = the Python process (both tars in memory) + bsdiff's, since tufup runs bsdiff4 in-process.
- tufsign's add-release rows run the release core in its own process (bench/stage.ts): 1.0 is \`buildArchiveRelease\` (archive only, streamed scan → tar → gzip → file, the re-read check), 2.0 is \`buildReleaseFiles\`, what \`tufsign add-release\` runs (the previous archive checked and expanded while the new one streams from the folder through gzip and the hashes, then the patch, during which the new archive is read back and checked; archive and patch written as files), i.e. add-release without metadata signing and the upload bundle; 2.0 starts from the 1.0 archive, as add-release does. The patch stage row is \`bsdiff()\` alone on the two tars read into memory.

${sections.join('\n')}`;
    writeFileSync(opt.out, md);
  };
  for (const pair of opt.pairs) {
    if (pair === 'large') {
      const dir = join(ROOT, 'bench/data', `large-${opt.largeGb}`);
      mkdirSync(dir, { recursive: true });
      sections.push(runLarge(dir, opt.largeGb));
      report(false);
      continue;
    }
    const dir = join(
      ROOT,
      'bench/data',
      pair === 'hard' ? `hard-${opt.scale}` : pair === 'many' ? `many-${opt.many}` : 'easy',
    );
    mkdirSync(dir, { recursive: true });
    const info =
      pair === 'hard'
        ? generateHard(dir, opt.scale)
        : pair === 'many'
          ? generateMany(dir, opt.many)
          : generateEasy(dir);
    log(`${pair}: data ready`);
    sections.push(runPair(pair, info, dir, opt.bsdiffCap).md);
    report(false);
  }
  report(true);
  log(`wrote ${opt.out} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  if (!existsSync(opt.out)) process.exit(1);
}

main();
