/**
 * Delegations at PEP 458 scale: a repository with 16,384 succinct hash bins and
 * 100,000 targets spread over them, against the same bins with 100 targets.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node node_modules/.cache/tufsign-bench/bench/delegations-bench.js [options]
 *     --bins 16384          bin count (power of two)
 *     --targets 100000      targets in the large repository
 *     --small 100           targets in the small repository
 *     --repeat 7            single-target adds measured per repository (median reported)
 *     --client-timeout 600  seconds allowed for tuf-js to fetch one target (and for each parse)
 *     --layouts pep458,separate,softhsm   key layouts whose single add is measured
 *     --out bench/DELEGATIONS.md
 *
 * Every tufsign command runs as the built CLI under /usr/bin/time (wall seconds,
 * peak RSS). Data goes to bench/data/delegations (gitignored). Not part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpus, loadavg, release as osRelease, totalmem } from 'node:os';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileBackend } from '../src/keystore/file';
import type { Signer } from '../src/keystore/signer';
import type { SigningContext } from '../src/repository/context';
import { addTargetsRouted } from '../src/repository/targets-routing';
import { Workspace } from '../src/repository/workspace';
import { parseKeyRefOf } from '../src/keystore/key-ref';
import { parseTargetPath } from '../src/tuf/paths';

// BENCH_ROOT: a copy of the built CLI, so rebuilding the worktree during a long run does not disturb it
const ROOT = process.env['BENCH_ROOT'] ?? resolve(__dirname, '../../../..');
const BIN = join(ROOT, 'bin', 'run.js');
const DATA = join(ROOT, 'bench', 'data', 'delegations');
// Only the online secret: every measured command runs as the release machine would (root is offline, ADR 0011).
const ENV: NodeJS.ProcessEnv = { ...process.env, TUFSIGN_PASSPHRASE: 'bench-only-passphrase', NO_COLOR: '1' };
delete ENV['TUFSIGN_OFFLINE_PASSPHRASE'];
/** `init` also writes the offline root key file, under its own passphrase. */
const withOffline = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  ...env,
  TUFSIGN_OFFLINE_PASSPHRASE: 'bench-only-offline-passphrase',
});

function arg(name: string, fallback: number): number;
function arg(name: string, fallback: string): string;
function arg(name: string, fallback: number | string): number | string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1] ?? '';
  return typeof fallback === 'number' ? Number(v) : v;
}

interface Measure {
  seconds: number;
  /** user + system CPU seconds of the process */
  cpu: number;
  peakMiB: number;
  stdout: string;
  stderr: string;
}

