/**
 * Re-run after a kill (ADR 0007), the paths test/hostile/rerun-after-kill.test.ts does not take, with fewer
 * kills each (SIGKILL, re-run with the same arguments, assert the re-run completes and nothing was doubled or
 * lost). `key generate` is killed at spread fractions of its measured time (retried sooner when a run outlives its
 * kill); add-release is killed at its own stage lines, so each kill lands at the same stage under any load:
 * - `key generate --backend pkcs11` on a real SoftHSM2 token: a re-run finds the pair the killed run made and
 *   finishes the public key file; never a second key under the label; half a pair whose id the run journalled
 *   (SoftHSM2 writes the two halves one after the other) is replaced; anything else there is refused, kept;
 * - `add-release` whose targets key is not here: the killed run's signing request is kept, once;
 * - `add-release --bundle-out X.tar.gz`: the tarball is complete after the re-run, and rebuilt byte for byte;
 * - `add-release` on a repository without consistent snapshots.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBundleManifest } from '../../src/bundle';
import { Workspace } from '../../src/repository/workspace';
import { BIN, runCli, TEST_PASSPHRASE } from '../helpers/cli';
import { pkcs11JournalPath } from '../../src/keystore/pkcs11/journal';
import { describeSoftHsm, pkcs11GenerateArgs, SoftHsmLab, SOFTHSM_MODULE, USER_PIN } from '../helpers/softhsm';

jest.setTimeout(300_000);

const base = mkdtempSync(join(tmpdir(), 'tufsign-rerun-more-'));
const app = join(base, 'app');
const KILLS = 2;

type Env = Record<string, string>;

function timedRun(args: string[], cwd: string, env: Env = {}): number {
  const start = process.hrtime.bigint();
  const r = runCli(args, { cwd, env });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return Number((process.hrtime.bigint() - start) / 1_000_000n);
}

const spread = (ms: number, n = KILLS): number[] =>
  Array.from({ length: n }, (_, k) => Math.round((ms * (k + 1)) / (n + 1)));

function killedRun(args: string[], delayMs: number, cwd: string, env: Env = {}): Promise<'killed' | 'finished'> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, TUFSIGN_PASSPHRASE: TEST_PASSPHRASE, NO_COLOR: '1', ...env },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL' ? 'killed' : 'finished');
    });
  });
}

/**
 * A run SIGKILLed the moment its progress (stderr) shows `marker`: a stage line of add-release, so the kill lands
 * at the same point of the run however loaded the machine is (no timing measured from another run).
 */
function killedAtMarker(args: string[], marker: RegExp, cwd: string, env: Env = {}): Promise<'killed' | 'finished'> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, TUFSIGN_PASSPHRASE: TEST_PASSPHRASE, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (marker.test(stderr)) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => resolve(signal === 'SIGKILL' ? 'killed' : 'finished'));
  });
}

/**
 * Where add-release is killed, by the stage lines it prints: after the archive is built (nothing signed yet), and
 * once the last role is being signed (the commit and the bundle or request write follow at once).
 */
const SIGNED_MARKERS = [/^archive: /m, /^signing timestamp v\d+/m];
/** With the targets key elsewhere nothing is signed: after the archive, and after the target is hashed (the request follows). */
const REQUEST_MARKERS = [/^archive: /m, /^target myapp-[^:]+\.tar\.gz: /m];

