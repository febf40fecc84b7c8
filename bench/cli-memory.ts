/**
 * Peak memory of the real CLI `tufsign add-release` (not the release core alone, as bench/release-bench.ts
 * measures): workspace load, key files, the build to the staging folder, the commit, signing and the upload
 * bundle, each run under /usr/bin/time in its own process. Debian `bsdiff` runs on the same v1.tar and v2.tar in
 * the same run, so the 2.0 peak is reported as a ratio to bsdiff's.
 *
 *   npx tsc -p bench/tsconfig.json && npm run build && \
 *     node node_modules/.cache/tufsign-bench/bench/cli-memory.js --large-gb 1 --scale 0.2 --out bench/CLI-MEMORY.md
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { generateHard, generateLarge } from './generate';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const BIN = join(ROOT, 'bin', 'run.js');
const DATA = join(ROOT, 'bench', 'data');

interface Measure {
  seconds: number;
  peakMiB: number;
  stdout: string;
}

function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Measure {
  const r = spawnSync('/usr/bin/time', ['-f', '@@TIME %e %M', cmd, ...args], {
    maxBuffer: 1 << 26,
    encoding: 'utf8',
    env,
  });
  const m = /@@TIME ([0-9.]+) ([0-9]+)/.exec(r.stderr);
  if (r.status !== 0 || m === null)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { seconds: Number(m[1]), peakMiB: Number(m[2]) / 1024, stdout: r.stdout };
}

const fmt = (x: number, d = 2): string => x.toFixed(d);
const log = (s: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

function args(): { largeGb: number; scale: number; out: string } {
  const a = process.argv.slice(2);
  const get = (k: string, d: string): string => {
    const i = a.indexOf(k);
    return i >= 0 && a[i + 1] !== undefined ? a[i + 1]! : d;
  };
  return {
    largeGb: Number(get('--large-gb', '1')),
    scale: Number(get('--scale', '0.2')),
    out: get('--out', join(ROOT, 'bench', 'CLI-MEMORY.md')),
  };
}

const ENV = { ...process.env, TUFSIGN_PASSPHRASE: 'bench-only', TUFSIGN_OFFLINE_PASSPHRASE: 'bench-only-offline' };

function newWorkspace(dir: string): string {
  const ws = join(dir, 'ws');
  rmSync(ws, { recursive: true, force: true });
  execFileSync(process.execPath, [BIN, 'init', ws, '--json'], { env: ENV, stdio: 'ignore' });
  return ws;
}

function addRelease(ws: string, app: string, version: string, dir: string): Measure & { json: any } {
  const m = measure(process.execPath, [BIN, 'add-release', app, version, dir, '-w', ws, '--json', '--threads', '2'], {
    ...ENV,
    SOURCE_DATE_EPOCH: '1700000000',
  });
  return { ...m, json: JSON.parse(m.stdout) };
}

/** The workspace's stored archive of a release (hash-prefixed under consistent snapshots). */
function storedArchive(ws: string, name: string): string {
  const file = readdirSync(join(ws, 'targets')).find((n) => n === name || n.endsWith(`.${name}`));
  if (file === undefined) throw new Error(`${name} is not in ${ws}/targets`);
  return join(ws, 'targets', file);
}