function tufsign(args: string[], input?: string, env: NodeJS.ProcessEnv = ENV): Measure {
  const r = spawnSync('/usr/bin/time', ['-f', '@@TIME %e %M %U %S', process.execPath, BIN, ...args], {
    env,
    input,
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  const m = /@@TIME ([0-9.]+) ([0-9]+) ([0-9.]+) ([0-9.]+)/.exec(r.stderr);
  if (r.status !== 0 || m === null)
    throw new Error(`tufsign ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-3000)}`);
  return {
    seconds: Number(m[1]),
    cpu: Number(m[3]) + Number(m[4]),
    peakMiB: Number(m[2]) / 1024,
    stdout: r.stdout,
    stderr: r.stderr,
  };
}

/** Nearest-rank 90th percentile. */
const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.ceil(0.9 * xs.length) - 1] ?? NaN;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

/**
 * Where the online keys live:
 * - separate: init's default key files, one per role, plus a bins key file: adding a target decrypts three key
 *   files (bins, snapshot, timestamp), each a 600,000-iteration PBKDF2 (ADR 0002);
 * - pep458: PEP 458's own layout, one online key for the bins, snapshot and timestamp: one decryption;
 * - softhsm: that one online key on a SoftHSM2 token (PKCS#11, ecdsa-sha2-nistp256): no key file at all.
 */
type Layout = 'separate' | 'pep458' | 'softhsm';

const SOFTHSM_MODULE = process.env['SOFTHSM2_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so';

function layoutEnv(layout: Layout): NodeJS.ProcessEnv {
  if (layout !== 'softhsm') return ENV;
  const conf = join(DATA, 'softhsm', 'softhsm2.conf');
  return { ...ENV, SOFTHSM2_CONF: conf, TUFSIGN_PIN: '123456', TUFSIGN_PKCS11_MODULE: SOFTHSM_MODULE };
}

/** A fresh SoftHSM2 token "bench" with one online key; returns its URI. */
function softhsmOnlineKey(): string {
  const home = join(DATA, 'softhsm');
  rmSync(home, { recursive: true, force: true });
  mkdirSync(join(home, 'tokens'), { recursive: true });
  writeFileSync(
    join(home, 'softhsm2.conf'),
    `directories.tokendir = ${join(home, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  const env = layoutEnv('softhsm');
  const init = spawnSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', 'bench', '--pin', '123456', '--so-pin', '12345678'],
    { env, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`softhsm2-util: ${init.stderr}`);
  tufsign(
    [
      'key',
      'generate',
      '--backend',
      'pkcs11',
      '--token',
      'bench',
      '--label',
      'online-1',
      '--scheme',
      'ecdsa-sha2-nistp256',
      '--pkcs11-module',
      SOFTHSM_MODULE,
      '--json',
    ],
    undefined,
    env,
  );
  return 'pkcs11:token=bench;object=online-1';
}

function softhsmAvailable(): boolean {
  return existsSync(SOFTHSM_MODULE) && spawnSync('softhsm2-util', ['--version']).status === 0;
}

/** A workspace with `bins` bins and `targets` small targets added in one command. */
function buildRepo(
  name: string,
  bins: number,
  targets: number,
  log: string[],
  layout: Layout = 'pep458',
): { dir: string; binsSeconds: number; binsPeak: number; addSeconds: number; addPeak: number; env: NodeJS.ProcessEnv } {
  const dir = join(DATA, name);
  rmSync(dir, { recursive: true, force: true });
  const env = layoutEnv(layout);
  let binsKey = 'file:keys/bins-1.pem';
  if (layout === 'separate') {
    tufsign(['init', dir, '--json'], undefined, withOffline(ENV));
    tufsign(['key', 'generate', '--out', join(dir, 'keys', 'bins-1.pem'), '--json']);
  } else {
    binsKey = layout === 'softhsm' ? softhsmOnlineKey() : 'file:keys/online-1.pem';
    if (layout === 'pep458') tufsign(['key', 'generate', '--out', join(dir, 'keys', 'online-1.pem'), '--json']);
    const extra = layout === 'softhsm' ? ['--pkcs11-module', SOFTHSM_MODULE] : [];
    tufsign(
      ['init', dir, '--snapshot-key', binsKey, '--timestamp-key', binsKey, ...extra, '--json'],
      undefined,
      withOffline(env),
    );
  }
  const b = tufsign(['delegate', 'bins', '--count', String(bins), '--key', binsKey, '-w', dir], undefined, env);
  log.push(`${name}: delegate bins --count ${bins}: ${b.seconds.toFixed(1)} s, peak ${b.peakMiB.toFixed(0)} MiB`);
  const src = join(DATA, `${name}-files`);
  rmSync(src, { recursive: true, force: true });
  mkdirSync(src, { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < targets; i++) {
    const sub = join(src, String(i % 1000));
    if (i < 1000) mkdirSync(sub, { recursive: true });
    const file = join(sub, `pkg-${i}-1.0.tar.gz`);
    // PyPI-like: small files, one per project release; content unique per file
    writeFileSync(file, `package ${i}\n`);
    lines.push(`${file}\tpackages/pkg-${i}/pkg-${i}-1.0.tar.gz`);
  }
  const list = join(DATA, `${name}-list.txt`);
  writeFileSync(list, lines.join('\n') + '\n');
  const a = tufsign(['targets', 'add', '--from-file', list, '-w', dir], undefined, env);
  log.push(
    `${name}: targets add --from-file (${targets} targets): ${a.seconds.toFixed(1)} s, peak ${a.peakMiB.toFixed(0)} MiB`,
  );
  rmSync(src, { recursive: true, force: true });
  return { dir, binsSeconds: b.seconds, binsPeak: b.peakMiB, addSeconds: a.seconds, addPeak: a.peakMiB, env };
}

/** Add one new target `repeat` times; the roles each run re-signed and the median wall time. */
function singleAdds(
  dir: string,
  repeat: number,
  tag: string,
  env: NodeJS.ProcessEnv = ENV,
): { median: number; times: number[]; cpu: number[]; loads: number[]; peak: number; roles: string[][] } {
  const times: number[] = [];
  const cpu: number[] = [];
  const loads: number[] = [];
  const roles: string[][] = [];
  let peak = 0;
  for (let i = 0; i < repeat; i++) {
    const file = join(DATA, `${tag}-one-${i}.whl`);
    writeFileSync(file, `one more ${tag} ${i}\n`);
    const m = tufsign(
      ['targets', 'add', file, '--path', `packages/new-${tag}-${i}/new-${i}.whl`, '-w', dir, '--json'],
      undefined,
      env,
    );
    times.push(m.seconds);
    cpu.push(m.cpu);
    loads.push(loadavg()[0] ?? 0);
    peak = Math.max(peak, m.peakMiB);
    roles.push((JSON.parse(m.stdout).roles as { role: string }[]).map((r) => r.role));
  }
  return { median: median(times), times, cpu, loads, peak, roles };
}

/**
 * The same single add in-process, with the key files decrypted once beforehand:
 * the cost of the operation itself, without Node/oclif start-up and the
 * 600,000-iteration PBKDF2 of each encrypted key file (ADR 0002) that every CLI run pays.
 */
async function coreAdds(dir: string, repeat: number, tag: string): Promise<{ median: number; times: number[] }> {
  const ws = Workspace.open(dir);
  const secrets = { getSecret: () => Promise.resolve(Buffer.from(ENV['TUFSIGN_PASSPHRASE'] ?? '')) };
  const open = new Map<string, Signer>();
  const ctx: SigningContext = {
    now: new Date(),
    openSigner: async ({ uri }) => {
      let s = open.get(uri);
      if (s === undefined) {
        s = await fileBackend.open(parseKeyRefOf('file', uri), { secrets, baseDir: dir, env: {} });
        open.set(uri, s);
      }
      return s;
    },
  };
  const warm = join(DATA, `${tag}-core-warm.whl`);
  writeFileSync(warm, 'warm\n');
  await addTargetsRouted(ws, [{ file: warm, path: parseTargetPath(`packages/core-${tag}-warm/warm.whl`) }], ctx);
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const file = join(DATA, `${tag}-core-${i}.whl`);
    writeFileSync(file, `core ${tag} ${i}\n`);
    const t0 = process.hrtime.bigint();
    await addTargetsRouted(
      Workspace.open(dir),
      [{ file, path: parseTargetPath(`packages/core-${tag}-${i}/core-${i}.whl`) }],
      ctx,
    );
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { median: median(times), times };
}

/** Process start-up alone (oclif + Node), for reading the single-add times. */
function startup(): number {
  return median([0, 1, 2].map(() => tufsign(['--version']).seconds));
}

function fileSize(path: string): number {
  return statSync(path).size;
}

/** Bytes a fresh client downloads to fetch one target: timestamp, snapshot, top-level targets, its bin, the file. */
function clientBytes(dir: string, targetPath: string): { total: number; parts: Record<string, number> } {
  const md = join(dir, 'metadata');
  const ts = JSON.parse(readFileSync(join(md, 'timestamp.json'), 'utf8'));
  const snapV = ts.signed.meta['snapshot.json'].version;
  const snap = JSON.parse(readFileSync(join(md, `${snapV}.snapshot.json`), 'utf8'));
  const tv = snap.signed.meta['targets.json'].version;
  const top = JSON.parse(readFileSync(join(md, `${tv}.targets.json`), 'utf8'));
  const s = top.signed.delegations.succinct_roles;
  const digest = createHash('sha256').update(targetPath).digest();
  const bin = digest.readUInt32BE(0) >>> (32 - s.bit_length);
  const width = ((1 << s.bit_length) - 1).toString(16).length;
  const binName = `${s.name_prefix}-${bin.toString(16).padStart(width, '0')}`;
  const binV = snap.signed.meta[`${binName}.json`].version;
  const binDoc = JSON.parse(readFileSync(join(md, `${binV}.${binName}.json`), 'utf8'));
  const info = binDoc.signed.targets[targetPath];
  const parts: Record<string, number> = {
    'timestamp.json': fileSize(join(md, 'timestamp.json')),
    [`${snapV}.snapshot.json`]: fileSize(join(md, `${snapV}.snapshot.json`)),
    [`${tv}.targets.json`]: fileSize(join(md, `${tv}.targets.json`)),
    [`${binV}.${binName}.json`]: fileSize(join(md, `${binV}.${binName}.json`)),
    target: info.length,
  };
  return { total: Object.values(parts).reduce((a, b) => a + b, 0), parts };
}

/** tuf-js 5 (the reference JS client) fetching one target from a fresh trusted root, over HTTP on 127.0.0.1. */
function tufjsFetch(
  dir: string,
  targetPath: string,
  timeoutS: number,
): { seconds: number | null; peakMiB: number | null; note: string } {
  const script = `
const http = require('node:http'); const fs = require('node:fs'); const path = require('node:path'); const os = require('node:os');
const { Updater } = require(${JSON.stringify(join(ROOT, 'node_modules', 'tuf-js'))});
const root = ${JSON.stringify(dir)};
const server = http.createServer((req, res) => { const f = path.join(root, decodeURIComponent(req.url.split('?')[0])); if (!f.startsWith(root) || !fs.existsSync(f)) { res.writeHead(404).end(); return; } res.writeHead(200).end(fs.readFileSync(f)); });
server.listen(0, '127.0.0.1', async () => {
  const port = server.address().port; const base = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tufjs-'));
  fs.mkdirSync(path.join(base, 'm')); fs.mkdirSync(path.join(base, 't'));
  fs.copyFileSync(path.join(root, 'metadata', '1.root.json'), path.join(base, 'm', 'root.json'));
  const u = new Updater({ metadataDir: path.join(base, 'm'), targetDir: path.join(base, 't'), metadataBaseUrl: 'http://127.0.0.1:' + port + '/metadata', targetBaseUrl: 'http://127.0.0.1:' + port + '/targets', config: { fetchTimeout: 600000 } });
  const t0 = process.hrtime.bigint();
  await u.refresh(); const info = await u.getTargetInfo(${JSON.stringify(targetPath)}); await u.downloadTarget(info, path.join(base, 't', 'x'));
  process.stdout.write('@@SECONDS ' + (Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2) + '\\n'); server.close(); fs.rmSync(base, { recursive: true, force: true }); process.exit(0);
});`;
  const r = spawnSync('/usr/bin/time', ['-f', '@@TIME %e %M', process.execPath, '-e', script], {
    encoding: 'utf8',
    timeout: timeoutS * 1000,
  });
  const s = /@@SECONDS ([0-9.]+)/.exec(r.stdout);
  const m = /@@TIME ([0-9.]+) ([0-9]+)/.exec(r.stderr);
  if (s === null)
    return {
      seconds: null,
      peakMiB: null,
      note: r.error !== undefined ? `did not finish within ${timeoutS} s` : `failed: ${r.stderr.slice(-300)}`,
    };
  return { seconds: Number(s[1]), peakMiB: m === null ? null : Number(m[2]) / 1024, note: '' };
}

/** Parse cost of one snapshot file in a reference client's model: tuf-js (@tufjs/models) and python-tuf when present. */
function parseCosts(snapshotPath: string, timeoutS: number): { tufjs: string; python: string } {
  const js = `
const { Metadata, MetadataKind } = require(${JSON.stringify(join(ROOT, 'node_modules', '@tufjs', 'models'))});
const text = require('node:fs').readFileSync(${JSON.stringify(snapshotPath)}, 'utf8');
const t0 = process.hrtime.bigint();
const md = Metadata.fromJSON(MetadataKind.Snapshot, JSON.parse(text));
process.stdout.write('@@SECONDS ' + (Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2) + ' ' + Object.keys(md.signed.meta).length + '\\n');`;
  const r = spawnSync('/usr/bin/time', ['-f', '@@TIME %e %M', process.execPath, '-e', js], {
    encoding: 'utf8',
    timeout: timeoutS * 1000,
  });
  const m = /@@SECONDS ([0-9.]+) ([0-9]+)/.exec(r.stdout);
  const peak = /@@TIME ([0-9.]+) ([0-9]+)/.exec(r.stderr);
  const tufjs =
    m === null
      ? r.error !== undefined
        ? `did not finish within ${timeoutS} s`
        : `failed: ${r.stderr.slice(-200)}`
      : `${Number(m[1]).toFixed(2)} s for ${m[2]} entries, peak ${peak === null ? '?' : (Number(peak[2]) / 1024).toFixed(0)} MiB`;
  const py = `
import sys, time
from tuf.api.metadata import Metadata
data = open(sys.argv[1], 'rb').read()
t0 = time.perf_counter(); md = Metadata.from_bytes(data); t1 = time.perf_counter()
print('@@SECONDS %.2f %d' % (t1 - t0, len(md.signed.meta)))`;
  // python-tuf as vendored for the tests (test/vendor/python, v3.1.1 with Debian's securesystemslib)
  const p = spawnSync('/usr/bin/python3', ['-c', py, snapshotPath], {
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    env: { ...process.env, PYTHONPATH: join(ROOT, 'test', 'vendor', 'python') },
  });
  const pm = /@@SECONDS ([0-9.]+) ([0-9]+)/.exec(p.stdout);
  const python =
    pm !== null
      ? `${Number(pm[1]).toFixed(2)} s for ${pm[2]} entries`
      : /No module named 'tuf'/.test(p.stderr)
        ? 'python-tuf not found (test/vendor/python), not measured'
        : `failed: ${p.stderr.slice(-200)}`;
  return { tufjs, python };
}

/** One log line: wall and CPU medians and p90, peak memory, the load average (1 min) after each run. */
function describeAdds(tag: string, a: ReturnType<typeof singleAdds>): string {
  const f = (x: number): string => x.toFixed(2);
  return (
    `${tag}: single add wall median ${f(a.median)} s, p90 ${f(p90(a.times))} (${a.times.join(', ')}); ` +
    `CPU median ${f(median(a.cpu))} s, p90 ${f(p90(a.cpu))}; peak ${a.peak.toFixed(0)} MiB; ` +
    `load ${Math.min(...a.loads).toFixed(1)}–${Math.max(...a.loads).toFixed(1)}`
  );
}

interface VariantResult {
  layout: Layout;
  adds: ReturnType<typeof singleAdds>;
  core?: { median: number; times: number[] };
  repo: ReturnType<typeof buildRepo>;
}

async function main(): Promise<void> {
  const bins = arg('bins', 16384);
  const targets = arg('targets', 100000);
  const small = arg('small', 100);
  const repeat = arg('repeat', 7);
  const clientTimeout = arg('client-timeout', 600);
  const layouts = arg('layouts', 'pep458,separate,softhsm').split(',') as Layout[];
  const out = resolve(ROOT, arg('out', 'bench/DELEGATIONS.md'));
  if (!existsSync(BIN) || !existsSync(join(ROOT, 'dist'))) throw new Error('run `npm run build` first');
  mkdirSync(DATA, { recursive: true });
  const log: string[] = [];
  const say = (m: string): void => {
    log.push(m);
    process.stderr.write(m + '\n');
  };
  const load0 = loadavg()[0] ?? 0;
  const started = Date.now();
  // The reference: the same bins with 100 targets, PEP 458 layout, measured in the same run.
  const smallRepo = buildRepo('small', bins, small, log, 'pep458');
  process.stderr.write(`${log.slice(-2).join('\n')}\n`);
  const smallAdds = singleAdds(smallRepo.dir, repeat, 'small', smallRepo.env);
  say(describeAdds('small', smallAdds));
  const smallCore = await coreAdds(smallRepo.dir, repeat, 'small');
  say(`small: in-process add median ${smallCore.median.toFixed(3)} s`);
  const largeRepo = buildRepo('large', bins, targets, log, 'pep458');
  process.stderr.write(`${log.slice(-2).join('\n')}\n`);
  const largeAdds = singleAdds(largeRepo.dir, repeat, 'large', largeRepo.env);
  say(describeAdds('large', largeAdds));
  const largeCore = await coreAdds(largeRepo.dir, repeat, 'large');
  say(`large: in-process add median ${largeCore.median.toFixed(3)} s`);
  // The same single add with the other key layouts (on a small repository: the cost does not depend on its size).
  const variants: VariantResult[] = [{ layout: 'pep458', adds: smallAdds, core: smallCore, repo: smallRepo }];
  for (const layout of layouts) {
    if (layout === 'pep458') continue;
    if (layout === 'softhsm' && !softhsmAvailable()) {
      say('softhsm: SoftHSM2 not installed here, skipped');
      continue;
    }
    const repo = buildRepo(`small-${layout}`, bins, small, log, layout);
    process.stderr.write(`${log.slice(-2).join('\n')}\n`);
    const adds = singleAdds(repo.dir, repeat, `small-${layout}`, repo.env);
    say(`small-${layout}: single add median ${adds.median.toFixed(2)} s (${adds.times.join(', ')})`);
    variants.push({ layout, adds, repo });
  }
  const start = startup();
  const md = join(largeRepo.dir, 'metadata');
  const snapshots = readdirSync(md).filter((f) => f.endsWith('.snapshot.json'));
  const latestSnap = snapshots.sort((a, b) => Number(b.split('.')[0]) - Number(a.split('.')[0]))[0] as string;
  const binFiles = readdirSync(md).filter((f) => /\.bins-[0-9a-f]+\.json$/.test(f));
  const n = Math.min(4242, Math.floor(targets / 2));
  const probe = `packages/pkg-${n}/pkg-${n}-1.0.tar.gz`;
  const bytes = clientBytes(largeRepo.dir, probe);
  say(`client bytes for one target: ${bytes.total}`);
  const parse = parseCosts(join(md, latestSnap), clientTimeout);
  say(`parse ${latestSnap}: tuf-js ${parse.tufjs}; python-tuf ${parse.python}`);
  const client = tufjsFetch(largeRepo.dir, probe, clientTimeout);
  say(`tuf-js fetch: ${client.seconds ?? client.note}`);
  const resignedExactly = largeAdds.roles.every(
    (r) => r.length === 3 && /^bins-/.test(r[0] ?? '') && r[1] === 'snapshot' && r[2] === 'timestamp',
  );
  const ratio = largeAdds.median / smallAdds.median;
  const layoutName: Record<Layout, string> = {
    pep458: 'PEP 458: one online key file for bins, snapshot, timestamp (1 decryption)',
    separate: 'init defaults: separate key files for bins, snapshot, timestamp (3 decryptions)',
    softhsm: 'PEP 458 layout, the online key on SoftHSM2 (PKCS#11, ECDSA P-256)',
  };
  const lines = [
    '# Delegations benchmark (PEP 458 scale)',
    '',
    `Generated by \`bench/delegations-bench.ts\` on ${new Date().toISOString().slice(0, 10)} in ${((Date.now() - started) / 60000).toFixed(0)} min. Reproduce with:`,
    '',
    '```sh',
    'npm run build && npx tsc -p bench/tsconfig.json && node node_modules/.cache/tufsign-bench/bench/delegations-bench.js --repeat 5 --client-timeout 120',
    '```',
    '',
    'Every figure is one run of the built CLI under `/usr/bin/time` (wall seconds, peak resident memory); single-target adds are repeated and the median reported. The small repository (same bins, 100 targets) is measured in the same run: on this shared machine only the ratios are meaningful.',
    '',
    '## Machine',
    '',
    `- CPU: ${cpus()[0]?.model ?? '?'} × ${cpus().length}; RAM ${(totalmem() / 2 ** 30).toFixed(1)} GiB; kernel ${osRelease()}; Node ${process.version}`,
    `- Load average (1 min) at the start: ${load0.toFixed(1)}, at the end: ${(loadavg()[0] ?? 0).toFixed(1)} — the machine is shared by several builds and test runs; absolute times include that load.`,
    `- CLI start-up alone (\`tufsign --version\`, median of 3): ${start.toFixed(2)} s.`,
    '',
    '## Data',
    '',
    `- ${bins} succinct hash bins (\`delegate bins --count ${bins}\`), consistent snapshots, ed25519 key files (ECDSA P-256 on SoftHSM2).`,
    `- Large: ${targets} targets \`packages/pkg-N/pkg-N-1.0.tar.gz\`, 10–20 bytes each (PyPI-like: many small distinct files), added in one \`targets add --from-file\`; small: ${small} such targets.`,
    '',
    '## Results',
    '',
    '| measure | small repository | large repository | ratio large ÷ small | requirement |',
    '| --- | ---: | ---: | ---: | --- |',
    `| add one target, median of ${repeat} (s), PEP 458 layout | ${smallAdds.median.toFixed(2)} | ${largeAdds.median.toFixed(2)} | ${ratio.toFixed(2)} | ≤ 1 s and ≤ 1.5× |`,
    `| same, p90 (s) | ${p90(smallAdds.times).toFixed(2)} | ${p90(largeAdds.times).toFixed(2)} | ${(p90(largeAdds.times) / p90(smallAdds.times)).toFixed(2)} | |`,
    `| same, CPU seconds (user + sys), median / p90 | ${median(smallAdds.cpu).toFixed(2)} / ${p90(smallAdds.cpu).toFixed(2)} | ${median(largeAdds.cpu).toFixed(2)} / ${p90(largeAdds.cpu).toFixed(2)} | ${(median(largeAdds.cpu) / median(smallAdds.cpu)).toFixed(2)} | |`,
    `| load average (1 min) during these runs | ${Math.min(...smallAdds.loads).toFixed(1)}–${Math.max(...smallAdds.loads).toFixed(1)} | ${Math.min(...largeAdds.loads).toFixed(1)}–${Math.max(...largeAdds.loads).toFixed(1)} | | |`,
    `| same, in-process with keys already decrypted, median of ${repeat} (s) | ${smallCore.median.toFixed(3)} | ${largeCore.median.toFixed(3)} | ${(largeCore.median / smallCore.median).toFixed(2)} | |`,
    `| add one target, peak memory (MiB) | ${smallAdds.peak.toFixed(0)} | ${largeAdds.peak.toFixed(0)} | ${(largeAdds.peak / smallAdds.peak).toFixed(2)} | |`,
    `| \`delegate bins --count ${bins}\` (s / MiB) | ${smallRepo.binsSeconds.toFixed(1)} / ${smallRepo.binsPeak.toFixed(0)} | ${largeRepo.binsSeconds.toFixed(1)} / ${largeRepo.binsPeak.toFixed(0)} | | minutes, with progress |`,
    `| \`targets add --from-file\` (s / MiB) | ${smallRepo.addSeconds.toFixed(1)} / ${smallRepo.addPeak.toFixed(0)} | ${largeRepo.addSeconds.toFixed(1)} / ${largeRepo.addPeak.toFixed(0)} | | minutes, with progress |`,
    '',
    '### Single add by key layout (small repository, same run)',
    '',
    '| key layout | add one target, median (s) | ratio to PEP 458 layout | runs (s) |',
    '| --- | ---: | ---: | --- |',
    ...variants.map(
      (v) =>
        `| ${layoutName[v.layout]} | ${v.adds.median.toFixed(2)} | ${(v.adds.median / smallAdds.median).toFixed(2)} | ${v.adds.times.join(', ')} |`,
    ),
    '',
    `- Each single add re-signed exactly one bin, snapshot and timestamp: ${resignedExactly ? 'yes' : 'NO'} (${largeAdds.roles[0]?.join(', ') ?? ''}).`,
    `- Snapshot (${latestSnap}): ${fileSize(join(md, latestSnap))} bytes (limit 2,000,000); bin files on disk: ${binFiles.length}.`,
    `- A fresh client fetching \`${probe}\` downloads ${bytes.total} bytes: ${Object.entries(bytes.parts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} (root.json unchanged, not counted).`,
    `- Parsing that snapshot: tuf-js ${JSON.parse(readFileSync(join(ROOT, 'node_modules', 'tuf-js', 'package.json'), 'utf8')).version} (\`@tufjs/models\` \`Metadata.fromJSON\`): ${parse.tufjs}; python-tuf 3.1.1 (\`Metadata.from_bytes\`): ${parse.python}.`,
    `- tuf-js, same fetch from a fresh trusted root over HTTP on 127.0.0.1: ${client.seconds === null ? client.note : `${client.seconds.toFixed(1)} s, peak ${client.peakMiB?.toFixed(0) ?? '?'} MiB`}.`,
    '',
    '## Log',
    '',
    '```',
    ...log,
    '```',
    '',
  ];
  writeFileSync(out, lines.join('\n'));
  process.stderr.write(`wrote ${out}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${String((e as Error).stack ?? e)}\n`);
  process.exit(1);
});
