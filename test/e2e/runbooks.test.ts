/**
 * Every command in docs/runbooks runs, in order, with file keys: the
 * procedures cannot drift from the tool. Runnable blocks are fenced as
 * ```sh runbook; each runbook runs in its own empty folder under `set -eu`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT } from '../helpers/cli';
import { tmp } from './ceremony-helpers';

jest.setTimeout(300_000);

const DIR = join(ROOT, 'docs', 'runbooks');
const runbooks = readdirSync(DIR)
  .filter((f) => f.endsWith('.md') && f !== 'README.md')
  .sort();

export function runnableBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const re = /^([ \t]*)```sh runbook\n([\s\S]*?)^\1```/gm;
  for (let m = re.exec(markdown); m !== null; m = re.exec(markdown)) {
    const indent = m[1] ?? '';
    blocks.push(
      (m[2] ?? '')
        .split('\n')
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
        .join('\n'),
    );
  }
  return blocks;
}

describe('runbooks', () => {
  const shimDir = join(tmp('tufsign-shim-'), 'bin');
  beforeAll(() => {
    mkdirSync(shimDir, { recursive: true });
    writeFileSync(join(shimDir, 'tufsign'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(shimDir, 'tufsign'), 0o755);
  });

  it('there are runbooks for every situation the issue names', () => {
    expect(runbooks).toEqual([
      'changing-thresholds.md',
      'compromised-online-key.md',
      'compromised-root-key.md',
      'lost-yubikey.md',
      'resign-before-expiry.md',
      'routine-key-rotation.md',
    ]);
  });

  test.each(runbooks)('%s runs end to end', (file) => {
    const md = readFileSync(join(DIR, file), 'utf8');
    const blocks = runnableBlocks(md);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    // numbered procedure, with what to do when a step fails
    expect(md).toMatch(/^1\. \*\*/m);
    expect(md).toMatch(/If it fails/);
    const work = tmp('tufsign-runbook-');
    const script = ['set -eu', ...blocks.map((b, i) => `echo "### block ${i + 1}" >&2\n${b}`)].join('\n');
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${shimDir}:${process.env['PATH'] ?? ''}` };
    delete env['TUFSIGN_PASSPHRASE'];
    // the rehearsal's keyholders pin roots in the rehearsal folder, never in the tester's home
    env['TUFSIGN_TRUST_HOME'] = join(work, '.trust');
    const r = spawnSync('bash', ['-c', script], { cwd: work, env, encoding: 'utf8', timeout: 280_000 });
    if (r.status !== 0)
      throw new Error(`${file} failed (exit ${r.status}) in ${work}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
    expect(r.status).toBe(0);
  });
});
