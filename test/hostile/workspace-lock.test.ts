/**
 * One writer per workspace (ADR 0007): a second writer fails at once with
 * WORKSPACE_BUSY naming the holder, or waits with --wait; a lock left by a
 * killed process is taken over; 20 concurrent `targets add` pairs lose nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isTufsignError } from '../../src/errors';
import { LOCK_FILE, lockWorkspace } from '../../src/io/lock';
import { BIN, runCli, TEST_OFFLINE_PASSPHRASE, TEST_PASSPHRASE } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const base = tempDir('tufsign-lock-');
let n = 0;
const freshDir = (): string => {
  const d = join(base, `core-${n++}`);
  mkdirSync(d);
  return d;
};

/** A workspace whose three online roles share one key file: one passphrase derivation per run keeps 40 runs cheap. */
function initRepo(name: string): string {
  const dir = join(base, name);
  const key = join(base, `${name}-online.pem`);
  const g = runCli(['key', 'generate', '--out', key, '--json']);
  if (g.status !== 0) throw new Error(g.stdout + g.stderr);
  const uri = `file:${key}`;
  const r = runCli(['init', dir, '--targets-key', uri, '--snapshot-key', uri, '--timestamp-key', uri, '--json']);
  if (r.status !== 0) throw new Error(r.stdout + r.stderr);
  return dir;
}

/** A PID that certainly belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function targetPaths(dir: string): string[] {
  const meta = join(dir, 'metadata');
  const latest = readdirSync(meta)
    .map((f) => /^([0-9]+)\.targets\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]))[0]!;
  return Object.keys(JSON.parse(readFileSync(join(meta, latest[0]), 'utf8')).signed.targets).sort();
}

describe('workspace lock (core)', () => {
  it('a second writer fails at once with WORKSPACE_BUSY naming PID and command; release frees it', async () => {
    const dir = freshDir();
    const first = await lockWorkspace(dir, { command: 'targets add' });
    let err: unknown;
    await lockWorkspace(dir, { command: 'refresh' }).catch((e: unknown) => (err = e));
    expect(isTufsignError(err, 'WORKSPACE_BUSY')).toBe(true);
    expect((err as { details: unknown }).details).toMatchObject({
      pid: process.pid,
      command: 'targets add',
      host: hostname(),
    });
    first.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    (await lockWorkspace(dir, { command: 'refresh' })).release();
  });

  it('a waiting writer gets the lock when the holder releases it', async () => {
    const dir = freshDir();
    const first = await lockWorkspace(dir, { command: 'targets add' });
    let waitedFor: number | undefined;
    setTimeout(() => first.release(), 300);
    const second = await lockWorkspace(dir, {
      command: 'refresh',
      waitSeconds: 30,
      onWait: (h) => (waitedFor = h.pid),
    });
    expect(waitedFor).toBe(process.pid);
    second.release();
  });

  it('a bounded wait ends with WORKSPACE_BUSY', async () => {
    const dir = freshDir();
    const first = await lockWorkspace(dir, { command: 'targets add' });
    await expect(lockWorkspace(dir, { command: 'refresh', waitSeconds: 0.3 })).rejects.toMatchObject({
      code: 'WORKSPACE_BUSY',
    });
    first.release();
  });

  it('a stale lock (dead PID) is taken over; many takers at once end with exactly one holder at a time', async () => {
    const dir = freshDir();
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: deadPid(), host: hostname(), command: 'targets add', started: 'x', token: 'dead' }),
    );
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const l = await lockWorkspace(dir, { command: 'refresh', waitSeconds: 30 });
        inside++;
        maxInside = Math.max(maxInside, inside);
        await new Promise((r) => setTimeout(r, 5));
        inside--;
        l.release();
      }),
    );
    expect(maxInside).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a lock held by another host is never taken over', async () => {
    const dir = freshDir();
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: deadPid(), host: `not-${hostname()}`, command: 'sign', started: 'x', token: 't' }),
    );
    await expect(lockWorkspace(dir, { command: 'refresh' })).rejects.toMatchObject({
      code: 'WORKSPACE_BUSY',
      details: { host: `not-${hostname()}` },
    });
  });
});

describe('workspace lock (CLI)', () => {
  it('targets add on a held workspace exits 8 with WORKSPACE_BUSY and changes nothing; --wait succeeds once released', async () => {
    const dir = initRepo('held');
    writeFileSync(join(base, 'a.txt'), 'a');
    const held = await lockWorkspace(dir, { command: 'sign' });
    const busy = runCli(['targets', 'add', join(base, 'a.txt'), '-w', dir, '--json']);
    expect(busy.status).toBe(8);
    expect(busy.json().error).toMatchObject({ code: 'WORKSPACE_BUSY', details: { pid: process.pid, command: 'sign' } });
    expect(targetPaths(dir)).toEqual([]);
    const waiting = new Promise<number>((resolve) => {
      const c = spawn(process.execPath, [BIN, 'targets', 'add', join(base, 'a.txt'), '-w', dir, '--wait', '--json'], {
        env: {
          ...process.env,
          TUFSIGN_PASSPHRASE: TEST_PASSPHRASE,
          TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE,
        },
        stdio: 'ignore',
      });
      c.on('exit', (code) => resolve(code ?? -1));
    });
    setTimeout(() => held.release(), 1500);
    expect(await waiting).toBe(0);
    expect(targetPaths(dir)).toEqual(['a.txt']);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  }, 120_000);

  it('a lock left by a killed process is taken over', () => {
    const dir = initRepo('stale');
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: deadPid(), host: hostname(), command: 'targets add', started: 'x', token: 'dead' }),
    );
    writeFileSync(join(base, 's.txt'), 's');
    expect(runCli(['targets', 'add', join(base, 's.txt'), '-w', dir, '--json']).status).toBe(0);
    expect(targetPaths(dir)).toEqual(['s.txt']);
  }, 120_000);

  it('20 concurrent targets add pairs (--wait): no lost update', async () => {
    const dir = initRepo('race');
    const files = Array.from({ length: 40 }, (_, i) => {
      const f = join(base, `race-${String(i).padStart(2, '0')}.txt`);
      writeFileSync(f, `file ${i}`);
      return f;
    });
    const codes = await Promise.all(
      files.map(
        (f) =>
          new Promise<number>((resolve) => {
            const c = spawn(process.execPath, [BIN, 'targets', 'add', f, '-w', dir, '--wait', '300', '--json'], {
              env: {
                ...process.env,
                TUFSIGN_PASSPHRASE: TEST_PASSPHRASE,
                TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE,
              },
              stdio: 'ignore',
            });
            c.on('exit', (code) => resolve(code ?? -1));
          }),
      ),
    );
    expect(codes).toEqual(files.map(() => 0));
    expect(targetPaths(dir)).toEqual(files.map((f) => f.slice(base.length + 1)).sort());
    expect(runCli(['verify', dir, '--json']).status).toBe(0);
  }, 400_000);
});
