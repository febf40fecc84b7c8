/** The CLI contract for the foundation commands: results, --json, exit codes, and bad input that loses nothing. */
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const base = tempDir();

/** A fingerprint of every file in a folder, to prove a failed command changed nothing. */
function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

function initRepo(name: string, args: string[] = []): string {
  const dir = join(base, name);
  const r = runCli(['init', dir, '--json', ...args]);
  if (r.status !== 0) throw new Error(r.stdout + r.stderr);
  return dir;
}

describe('init', () => {
  it('creates a complete repository with consistent snapshots and the default expiry periods', () => {
    const now = '2026-06-01T00:00:00Z';
    const dir = join(base, 'defaults');
    const r = runCli(['init', dir, '--json'], { env: { TUFSIGN_NOW: now } });
    expect(r.status).toBe(0);
    const result = r.json();
    expect(result.complete).toBe(true);
    const expires = Object.fromEntries(result.roles.map((x: any) => [x.role, x.expires]));
    expect(expires).toEqual({
      root: '2027-06-01T00:00:00Z',
      targets: '2026-08-30T00:00:00Z',
      snapshot: '2026-06-08T00:00:00Z',
      timestamp: '2026-06-02T00:00:00Z',
    });
    expect(readdirSync(join(dir, 'metadata')).sort()).toEqual([
      '1.root.json',
      '1.snapshot.json',
      '1.targets.json',
      'root.json',
      'timestamp.json',
    ]);
    const root = JSON.parse(readFileSync(join(dir, 'metadata', '1.root.json'), 'utf8'));
    expect(root.signed.consistent_snapshot).toBe(true);
    for (const k of readdirSync(join(dir, 'keys'))) expect(statSync(join(dir, 'keys', k)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    // the passphrase never lands in any file
    for (const f of Object.keys(snapshotTree(dir)))
      expect(readFileSync(join(dir, f), 'utf8')).not.toContain('test-only-passphrase');
  });

  it.each(['ecdsa-sha2-nistp256', 'rsassa-pss-sha256'])('generates %s keys with --scheme', (scheme) => {
    const dir = initRepo(`scheme-${scheme}`, ['--scheme', scheme]);
    const root = JSON.parse(readFileSync(join(dir, 'metadata', '1.root.json'), 'utf8'));
    const keys: any[] = Object.values(root.signed.keys);
    expect(new Set(keys.map((k) => k.scheme))).toEqual(new Set([scheme]));
    expect(new Set(keys.map((k) => k.keytype))).toEqual(new Set([scheme === 'ecdsa-sha2-nistp256' ? 'ecdsa' : 'rsa']));
    expect(runCli(['verify', dir]).status).toBe(0);
  });

  it('with public-only keys writes what it can and names the missing signatures', () => {
    const alice = join(base, 'alice.pub.json');
    const g = runCli([
      'key',
      'generate',
      '--out',
      join(base, 'alice.pem'),
      '--public-out',
      alice,
      '--owner',
      'alice',
      '--json',
    ]);
    expect(g.status).toBe(0);
    const dir = join(base, 'public-only');
    const r = runCli(['init', dir, '--root-key', alice, '--json']);
    expect(r.status).toBe(0);
    const result = r.json();
    expect(result.complete).toBe(false);
    const root = result.roles.find((x: any) => x.role === 'root');
    expect(root.complete).toBe(false);
    expect(root.missing).toEqual([{ keyid: g.json().keyid, owner: 'alice' }]);
    expect(result.roles.filter((x: any) => x.role !== 'root').every((x: any) => x.complete)).toBe(true);
    const v = runCli(['verify', dir, '--json']);
    expect(v.status).toBe(1);
  });

  it('refuses a threshold above the number of keys (BAD-25) and writes nothing', () => {
    const alice = join(base, 'alice.pub.json');
    const dir = join(base, 'bad-threshold');
    const r = runCli(['init', dir, '--root-key', alice, '--root-threshold', '2', '--json']);
    expect(r.status).toBe(3);
    expect(r.json().error.code).toBe('THRESHOLD_INVALID');
    expect(() => readdirSync(dir)).toThrow();
  });

  it('refuses an existing workspace', () => {
    const dir = initRepo('exists');
    const before = snapshotTree(dir);
    const r = runCli(['init', dir, '--json']);
    expect(r.status).toBe(3);
    expect(r.json().error.code).toBe('WORKSPACE_EXISTS');
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('without a passphrase and without a TTY it refuses instead of prompting', () => {
    const r = runCli(['init', join(base, 'no-secret'), '--json'], { env: { TUFSIGN_PASSPHRASE: undefined } });
    expect(r.json().error.code).toBe('SECRET_REQUIRED');
    expect(r.status).toBe(5);
  });

  it('reads the passphrase from --passphrase-file and refuses a world-readable one', () => {
    const pf = join(base, 'pass.txt');
    writeFileSync(pf, 'file-passphrase-123\n', { mode: 0o600 });
    const dir = join(base, 'pf');
    expect(runCli(['init', dir, '--passphrase-file', pf], { env: { TUFSIGN_PASSPHRASE: undefined } }).status).toBe(0);
    chmodSync(pf, 0o644);
    const r = runCli(['refresh', '-w', dir, '--passphrase-file', pf, '--json'], {
      env: { TUFSIGN_PASSPHRASE: undefined },
    });
    expect(r.json().error.code).toBe('KEY_FILE_PERMISSIONS');
  });
});

describe('targets, sign and refresh', () => {
  let dir: string;
  beforeAll(() => {
    dir = initRepo('ops');
  });

  it('targets add registers length and sha256, with custom metadata, under one hash-prefixed name', () => {
    const f = join(base, 'app.bin');
    writeFileSync(f, Buffer.alloc(1000, 7));
    const r = runCli([
      'targets',
      'add',
      f,
      '--path',
      'linux/app.bin',
      '--custom',
      '{"channel":"stable"}',
      '-w',
      dir,
      '--json',
    ]);
    expect(r.status).toBe(0);
    const targets = JSON.parse(readFileSync(join(dir, 'metadata', '2.targets.json'), 'utf8'));
    const t = targets.signed.targets['linux/app.bin'];
    const data = readFileSync(f);
    expect(t).toEqual({
      length: 1000,
      hashes: {
        sha256: createHash('sha256').update(data).digest('hex'),
      },
      custom: { channel: 'stable' },
    });
    expect(readdirSync(join(dir, 'targets', 'linux'))).toEqual([`${t.hashes.sha256}.app.bin`]);
    expect(r.json().roles.map((x: any) => `${x.role}:${x.version}`)).toEqual([
      'targets:2',
      'snapshot:2',
      'timestamp:2',
    ]);
  });

  it.each([
    ['BAD-40 dot-dot segment', 'a/../b'],
    ['BAD-41 absolute', '/etc/passwd'],
    ['BAD-41 drive letter', 'C:\\x'],
    ['BAD-42 empty segment', 'a//b'],
    ['BAD-42 trailing slash', 'a/'],
    ['BAD-43 newline', 'a\nb'],
    ['BAD-45 hash-prefixed look', `${'a'.repeat(64)}.bin`],
  ])('refuses target path %s and changes nothing', (_name, path) => {
    const f = join(base, 'x.bin');
    writeFileSync(f, 'x');
    const before = snapshotTree(dir);
    const r = runCli(['targets', 'add', f, '--path', path, '-w', dir, '--json']);
    expect(r.status).toBe(3);
    expect(r.json().error.code).toBe('PATH_UNSAFE');
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('BAD-44 refuses a path that collides with an existing one after case folding', () => {
    const f = join(base, 'Y.bin');
    writeFileSync(f, 'y');
    const before = snapshotTree(dir);
    const r = runCli(['targets', 'add', f, '--path', 'LINUX/APP.BIN', '-w', dir, '--json']);
    expect(r.json().error.code).toBe('PATH_COLLISION');
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('a wrong passphrase leaves the workspace exactly as it was', () => {
    const f = join(base, 'z.bin');
    writeFileSync(f, 'z');
    const before = snapshotTree(dir);
    const r = runCli(['targets', 'add', f, '-w', dir, '--json'], { env: { TUFSIGN_PASSPHRASE: 'wrong-passphrase' } });
    expect(r.status).toBe(5);
    expect(r.json().error.code).toBe('WRONG_PASSPHRASE');
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('--custom must be a JSON object, parsed strictly', () => {
    const f = join(base, 'c.bin');
    writeFileSync(f, 'c');
    expect(runCli(['targets', 'add', f, '--custom', '[1]', '-w', dir, '--json']).json().error.code).toBe(
      'METADATA_SCHEMA',
    );
    expect(runCli(['targets', 'add', f, '--custom', '{"a":1,"a":2}', '-w', dir, '--json']).json().error.code).toBe(
      'JSON_DUPLICATE_KEY',
    );
  });

  it('targets remove drops the entry and re-signs the chain', () => {
    const r = runCli(['targets', 'remove', 'linux/app.bin', '-w', dir, '--json']);
    expect(r.status).toBe(0);
    const v = runCli(['verify', dir, '--json']).json();
    expect(v.ok).toBe(true);
    expect(v.targets).toEqual([]);
    expect(runCli(['targets', 'remove', 'nope', '-w', dir, '--json']).json().error.code).toBe('TARGET_NOT_FOUND');
  });

  it('sign without --bump adds nothing new and keeps the version; with --expires it bumps and cascades', () => {
    const metadataBefore = readdirSync(join(dir, 'metadata')).map((f) => {
      const st = statSync(join(dir, 'metadata', f));
      return [f, st.ino, st.mtimeMs];
    });
    const same = runCli(['sign', 'targets', '-w', dir, '--json']).json();
    const v0 = same.roles[0].version;
    expect(same.roles.map((x: any) => x.role)).toEqual(['targets']);
    // every signature was there: nothing to sign, nothing rewritten, nothing to publish (ADR 0013)
    expect(same.written).toEqual([]);
    expect(same.roles[0]).toMatchObject({ unchanged: true, files: [], complete: true });
    const human = runCli(['sign', 'targets', '-w', dir]);
    expect(human.status).toBe(0);
    expect(human.stdout).not.toContain('tufsign publish');
    expect(
      readdirSync(join(dir, 'metadata')).map((f) => {
        const st = statSync(join(dir, 'metadata', f));
        return [f, st.ino, st.mtimeMs];
      }),
    ).toEqual(metadataBefore);
    const r = runCli(['sign', 'targets', '--expires', '30d', '-w', dir, '--json'], {
      env: { TUFSIGN_NOW: '2026-12-01T00:00:00Z' },
    });
    expect(r.status).toBe(0);
    const roles = r.json().roles;
    expect(roles.map((x: any) => x.role)).toEqual(['targets', 'snapshot', 'timestamp']);
    expect(roles[0]).toMatchObject({ version: v0 + 1, expires: '2026-12-31T00:00:00Z' });
  });

  it('refresh bumps only snapshot and timestamp', () => {
    const before = runCli(['status', dir, '--json']).json();
    const r = runCli(['refresh', '-w', dir, '--json']);
    expect(r.status).toBe(0);
    const after = runCli(['status', dir, '--json']).json();
    const ver = (s: any, role: string): number => s.roles.find((x: any) => x.role === role).version;
    expect(ver(after, 'snapshot')).toBe(ver(before, 'snapshot') + 1);
    expect(ver(after, 'timestamp')).toBe(ver(before, 'timestamp') + 1);
    expect(ver(after, 'targets')).toBe(ver(before, 'targets'));
    expect(ver(after, 'root')).toBe(ver(before, 'root'));
  });

  it('sign root --bump writes N+1.root.json and root.json, verified through the chain', () => {
    const r = runCli(['sign', 'root', '--bump', '-w', dir, '--json']);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'metadata', '2.root.json'), 'utf8')).toBe(
      readFileSync(join(dir, 'metadata', 'root.json'), 'utf8'),
    );
    expect(runCli(['verify', dir, '--json']).json()).toMatchObject({ ok: true, rootVersion: 2 });
  });
});

describe('status, keys, and errors', () => {
  let dir: string;
  beforeAll(() => {
    dir = initRepo('status');
  });

  it('status --json lists every role with days left, threshold and keys', () => {
    const s = runCli(['status', dir, '--json'], {
      env: { TUFSIGN_NOW: new Date(Date.now() + 86400e3 * 10).toISOString() },
    }).json();
    expect(s.roles.map((r: any) => r.role)).toEqual(['root', 'targets', 'snapshot', 'timestamp']);
    const ts = s.roles.find((r: any) => r.role === 'timestamp');
    expect(ts.daysLeft).toBeLessThan(0);
    expect(ts.keys[0]).toMatchObject({ backend: 'file', uri: 'file:keys/timestamp-1.pem', signed: true });
    const human = runCli(['status', dir]);
    expect(human.stdout).toMatch(/ROLE\s+VERSION\s+EXPIRES/);
  });

  it('key list shows roles and where the private part lives; key show/export give the same keyid', () => {
    const keys = runCli(['key', 'list', '-w', dir, '--json']).json().keys;
    expect(keys).toHaveLength(4);
    // an online key (root's is offline by default, under a passphrase of its own: ADR 0011)
    const root = keys.find((k: any) => k.roles.includes('targets'));
    const shown = runCli(['key', 'show', root.uri.replace('file:', `file:${dir}/`), '--json']).json();
    expect(shown.keyid).toBe(root.keyid);
    const out = join(base, 'root.pub.json');
    const exp = runCli([
      'key',
      'export',
      root.uri.replace('file:', `file:${dir}/`),
      '--out',
      out,
      '--owner',
      'ops',
      '--json',
    ]);
    expect(exp.json().keyid).toBe(root.keyid);
    expect(runCli(['key', 'show', out, '--json']).json()).toMatchObject({ keyid: root.keyid, owner: 'ops' });
  });

  it('a group-readable key file is refused (BAD-62)', () => {
    const key = join(dir, 'keys', 'timestamp-1.pem');
    chmodSync(key, 0o640);
    const r = runCli(['refresh', '-w', dir, '--json']);
    chmodSync(key, 0o600);
    expect(r.status).toBe(5);
    expect(r.json().error).toMatchObject({ code: 'KEY_FILE_PERMISSIONS', file: key });
  });

  it('a corrupt metadata file is named with its JSON path and rule', () => {
    const copy = join(base, 'corrupt');
    mkdirSync(copy);
    const r0 = runCli(['init', copy, '--json']);
    expect(r0.status).toBe(0);
    const f = join(copy, 'metadata', '1.targets.json');
    writeFileSync(f, readFileSync(f, 'utf8').replace('"version": 1', '"version": 1, "version": 2'));
    const r = runCli(['refresh', '-w', copy, '--json']);
    expect(r.status).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'JSON_DUPLICATE_KEY', file: f, path: '$.signed.version' });
  });

  it('errors are one line plus a suggestion, with the stack only under --debug', () => {
    const r = runCli(['status', join(base, 'nowhere')]);
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/^error WORKSPACE_NOT_FOUND/);
    const d = runCli(['status', join(base, 'nowhere'), '--debug']);
    expect(d.stderr).toMatch(/\n\s+at /);
  });

  it('unknown flags are usage errors (exit 2)', () => {
    expect(runCli(['status', '--no-such-flag']).status).toBe(2);
  });

  it('data goes to stdout and progress to stderr', () => {
    const r = runCli(['refresh', '-w', dir]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/signing snapshot/);
    expect(r.stdout).not.toMatch(/signing snapshot/);
    const j = runCli(['refresh', '-w', dir, '--json']);
    expect(j.stderr).toBe('');
    expect(j.json().complete).toBe(true);
  });
});
