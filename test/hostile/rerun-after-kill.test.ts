/**
 * Re-run after a kill (ADR 0007): `add-release`, `targets add` and `key generate` are SIGKILLed at delays
 * spread over their own run time (measured first, on this machine), then run again with the same arguments.
 * The re-run must exit 0, the workspace must verify, every release in signed targets must have a complete
 * bundle, and every key file must have its public key file. Leftovers of a killed bundle write are replaced;
 * a bundle lost after the commit is rebuilt byte for byte.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBundleManifest } from '../../src/bundle';
import { Workspace } from '../../src/repository/workspace';
import { BIN, runCli, TEST_OFFLINE_PASSPHRASE, TEST_PASSPHRASE } from '../helpers/cli';

jest.setTimeout(300_000);

const base = mkdtempSync(join(tmpdir(), 'tufsign-rerun-'));
const ws = join(base, 'repo');
const app = join(base, 'app');
const KILLS = 8;

/** Run the CLI to the end and return its wall time in ms (the calibration for the kill delays). */
function timedRun(args: string[], cwd = base): number {
  const start = process.hrtime.bigint();
  const r = runCli(args, { cwd });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return Number((process.hrtime.bigint() - start) / 1_000_000n);
}

/** Delays spread over a run of `ms`: k/(n+1) of it, k = 1…n. */
const spread = (ms: number, n = KILLS): number[] =>
  Array.from({ length: n }, (_, k) => Math.round((ms * (k + 1)) / (n + 1)));

/** Start the CLI and SIGKILL it after `delayMs`; resolves with how it ended (a run may finish first). */
function killedRun(args: string[], delayMs: number, cwd = base): Promise<'killed' | 'finished'> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: {
        ...process.env,
        TUFSIGN_PASSPHRASE: TEST_PASSPHRASE,
        TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE,
        NO_COLOR: '1',
        TUFSIGN_TRUST_HOME: join(base, 'trust'),
      },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL' ? 'killed' : 'finished');
    });
  });
}