function main(): void {
  const opt = args();
  const t0 = Date.now();
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const work = join(DATA, 'cli-memory');
  mkdirSync(work, { recursive: true });

  // 1. archive only, a large folder (--large-gb 0: skipped)
  let largeSection = '';
  let largeRatio = '';
  if (opt.largeGb > 0) {
    const large = generateLarge(join(DATA, `large-${opt.largeGb}`), opt.largeGb * 1e9);
    log('large: data ready');
    const r1 = addRelease(newWorkspace(work), 'large', '1.0', large.dir);
    log(`large 1.0: ${r1.seconds} s, ${fmt(r1.peakMiB, 0)} MiB`);
    const largeArchive = (r1.json.archive.length as number).toLocaleString('en');
    largeSection = `## Archive only, a large folder

- ${large.description}
- Tar ${(r1.json.tar.size as number).toLocaleString('en')} B, archive ${largeArchive} B.

| step | time | peak memory | output |
| --- | --- | --- | --- |
| \`tufsign add-release large 1.0\` (archive only) | ${fmt(r1.seconds)} s | ${fmt(r1.peakMiB, 0)} MiB | archive ${largeArchive} B |
`;
    largeRatio = `| add-release 1.0 (large folder) peak, MiB ÷ 200 | **${fmt(r1.peakMiB / 200, 3)}** | ≤ 1 | ${r1.peakMiB <= 200 ? 'met' : '**missed**'} |\n`;
  }

  // 2. the hard pair: 1.0 then 2.0 with a patch, and Debian bsdiff on the same tars
  const hardDir = join(DATA, `hard-${opt.scale}`);
  const hard = generateHard(hardDir, opt.scale);
  log('hard: data ready');
  const ws = newWorkspace(work);
  const h1 = addRelease(ws, 'hard', '1.0', hard.v1);
  const h2 = addRelease(ws, 'hard', '2.0', hard.v2);
  log(`hard 2.0: ${h2.seconds} s, ${fmt(h2.peakMiB, 0)} MiB`);
  const v1tar = join(work, 'v1.tar');
  const v2tar = join(work, 'v2.tar');
  execFileSync('sh', ['-c', `gzip -dc "$0" > "$1"`, storedArchive(ws, 'hard-1.0.tar.gz'), v1tar]);
  execFileSync('sh', ['-c', `gzip -dc "$0" > "$1"`, storedArchive(ws, 'hard-2.0.tar.gz'), v2tar]);
  const bsdiff = measure('bsdiff', [v1tar, v2tar, join(work, 'ref.patch')]);
  log(`bsdiff: ${bsdiff.seconds} s, ${fmt(bsdiff.peakMiB, 0)} MiB`);
  const refPatch = statSync(join(work, 'ref.patch')).size;
  execFileSync('bspatch', [v1tar, join(work, 'check.tar'), storedArchive(ws, 'hard-2.0.patch')]);
  const applies = readFileSync(join(work, 'check.tar')).equals(readFileSync(v2tar));
  const v1Size = statSync(v1tar).size;
  const v2Size = statSync(v2tar).size;
  rmSync(work, { recursive: true, force: true });

  const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const row = (step: string, m: Measure, output = ''): string =>
    `| ${step} | ${fmt(m.seconds)} s | ${fmt(m.peakMiB, 0)} MiB | ${output} |`;
  const ratio = h2.peakMiB / bsdiff.peakMiB;
  const md = `# Peak memory of the CLI \`tufsign add-release\`

Generated by \`bench/cli-memory.ts\` on ${new Date(t0).toISOString().slice(0, 16)}Z in ${Math.round((Date.now() - t0) / 60000)} minutes. Reproduce with:

\`\`\`sh
npx tsc -p bench/tsconfig.json && npm run build && node node_modules/.cache/tufsign-bench/bench/cli-memory.js --large-gb ${opt.largeGb} --scale ${opt.scale} --out bench/CLI-MEMORY.md
\`\`\`

Each row is one process under \`/usr/bin/time\` (wall-clock seconds, peak resident memory, worker threads included):
the built CLI \`node bin/run.js add-release APP VERSION DIR -w WS --json --threads 2\` in a workspace made by
\`tufsign init\` (key files), so the figure covers everything the command does — loading the workspace, building
the archive (and patch) into \`WS/.staging\`, signing targets, snapshot and timestamp, the commit that moves the
files into \`targets/\`, and the upload bundle. Debian \`bsdiff\` runs in the same run on the v1.tar and v2.tar the
archives expand to. ${cpus().length} cores, ${fmt(totalmem() / 2 ** 30, 1)} GiB; load average ${loadBefore} before, ${loadAfter} after (shared machine: times are noisy, peaks are not).

${largeSection}
## With a patch: the hard pair

- The hard pair of bench/RESULTS.md (recompiled native libraries, shifted data files, renamed and moved files),
  scale ${opt.scale}, seed 152026: v1.tar ${v1Size.toLocaleString('en')} B, v2.tar ${v2Size.toLocaleString('en')} B.

| step | time | peak memory | output |
| --- | --- | --- | --- |
${row('`tufsign add-release hard 1.0` (archive only)', h1, `archive ${(h1.json.archive.length as number).toLocaleString('en')} B`)}
${row('`tufsign add-release hard 2.0` (archive + patch)', h2, `patch ${(h2.json.patch?.length as number | undefined)?.toLocaleString('en') ?? 'none'} B`)}
${row('Debian `bsdiff v1.tar v2.tar`', bsdiff, `patch ${refPatch.toLocaleString('en')} B`)}

| ratio | value | target | |
| --- | --- | --- | --- |
${largeRatio}| add-release 2.0 peak ÷ Debian bsdiff peak | **${fmt(ratio, 3)}** | ≤ 0.5 | ${ratio <= 0.5 ? 'met' : '**missed**'} |

Check: tufsign's 2.0 patch applied by Debian \`bspatch\` to v1.tar gives v2.tar: **${applies ? 'yes' : 'NO'}**.
`;
  writeFileSync(opt.out, md);
  log(`wrote ${opt.out}`);
}

main();
