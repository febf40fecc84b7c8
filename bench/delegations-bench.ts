/**
 * Delegations at PEP 458 scale: a repository with 16,384 succinct hash bins and
 * 100,000 targets spread over them, against the same bins with 100 targets.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node node_modules/.cache/tufsign-bench/bench/delegations-bench.js [options]
 *     --bins 16384          bin count (power of two)
 *     --targets 100000      targets in the large repository
 *     --small 100           targets in the small repository
 *     --repeat 7            single-target adds measured per repository (median reported)
 *     --client-timeout 600  seconds allowed for tuf-js to fetch one target
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

// BENCH_ROOT: a copy of the built CLI, so rebuilding the worktree during a long run does not disturb it
const ROOT = process.env['BENCH_ROOT'] ?? resolve(__dirname, '../../../..');
const BIN = join(ROOT, 'bin', 'run.js');
const DATA = join(ROOT, 'bench', 'data', 'delegations');
const ENV = { ...process.env, TUFSIGN_PASSPHRASE: 'bench-only-passphrase', NO_COLOR: '1' };

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
  peakMiB: number;
  stdout: string;
  stderr: string;
}

function tufsign(args: string[], input?: string): Measure {
  const r = spawnSync('/usr/bin/time', ['-f', '@@TIME %e %M', process.execPath, BIN, ...args], {
    env: ENV,
    input,
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  const m = /@@TIME ([0-9.]+) ([0-9]+)/.exec(r.stderr);
  if (r.status !== 0 || m === null)
    throw new Error(`tufsign ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-3000)}`);
  return { seconds: Number(m[1]), peakMiB: Number(m[2]) / 1024, stdout: r.stdout, stderr: r.stderr };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

/** A workspace with `bins` bins and `targets` small targets added in one command. */
function buildRepo(
  name: string,
  bins: number,
  targets: number,
  log: string[],
): { dir: string; binsSeconds: number; binsPeak: number; addSeconds: number; addPeak: number } {
  const dir = join(DATA, name);
  rmSync(dir, { recursive: true, force: true });
  tufsign(['init', dir, '--json']);
  tufsign(['key', 'generate', '--out', join(dir, 'keys', 'bins-1.pem'), '--json']);
  const b = tufsign(['delegate', 'bins', '--count', String(bins), '--key', 'file:keys/bins-1.pem', '-w', dir]);
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
  const a = tufsign(['targets', 'add', '--from-file', list, '-w', dir]);
  log.push(
    `${name}: targets add --from-file (${targets} targets): ${a.seconds.toFixed(1)} s, peak ${a.peakMiB.toFixed(0)} MiB`,
  );
  return { dir, binsSeconds: b.seconds, binsPeak: b.peakMiB, addSeconds: a.seconds, addPeak: a.peakMiB };
}

/** Add one new target `repeat` times; the roles each run re-signed and the median wall time. */
function singleAdds(
  dir: string,
  repeat: number,
  tag: string,
): { median: number; times: number[]; peak: number; roles: string[][] } {
  const times: number[] = [];
  const roles: string[][] = [];
  let peak = 0;
  for (let i = 0; i < repeat; i++) {
    const file = join(DATA, `${tag}-one-${i}.whl`);
    writeFileSync(file, `one more ${tag} ${i}\n`);
    const m = tufsign(['targets', 'add', file, '--path', `packages/new-${tag}-${i}/new-${i}.whl`, '-w', dir, '--json']);
    times.push(m.seconds);
    peak = Math.max(peak, m.peakMiB);
    roles.push((JSON.parse(m.stdout).roles as { role: string }[]).map((r) => r.role));
  }
  return { median: median(times), times, peak, roles };
}

/**
 * The same single add in-process, with the key files decrypted once beforehand:
 * the cost of the operation itself, without Node/oclif start-up and the
 * 600,000-iteration PBKDF2 of each encrypted key file (ADR 0002) that every CLI run pays.
 */