function rerun(args: string[], cwd = base): any {
  const r = runCli([...args, '--json'], { cwd });
  if (r.status !== 0) throw new Error(`re-run of ${args.join(' ')} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return r.json();
}

function writeApp(version: string): void {
  mkdirSync(join(app, 'lib'), { recursive: true });
  writeFileSync(join(app, 'main.py'), `print("version ${version}")\n`);
  const blob = Buffer.alloc(150_000);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) % 251;
  blob.write(version, 500);
  writeFileSync(join(app, 'lib', 'core.bin'), blob);
}

/** A bundle folder is complete: its manifest checks out against every file in it. */
async function bundleComplete(dir: string): Promise<boolean> {
  return (await checkBundleManifest(dir)).report.ok;
}

beforeAll(() => {
  const r = runCli(['init', ws, '--json']);
  if (r.status !== 0) throw new Error(r.stdout + r.stderr);
});

describe('add-release killed at delays spread over its run, then re-run', () => {
  const outcomes: string[] = [];

  it(`${KILLS} kills: every re-run exits 0 and leaves the release signed with a complete bundle`, async () => {
    writeApp('1.0');
    const ms = timedRun(['add-release', 'myapp', '1.0', app, '-w', ws, '--json']);
    for (const [i, delay] of spread(ms).entries()) {
      const version = `1.${i + 1}`;
      writeApp(version);
      const args = ['add-release', 'myapp', version, app, '-w', ws];
      const how = await killedRun(args, delay);
      const again = rerun(args);
      outcomes.push(`${delay}ms ${how} → ${again.resumed?.bundle ?? 'signed by the re-run'}`);
      expect(again.version).toBe(version);
      expect(await bundleComplete(join(ws, 'bundles', `myapp-${version}`))).toBe(true);
    }
    const signed = Workspace.open(ws).load().targets.signed.targets;
    for (let i = 0; i <= KILLS; i++) expect(signed.has(`myapp-1.${i}.tar.gz`)).toBe(true);
    expect(runCli(['verify', ws, '--json']).json().ok).toBe(true);
    const last = join(ws, 'bundles', `myapp-1.${KILLS}`);
    expect(runCli(['verify', last, '--root', join(ws, 'metadata', '1.root.json'), '--json']).json().ok).toBe(true);
    // the delays are spread so that some runs really die before their end
    expect(outcomes.filter((o) => o.includes(' killed ')).length).toBeGreaterThan(KILLS / 2);
  });

  it('a bundle lost after the commit is rebuilt byte for byte; staging leftovers of a killed write go', async () => {
    const dir = join(ws, 'bundles', `myapp-1.${KILLS}`);
    const args = ['add-release', 'myapp', `1.${KILLS}`, app, '-w', ws];
    // BUNDLE.json names every file with its sha256: equal manifests and a clean check mean equal bundles
    const manifest = readFileSync(join(dir, 'BUNDLE.json'));
    rmSync(dir, { recursive: true });
    const staging = join(ws, 'bundles', `.myapp-1.${KILLS}.staging-0badc0de`);
    mkdirSync(join(staging, 'metadata'), { recursive: true });
    const rebuilt = rerun(args);
    expect(rebuilt.resumed).toEqual({ bundle: 'rebuilt', exact: true });
    expect(readFileSync(join(dir, 'BUNDLE.json')).equals(manifest)).toBe(true);
    expect(await bundleComplete(dir)).toBe(true);
    expect(existsSync(staging)).toBe(false);
    expect(rerun(args).resumed).toEqual({ bundle: 'complete', exact: true });
  });

  it('other content under a version already signed is still RELEASE_NOT_NEWER, and changes nothing', () => {
    writeApp('something else');
    const r = runCli(['add-release', 'myapp', `1.${KILLS}`, app, '-w', ws, '--json']);
    expect(r.status).toBe(3);
    expect(r.json().error.code).toBe('RELEASE_NOT_NEWER');
  });
});

describe('targets add killed at delays spread over its run, then re-run', () => {
  it(`${KILLS} kills: every re-run exits 0, the target is signed, the workspace verifies`, async () => {
    writeFileSync(join(base, 't-0.txt'), 'target 0\n');
    const ms = timedRun(['targets', 'add', join(base, 't-0.txt'), '-w', ws, '--json']);
    for (const [i, delay] of spread(ms).entries()) {
      const file = join(base, `t-${i + 1}.txt`);
      writeFileSync(file, `target ${i + 1}\n`);
      await killedRun(['targets', 'add', file, '-w', ws], delay);
      rerun(['targets', 'add', file, '-w', ws]);
    }
    const signed = Workspace.open(ws).load().targets.signed.targets;
    for (let i = 0; i <= KILLS; i++) expect(signed.has(`t-${i}.txt`)).toBe(true);
    expect(runCli(['verify', ws, '--json']).json().ok).toBe(true);
  });
});

describe('key generate killed at delays spread over its run, then re-run', () => {
  it(`${KILLS} kills: every re-run exits 0 and the public key file names the key in the key file`, async () => {
    const keys = join(base, 'keyholder');
    mkdirSync(keys);
    const gen = (i: number): string[] => ['key', 'generate', '--out', `k${i}.pem`, '--public-out', `k${i}.pub.json`];
    const ms = timedRun([...gen(0), '--json'], keys);
    const resumed: boolean[] = [];
    for (const [i, delay] of spread(ms).entries()) {
      await killedRun(gen(i + 1), delay, keys);
      const again = rerun(gen(i + 1), keys);
      resumed.push(again.resumed === true);
      const pub = JSON.parse(readFileSync(join(keys, `k${i + 1}.pub.json`), 'utf8'));
      expect(pub.keyid).toBe(again.keyid);
    }
    // a key file that does not open with the passphrase is never replaced
    writeFileSync(join(keys, 'foreign.pem'), 'not a key\n', { mode: 0o600 });
    const foreign = runCli(['key', 'generate', '--out', 'foreign.pem', '--json'], { cwd: keys });
    expect(foreign.json().error.code).toBe('IO_ERROR');
    expect(readFileSync(join(keys, 'foreign.pem'), 'utf8')).toBe('not a key\n');
  });
});

describe('ceremony finalize killed at delays spread over its run, then re-run', () => {
  it('every re-run of the same request exits 0 with its bundle, and the workspace verifies', async () => {
    const org = join(base, 'org');
    expect(runCli(['init', org, '--json']).status).toBe(0);
    const start = (): string => rerun(['ceremony', 'start', '--role', 'root', '-w', org]).request;
    const fin = (req: string, i: number): string[] => [
      'ceremony',
      'finalize',
      req,
      '-w',
      org,
      '--bundle-out',
      join(base, `fin-${i}`),
    ];
    const ms = timedRun([...fin(start(), 0), '--json']);
    const kills = 5;
    for (const [i, delay] of spread(ms, kills).entries()) {
      const req = start();
      await killedRun(fin(req, i + 1), delay);
      const again = rerun(fin(req, i + 1));
      expect(again.followUp).toBeUndefined();
      expect(await bundleComplete(join(base, `fin-${i + 1}`))).toBe(true);
    }
    expect(Workspace.open(org).loadRoot().signed.version).toBe(kills + 2);
    expect(runCli(['verify', org, '--json']).json().ok).toBe(true);
  });
});
