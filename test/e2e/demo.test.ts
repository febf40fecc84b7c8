/**
 * README's first command, `npm run demo` (scripts/demo.sh), as a reader runs it after `npm ci`: nothing set (no
 * passphrase variables, no folder), so it makes its own temp folder and random passphrase files. README's block
 * is `sh norun` (it installs packages); .ci/run runs the installs and `npm test`, and this test runs the demo.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

jest.setTimeout(120_000);

describe('npm run demo (README command 1)', () => {
  const tmp = tempDir('tufsign-demo-test-');

  it('creates a repository, adds a target, verifies it and prints the status table, with nothing set', () => {
    if (!existsSync(join(ROOT, 'dist', 'commands'))) throw new Error('run `npm run build` first');
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, NO_COLOR: '1' };
    for (const k of Object.keys(env)) if (k.startsWith('TUFSIGN_')) delete env[k];
    const r = spawnSync('npm', ['run', '--silent', 'demo'], { cwd: ROOT, env, encoding: 'utf8', input: '' });
    if (r.status !== 0) throw new Error(`npm run demo exited ${r.status}\n${r.stdout}\n${r.stderr}`);
    // the folder it made (mktemp under TMPDIR), named on its last line
    const work = /^demo workspace: (\S+)\/repo /m.exec(r.stderr)?.[1];
    expect(work?.startsWith(tmp)).toBe(true);
    const repo = join(work ?? '', 'repo');
    // its own secrets: 0600 files, in no output
    for (const f of ['passphrase', 'offline-passphrase']) {
      const path = join(work ?? '', f);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const secret = readFileSync(path, 'utf8').trim();
      expect(secret.length).toBeGreaterThanOrEqual(24);
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
    // the target is in the newest targets metadata, root's key went offline, and verify and status ran
    const metadata = readFileSync(join(repo, 'metadata', '2.targets.json'), 'utf8');
    expect(Object.keys((JSON.parse(metadata) as { signed: { targets: object } }).signed.targets)).toEqual([
      'hello.txt',
    ]);
    expect(existsSync(join(repo, 'offline-keys'))).toBe(true);
    expect(r.stderr).toMatch(/^== tufsign verify$/m);
    expect(r.stdout).toMatch(/\bRESIGN BY\b/);
    expect(r.stdout).toMatch(/\btimestamp\b/);
  });
});