async function coreAdds(dir: string, repeat: number, tag: string): Promise<{ median: number; times: number[] }> {
  const ws = Workspace.open(dir);
  const secrets = { getSecret: () => Promise.resolve(Buffer.from(ENV.TUFSIGN_PASSPHRASE)) };
  const open = new Map<string, Signer>();
  const ctx: SigningContext = {
    now: new Date(),
    openSigner: async (uri) => {
      let s = open.get(uri);
      if (s === undefined) {
        s = await fileBackend.open(uri, { secrets, baseDir: dir, env: {} });
        open.set(uri, s);
      }
      return s;
    },
  };
  const warm = join(DATA, `${tag}-core-warm.whl`);
  writeFileSync(warm, 'warm\n');
  await addTargetsRouted(ws, [{ file: warm, path: `packages/core-${tag}-warm/warm.whl` }], ctx);
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const file = join(DATA, `${tag}-core-${i}.whl`);
    writeFileSync(file, `core ${tag} ${i}\n`);
    const t0 = process.hrtime.bigint();
    await addTargetsRouted(Workspace.open(dir), [{ file, path: `packages/core-${tag}-${i}/core-${i}.whl` }], ctx);
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

async function main(): Promise<void> {
  const bins = arg('bins', 16384);
  const targets = arg('targets', 100000);
  const small = arg('small', 100);
  const repeat = arg('repeat', 7);
  const clientTimeout = arg('client-timeout', 600);
  const out = resolve(ROOT, arg('out', 'bench/DELEGATIONS.md'));
  if (!existsSync(BIN) || !existsSync(join(ROOT, 'dist'))) throw new Error('run `npm run build` first');
  mkdirSync(DATA, { recursive: true });
  const log: string[] = [];
  const say = (m: string): void => {
    log.push(m);
    process.stderr.write(m + '\n');
  };
  const load0 = loadavg()[0] ?? 0;
  const smallRepo = buildRepo('small', bins, small, log);
  say(log[log.length - 1] ?? '');
  const smallAdds = singleAdds(smallRepo.dir, repeat, 'small');
  const smallCore = await coreAdds(smallRepo.dir, repeat, 'small');
  say(`small: in-process add median ${smallCore.median.toFixed(3)} s`);
  say(`small: single add median ${smallAdds.median.toFixed(2)} s (${smallAdds.times.join(', ')})`);
  const largeRepo = buildRepo('large', bins, targets, log);
  say(log.slice(-2).join('\n'));
  const largeAdds = singleAdds(largeRepo.dir, repeat, 'large');
  const largeCore = await coreAdds(largeRepo.dir, repeat, 'large');
  say(`large: in-process add median ${largeCore.median.toFixed(3)} s`);
  say(`large: single add median ${largeAdds.median.toFixed(2)} s (${largeAdds.times.join(', ')})`);
  const start = startup();
  const md = join(largeRepo.dir, 'metadata');
  const snapshots = readdirSync(md).filter((f) => f.endsWith('.snapshot.json'));
  const latestSnap = snapshots.sort((a, b) => Number(b.split('.')[0]) - Number(a.split('.')[0]))[0] as string;
  const binFiles = readdirSync(md).filter((f) => /\.bins-[0-9a-f]+\.json$/.test(f));
  const probe = 'packages/pkg-4242/pkg-4242-1.0.tar.gz';
  const bytes = clientBytes(largeRepo.dir, probe);
  say(`client bytes for one target: ${bytes.total}`);
  const client = tufjsFetch(largeRepo.dir, probe, clientTimeout);
  say(`tuf-js fetch: ${client.seconds ?? client.note}`);
  const resignedExactly = largeAdds.roles.every(
    (r) => r.length === 3 && /^bins-/.test(r[0] ?? '') && r[1] === 'snapshot' && r[2] === 'timestamp',
  );
  const ratio = largeAdds.median / smallAdds.median;
  const lines = [
    '# Delegations benchmark (PEP 458 scale)',
    '',
    `Generated by \`bench/delegations-bench.ts\` on ${new Date().toISOString().slice(0, 10)}. Reproduce with:`,
    '',
    '```sh',
    'npm run build && npx tsc -p bench/tsconfig.json && node node_modules/.cache/tufsign-bench/bench/delegations-bench.js',
    '```',
    '',
    'Every figure is one run of the built CLI under `/usr/bin/time` (wall seconds, peak resident memory); single-target adds are repeated and the median reported.',
    '',
    '## Machine',
    '',
    `- CPU: ${cpus()[0]?.model ?? '?'} × ${cpus().length}; RAM ${(totalmem() / 2 ** 30).toFixed(1)} GiB; kernel ${osRelease()}; Node ${process.version}`,
    `- Load average (1 min) at the start: ${load0.toFixed(1)}, at the end: ${(loadavg()[0] ?? 0).toFixed(1)} — the machine is shared; absolute times include that load.`,
    `- CLI start-up alone (\`tufsign --version\`, median of 3): ${start.toFixed(2)} s.`,
    '',
    '## Data',
    '',
    `- ${bins} succinct hash bins (\`delegate bins --count ${bins}\`), one ed25519 bin key in a key file; root, targets, snapshot, timestamp key files; consistent snapshots.`,
    `- Large: ${targets} targets \`packages/pkg-N/pkg-N-1.0.tar.gz\`, 10–20 bytes each, added in one \`targets add --from-file\`; small: ${small} such targets.`,
    '',
    '## Results',
    '',
    '| measure | small repository | large repository | ratio large ÷ small | requirement |',
    '| --- | ---: | ---: | ---: | --- |',
    `| add one target, median of ${repeat} (s) | ${smallAdds.median.toFixed(2)} | ${largeAdds.median.toFixed(2)} | ${ratio.toFixed(2)} | ≤ 1 s and ≤ 1.5× |`,
    `| same, in-process with keys already decrypted, median of ${repeat} (s) | ${smallCore.median.toFixed(3)} | ${largeCore.median.toFixed(3)} | ${(largeCore.median / smallCore.median).toFixed(2)} | |`,
    `| add one target, peak memory (MiB) | ${smallAdds.peak.toFixed(0)} | ${largeAdds.peak.toFixed(0)} | ${(largeAdds.peak / smallAdds.peak).toFixed(2)} | |`,
    `| \`delegate bins --count ${bins}\` (s / MiB) | ${smallRepo.binsSeconds.toFixed(1)} / ${smallRepo.binsPeak.toFixed(0)} | ${largeRepo.binsSeconds.toFixed(1)} / ${largeRepo.binsPeak.toFixed(0)} | | minutes, with progress |`,
    `| \`targets add --from-file\` (s / MiB) | ${smallRepo.addSeconds.toFixed(1)} / ${smallRepo.addPeak.toFixed(0)} | ${largeRepo.addSeconds.toFixed(1)} / ${largeRepo.addPeak.toFixed(0)} | | minutes, with progress |`,
    '',
    `- Each single add re-signed exactly one bin, snapshot and timestamp: ${resignedExactly ? 'yes' : 'NO'} (${largeAdds.roles[0]?.join(', ') ?? ''}).`,
    `- Snapshot (${latestSnap}): ${fileSize(join(md, latestSnap))} bytes (limit 2,000,000); bin files on disk: ${binFiles.length}.`,
    `- A fresh client fetching \`${probe}\` downloads ${bytes.total} bytes: ${Object.entries(bytes.parts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} (root.json unchanged, not counted).`,
    `- tuf-js ${JSON.parse(readFileSync(join(ROOT, 'node_modules', 'tuf-js', 'package.json'), 'utf8')).version}, same fetch from a fresh trusted root over HTTP on 127.0.0.1: ${client.seconds === null ? client.note : `${client.seconds.toFixed(1)} s, peak ${client.peakMiB?.toFixed(0) ?? '?'} MiB`}.`,
    '- python-tuf is not installed on this machine (no PyPI access), so its client was not measured here.',
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