function rerun(args: string[], cwd: string, env: Env = {}): any {
  const r = runCli([...args, '--json'], { cwd, env });
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

/** How each killed run ended: the delays are spread so that runs really die before their end. */
const outcomes: ('killed' | 'finished')[] = [];
afterAll(() => {
  if (outcomes.length > 0) expect(outcomes.filter((o) => o === 'killed').length).toBeGreaterThan(outcomes.length / 2);
});

const signedTargets = (ws: string): Set<string> => new Set(Workspace.open(ws).load().targets.signed.targets.keys());

describeSoftHsm('key generate --backend pkcs11 killed, then re-run', () => {
  let lab: SoftHsmLab;
  let env: Env;
  let work: string;
  const gen = (label: string, scheme = 'ecdsa-sha2-nistp256'): string[] =>
    pkcs11GenerateArgs('gen', label, ['--scheme', scheme, '--public-out', `${label}.pub.json`]);
  /** Key objects under `label` on the token, counted by an independent PKCS#11 client (OpenSC pkcs11-tool). */
  const objects = (label: string): { pub: number; priv: number } => {
    const out = lab.pkcs11Tool(['--token-label', 'gen', '--login', '--pin', USER_PIN, '--list-objects']);
    const blocks = out.split(/\n(?=\S)/).filter((b) => new RegExp(`\\n\\s+label:\\s+${label}\\n`).test(`${b}\n`));
    return {
      pub: blocks.filter((b) => b.startsWith('Public Key Object')).length,
      priv: blocks.filter((b) => b.startsWith('Private Key Object')).length,
    };
  };

  let serial = '';
  /** The journal a run writes before C_GenerateKeyPair (src/keystore/pkcs11/journal.ts), naming key id `id`. */
  const writeJournal = (label: string, id: string): void =>
    writeFileSync(
      pkcs11JournalPath(work, serial, label),
      JSON.stringify({
        _type: 'tufsign-pkcs11-generate',
        tokenSerial: serial,
        label,
        id,
        scheme: 'ecdsa-sha2-nistp256',
      }),
    );
  /** A key pair made by OpenSC, then its private half deleted: a public key object alone under `label`. */
  const makeHalfPair = (label: string, id: string): void => {
    const login = ['--token-label', 'gen', '--login', '--pin', USER_PIN];
    lab.pkcs11Tool([...login, '--keypairgen', '--key-type', 'EC:prime256v1', '--label', label, '--id', id]);
    lab.pkcs11Tool([...login, '--delete-object', '--type', 'privkey', '--label', label]);
  };

  beforeAll(() => {
    lab = SoftHsmLab.create();
    serial = lab.addToken('gen').serial;
    work = join(lab.dir, 'work');
    mkdirSync(work);
    env = { SOFTHSM2_CONF: lab.conf, TUFSIGN_PIN: USER_PIN, TUFSIGN_PKCS11_MODULE: SOFTHSM_MODULE };
  });
  afterAll(() => lab?.cleanup());

  it(`${KILLS} kills: every re-run exits 0 with one key pair under the label and its public key file`, async () => {
    // the faster of two runs: a run slowed by a load spike would put the kills after the end of the next runs
    const ms = Math.min(timedRun([...gen('k0'), '--json'], work, env), timedRun([...gen('k00'), '--json'], work, env));
    let n = 0;
    for (let delay of spread(ms)) {
      // A run that finished before its kill proves little: try again on a new label, sooner (load varies run to
      // run), until one is really killed. Every attempt's re-run is checked all the same.
      let outcome: 'killed' | 'finished' = 'finished';
      for (let attempt = 0; attempt < 4 && outcome === 'finished'; attempt++, delay = Math.round(delay * 0.6)) {
        const label = `k${++n}`;
        outcome = await killedRun(gen(label), delay, work, env);
        const again = rerun(gen(label), work, env);
        expect(objects(label)).toEqual({ pub: 1, priv: 1 });
        expect(JSON.parse(readFileSync(join(work, `${label}.pub.json`), 'utf8')).keyid).toBe(again.keyid);
      }
      outcomes.push(outcome);
    }
  });

  it('a kill after the key was made: the re-run reports the same key and writes only the public key file', () => {
    const first = rerun(gen('late'), work, env);
    expect(first.resumed).toBeUndefined();
    rmSync(join(work, 'late.pub.json')); // what a kill between the key and its public key file leaves
    const again = rerun(gen('late'), work, env);
    expect(again).toMatchObject({ keyid: first.keyid, uri: first.uri, resumed: true });
    expect(JSON.parse(readFileSync(join(work, 'late.pub.json'), 'utf8')).keyid).toBe(first.keyid);
    expect(objects('late')).toEqual({ pub: 1, priv: 1 });
  });

  it('never replaced: a label holding another scheme, or a public key file of another key, is refused', () => {
    const other = runCli([...gen('late', 'ed25519'), '--json'], { cwd: work, env });
    expect(other.json().error.code).toBe('USAGE');
    const stranger = rerun(gen('stranger'), work, env);
    writeFileSync(join(work, 'late.pub.json'), readFileSync(join(work, 'stranger.pub.json')));
    const clash = runCli([...gen('late'), '--json'], { cwd: work, env });
    expect(clash.json().error.code).toBe('IO_ERROR');
    expect(JSON.parse(readFileSync(join(work, 'late.pub.json'), 'utf8')).keyid).toBe(stranger.keyid);
    expect(objects('late')).toEqual({ pub: 1, priv: 1 });
    // half a pair under a label (a public key object alone, as another tool may leave it) is not resumed
    makeHalfPair('half', '0f0f');
    const half = runCli([...gen('half'), '--json'], { cwd: work, env });
    expect(half.json().error.code).toBe('USAGE');
    expect(objects('half')).toEqual({ pub: 1, priv: 0 });
    // a journal here naming another id does not make that half pair tufsign's
    writeJournal('half', 'abcd');
    expect(runCli([...gen('half'), '--json'], { cwd: work, env }).json().error.code).toBe('USAGE');
    expect(objects('half')).toEqual({ pub: 1, priv: 0 });
  });

  it('killed inside C_GenerateKeyPair (SoftHSM2 had written one half): the journalled half is replaced by a whole pair', () => {
    // What a kill between SoftHSM2's two object writes leaves (random kills hit it about 1 time in 12): the
    // journal with the id tufsign chose, and a public key object alone under the label with that id.
    makeHalfPair('torn', '0e0e');
    writeJournal('torn', '0e0e');
    const again = rerun(gen('torn'), work, env);
    expect(again.resumed).toBeUndefined();
    expect(objects('torn')).toEqual({ pub: 1, priv: 1 });
    expect((/;id=([^;?]+)/.exec(again.uri)?.[1] ?? '').replace(/%/g, '').toLowerCase()).not.toBe('0e0e');
    expect(JSON.parse(readFileSync(join(work, 'torn.pub.json'), 'utf8')).keyid).toBe(again.keyid);
    expect(existsSync(pkcs11JournalPath(work, serial, 'torn'))).toBe(false);
  });
});

describe('add-release killed on the paths not covered elsewhere, then re-run', () => {
  const ws = join(base, 'repo');
  const flat = join(base, 'flat');
  beforeAll(() => {
    for (const [dir, extra] of [
      [ws, []],
      [flat, ['--no-consistent-snapshot']],
    ] as const) {
      const r = runCli(['init', dir, ...extra, '--json']);
      if (r.status !== 0) throw new Error(r.stdout + r.stderr);
    }
    writeApp('0.1');
    timedRun(['add-release', 'myapp', '0.1', app, '-w', ws, '--json'], base);
  });

  it(`targets key not here: ${KILLS} kills, each re-run ends with the one signing request of its release`, async () => {
    const key = join(ws, 'keys', 'targets-1.pem');
    renameSync(key, join(base, 'targets-1.pem.away'));
    try {
      for (const [i, marker] of REQUEST_MARKERS.entries()) {
        const version = `0.${i + 2}`;
        writeApp(version);
        const args = [
          'add-release',
          'myapp',
          version,
          app,
          '-w',
          ws,
          '--request-out',
          join(base, `req-${version}.json`),
        ];
        outcomes.push(await killedAtMarker(args, marker, base));
        const again = rerun(args, base);
        expect(again.request).toBeDefined();
        expect(again.bundle).toBeUndefined();
        const req = JSON.parse(readFileSync(join(base, `req-${version}.json`), 'utf8'));
        expect(JSON.stringify(req)).toContain(`myapp-${version}.tar.gz`);
        // nothing was signed here: the published targets does not list the release
        expect(signedTargets(ws).has(`myapp-${version}.tar.gz`)).toBe(false);
        // a further re-run keeps that request, byte for byte
        const before = readFileSync(join(base, `req-${version}.json`));
        expect(rerun(args, base).resumed).toEqual({ request: 'kept' });
        expect(readFileSync(join(base, `req-${version}.json`)).equals(before)).toBe(true);
      }
      // the same APP VERSION from a changed folder is another release: the request there is not its own, and
      // it is neither kept nor overwritten
      const last = `0.${KILLS + 1}`;
      const before = readFileSync(join(base, `req-${last}.json`));
      writeApp('changed');
      const changed = runCli(
        ['add-release', 'myapp', last, app, '-w', ws, '--request-out', join(base, `req-${last}.json`), '--json'],
        { cwd: base },
      );
      expect(changed.json().error.code).toBe('IO_ERROR');
      expect(readFileSync(join(base, `req-${last}.json`)).equals(before)).toBe(true);
    } finally {
      renameSync(join(base, 'targets-1.pem.away'), key);
    }
    expect(runCli(['verify', ws, '--json']).json().ok).toBe(true);
  });

  it(`--bundle-out X.tar.gz: ${KILLS} kills, each re-run leaves the release signed with a complete tarball`, async () => {
    for (const [i, marker] of SIGNED_MARKERS.entries()) {
      const version = `1.${i}`;
      writeApp(version);
      const out = join(base, `bundle-${version}.tar.gz`);
      const args = ['add-release', 'myapp', version, app, '-w', ws, '--bundle-out', out];
      outcomes.push(await killedAtMarker(args, marker, base));
      const again = rerun(args, base);
      expect(again.bundle.format).toBe('tar.gz');
      expect(signedTargets(ws).has(`myapp-${version}.tar.gz`)).toBe(true);
      expect(runCli(['verify', out, '--root', join(ws, 'metadata', '1.root.json'), '--json']).json().ok).toBe(true);
      // no temp file of an atomic write (`.NAME.HEX.tmp`, left by a kill during the write) is left beside it
      expect(readdirSync(base).filter((n) => n.startsWith(`.bundle-${version}.tar.gz.`))).toEqual([]);
    }
    // lost after the commit: rebuilt byte for byte (a deterministic tarball of the same entries)
    const version = `1.${KILLS - 1}`;
    const out = join(base, `bundle-${version}.tar.gz`);
    const bytes = readFileSync(out);
    rmSync(out);
    const leftover = join(base, `.bundle-${version}.tar.gz.0123456789ab.tmp`);
    writeFileSync(leftover, 'half a tarball');
    const rebuilt = rerun(['add-release', 'myapp', version, app, '-w', ws, '--bundle-out', out], base);
    expect(rebuilt.resumed).toEqual({ bundle: 'rebuilt', exact: true });
    expect(readFileSync(out).equals(bytes)).toBe(true);
    expect(existsSync(leftover)).toBe(false);
  });

  it(`no consistent snapshots: ${KILLS} kills, each re-run leaves the release signed with a complete bundle`, async () => {
    for (const [i, marker] of SIGNED_MARKERS.entries()) {
      const version = `2.${i}`;
      writeApp(version);
      const args = ['add-release', 'myapp', version, app, '-w', flat];
      outcomes.push(await killedAtMarker(args, marker, base));
      rerun(args, base);
      expect(signedTargets(flat).has(`myapp-${version}.tar.gz`)).toBe(true);
      const dir = join(flat, 'bundles', `myapp-${version}`);
      expect((await checkBundleManifest(dir)).report.ok).toBe(true);
      expect(runCli(['verify', dir, '--root', join(flat, 'metadata', 'root.json'), '--json']).json().ok).toBe(true);
    }
    // lost after the commit: rebuilt from the workspace (older versions are not kept here, so it is not exact,
    // but it is complete and verifies)
    const dir = join(flat, 'bundles', `myapp-2.${KILLS - 1}`);
    rmSync(dir, { recursive: true });
    const rebuilt = rerun(['add-release', 'myapp', `2.${KILLS - 1}`, app, '-w', flat], base);
    expect(rebuilt.resumed).toEqual({ bundle: 'rebuilt', exact: false });
    expect((await checkBundleManifest(dir)).report.ok).toBe(true);
    expect(runCli(['verify', dir, '--root', join(flat, 'metadata', 'root.json'), '--json']).json().ok).toBe(true);
    expect(existsSync(join(flat, 'metadata', '1.targets.json'))).toBe(false);
    expect(runCli(['verify', flat, '--json']).json().ok).toBe(true);
  });
});
