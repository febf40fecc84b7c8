/**
 * Re-run after a kill (ADR 0007): `add-release` and `targets add` killed with
 * SIGKILL at increasing delays, then run again: the re-run completes, the
 * workspace verifies, and a release in signed metadata always has a complete
 * bundle (rebuilt by the re-run when the kill came after the commit).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runCli, TEST_PASSPHRASE } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

jest.setTimeout(300_000);

const base = tempDir('tufsign-rerun-');
const ws = join(base, 'repo');
const app = join(base, 'app');
const ENV = { SOURCE_DATE_EPOCH: '1700000000' };

/** Start the CLI and SIGKILL it after `delayMs` (or let it finish first). */
function killedRun(args: string[], delayMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, TUFSIGN_PASSPHRASE: TEST_PASSPHRASE, ...ENV },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

function writeApp(version: string): void {
  mkdirSync(join(app, 'lib'), { recursive: true });
  writeFileSync(join(app, 'main.py'), `print("version ${version}")\n`);
  writeFileSync(join(app, 'lib', 'data.bin'), Buffer.alloc(200_000, version.length));
}

beforeAll(() => {
  const r = runCli(['init', ws, '--json']);
  if (r.status !== 0) throw new Error(r.stdout + r.stderr);
});

const DELAYS = [100, 300, 600, 900, 1300, 1800, 2500];

describe('add-release killed at increasing delays, then re-run', () => {
  it.each(DELAYS.map((d, i) => [d, `1.${i}`]))(
    'kill after %i ms (version %s): the re-run completes with a complete bundle',
    async (delay, version) => {
      writeApp(String(version));
      const args = ['add-release', 'myapp', String(version), app, '-w', ws, '--json'];
      await killedRun(args, Number(delay));
      const again = runCli(args, { env: ENV });
      // Either the re-run did the work (or finished the bundle), or the killed run had already finished everything.
      if (again.status !== 0) expect(again.json().error.code).toBe('RELEASE_NOT_NEWER');
      const list = runCli(['release', 'list', 'myapp', '-w', ws, '--json']);
      expect(list.status).toBe(0);
      expect(JSON.stringify(list.json())).toContain(`"version":"${String(version)}"`.replace(/"/g, '"'));
      const bundle = join(ws, 'bundles', `myapp-${String(version)}`);
      const v = runCli(['verify', bundle, '--root', join(ws, 'metadata', '1.root.json'), '--json']);
      expect({ status: v.status, out: v.status === 0 ? '' : v.stdout }).toEqual({ status: 0, out: '' });
    },
  );

  it('the workspace verifies after all of it', () => {
    expect(runCli(['verify', ws, '--json']).status).toBe(0);
  });
});

describe('targets add killed at increasing delays, then re-run', () => {
  it.each([100, 400, 800, 1300])('kill after %i ms: the re-run completes and the target is there', async (delay) => {
    const file = join(base, `t-${delay}.txt`);
    writeFileSync(file, `target ${delay}\n`);
    const args = ['targets', 'add', file, '-w', ws, '--json'];
    await killedRun(args, delay);
    const again = runCli(args);
    expect(again.status).toBe(0);
    expect(runCli(['verify', ws, '--json']).status).toBe(0);
  });
});
