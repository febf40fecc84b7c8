/**
 * `tufsign add-release` end to end with the built CLI: a three-release history,
 * consumed by the tuf-js client (archive and patch downloaded and checked), the
 * patch applied with Debian's bspatch to the previous tar giving tar_hash,
 * the upload bundle verified, --dry-run writing nothing, offline targets keys
 * producing a signing request, and `release verify` / `release list`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { deterministicTarGz, readTarGz } from '../../src/bundle/tar';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ROOT, runCli, SYSTEM_PYTHON } from '../helpers/cli';
import { fingerprintOf } from './ceremony-helpers';
import { tempDir } from '../helpers/tmp';
import { fetchTarget, newClient, serveDirectory } from '../helpers/tuf-client';
import { requireComponent, hasFile } from '../helpers/requirements';

const base = tempDir();
const ws = join(base, 'repo');
const app = join(base, 'app');
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = sha256(readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** Regular files under the given folders, counted once per inode (hard links share one copy on disk). */
function filesByInode(...dirs: string[]): { names: number; bytes: number; paths: string[] } {
  const inodes = new Map<number, number>();
  const paths: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = statSync(p);
        inodes.set(st.ino, st.size);
        paths.push(p);
      }
    }
  };
  dirs.forEach(walk);
  return { names: paths.length, bytes: [...inodes.values()].reduce((a, b) => a + b, 0), paths };
}

function writeApp(version: string): void {
  mkdirSync(join(app, 'lib'), { recursive: true });
  writeFileSync(join(app, 'main.py'), `print("app ${version}")\n`);
  // a large, mostly stable binary so the patch is small
  const blob = Buffer.alloc(300_000);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) % 251;
  blob.write(version, 1000);
  writeFileSync(join(app, 'lib', 'core.bin'), blob);
}

function addRelease(version: string, extra: string[] = []): any {
  writeApp(version);
  const r = runCli(['add-release', 'myapp', version, app, '-w', ws, '--json', ...extra], { env: EPOCH });
  if (r.status !== 0) throw new Error(`add-release ${version} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.json();
}

beforeAll(() => {
  expect(runCli(['init', ws, '--json']).status).toBe(0);
});

describe('add-release history 1.0 → 1.1 → 2.0rc1', () => {
  let r10: any;
  let r11: any;
  let r20: any;
  beforeAll(() => {
    r10 = addRelease('1.0');
    r11 = addRelease('1.1', ['--meta', '{"notes":"fixes"}']);
    r20 = addRelease('2.0rc1', ['--required']);
  });

  it('registers archives and patches with tufup custom metadata', () => {
    expect(r10.patch).toBeNull();
    expect(r11.patch).toMatchObject({ path: 'myapp-1.1.patch', from: '1.0' });
    expect(r20.patch).toMatchObject({ path: 'myapp-2.0rc1.patch', from: '1.1' });
    const targets = JSON.parse(
      readFileSync(join(ws, 'metadata', `${r20.operation.roles[0].version}.targets.json`), 'utf8'),
    ).signed.targets;
    expect(targets['myapp-1.1.tar.gz'].custom).toEqual({ user: { notes: 'fixes' }, tufup: { required: false } });
    expect(targets['myapp-2.0rc1.tar.gz'].custom).toEqual({ user: null, tufup: { required: true } });
    expect(targets['myapp-1.1.patch'].custom).toEqual({
      user: null,
      tufup: { tar_hash: r11.tar.sha256, tar_hash_algorithm: 'sha256', tar_size: r11.tar.size },
    });
  });

  it('release list shows channels and patch sizes', () => {
    const list = runCli(['release', 'list', 'myapp', '-w', ws, '--json']).json().releases;
    expect(list.map((x: any) => [x.version, x.channel])).toEqual([
      ['1.0', 'final'],
      ['1.1', 'final'],
      ['2.0rc1', 'rc'],
    ]);
    expect(list[1].patch.length).toBeLessThan(list[1].archive.length * 0.8);
  });

  it('the patch, applied by Debian bspatch to the previous tar, gives exactly tar_hash', () => {
    if (!requireComponent('bspatch (Debian bsdiff)', hasFile('/usr/bin/bspatch'))) return;
    const targetsDir = join(ws, 'targets');
    const file = (name: string): string =>
      join(
        targetsDir,
        readdirSync(targetsDir).find((f) => f.endsWith(`.${name}`))!,
      );
    const oldTar = join(base, 'old.tar');
    writeFileSync(oldTar, gunzipSync(readFileSync(file('myapp-1.0.tar.gz'))));
    const out = join(base, 'new.tar');
    execFileSync('bspatch', [oldTar, out, file('myapp-1.1.patch')]);
    expect(sha256(readFileSync(out))).toBe(r11.tar.sha256);
    expect(sha256(gunzipSync(readFileSync(file('myapp-1.1.tar.gz'))))).toBe(r11.tar.sha256);
  });

  it('the tuf-js client downloads the archive and the patch and checks their hashes', async () => {
    const server = await serveDirectory(ws);
    try {
      const client = newClient(server, join(ws, 'metadata', '1.root.json'));
      const archive = await fetchTarget(client, 'myapp-2.0rc1.tar.gz');
      expect(sha256(archive)).toBe(r20.archive.sha256);
      const patch = await fetchTarget(client, 'myapp-2.0rc1.patch');
      expect(sha256(patch)).toBe(r20.patch.sha256);
    } finally {
      await server.close();
    }
  });

  it('writes an upload bundle that verifies against the previous root and lists only new targets', () => {
    expect(
      r20.bundle.files
        .filter((f: any) => f.path.startsWith('targets/'))
        .every((f: any) => f.path.includes('myapp-2.0rc1')),
    ).toBe(true);
    const v = runCli(['verify', r20.bundle.path, '--root', join(ws, 'metadata', '1.root.json'), '--json']);
    expect(v.status).toBe(0);
    // written once: a folder, no tarball beside it (ADR 0017)
    expect(r20.bundle.format).toBe('folder');
    expect(existsSync(`${r20.bundle.path}.tar.gz`)).toBe(false);
  });

  it('stores every release once: one file per target, and bundles/ adds only metadata (ADR 0017)', () => {
    const listed = runCli(['release', 'list', '-w', ws, '--json']).json().releases;
    const targetBytes = listed.reduce((n: number, r: any) => n + (r.archive?.length ?? 0) + (r.patch?.length ?? 0), 0);
    const inTargets = filesByInode(join(ws, 'targets'));
    // one name per target, one inode per name: the bytes in targets/ are exactly the targets' lengths
    expect(inTargets.names).toBe(listed.length + listed.filter((r: any) => r.patch !== null).length);
    expect(inTargets.bytes).toBe(targetBytes);
    // the three bundles link the workspace's target files: together they add only metadata and manifests
    const both = filesByInode(join(ws, 'targets'), join(ws, 'bundles'));
    const bundleTargetNames = filesByInode(join(ws, 'bundles')).paths.filter((p) => p.includes('/targets/'));
    expect(bundleTargetNames.length).toBeGreaterThanOrEqual(5);
    const extra = both.paths
      .filter((p) => p.startsWith(join(ws, 'bundles')) && !p.includes('/targets/'))
      .reduce((n, p) => n + statSync(p).size, 0);
    expect(both.bytes).toBe(targetBytes + extra);
    expect(readdirSync(join(ws, 'bundles')).filter((f) => f.endsWith('.tar.gz'))).toEqual([]);
  });

  it('release verify rebuilds byte-identically from the same folder, and fails for a changed one', () => {
    expect(
      runCli(['release', 'verify', 'myapp', '2.0rc1', app, '-w', ws, '--json'], { env: EPOCH }).json(),
    ).toMatchObject({ identical: true });
    writeFileSync(join(app, 'main.py'), 'changed\n');
    const r = runCli(['release', 'verify', 'myapp', '2.0rc1', app, '-w', ws, '--json'], { env: EPOCH });
    expect(r.status).toBe(1);
    expect(r.json().error.code).toBe('VERIFY_FAILED');
    expect(r.json().error.details.result.differences).toEqual([
      expect.objectContaining({ path: expect.stringContaining('main.py') }),
    ]);
  });

  it('refuses a version that is not newer, and an invalid app name, changing nothing', () => {
    const before = tree(ws);
    const older = runCli(['add-release', 'myapp', '1.5', app, '-w', ws, '--json'], { env: EPOCH });
    expect(older.status).toBe(3);
    expect(older.json().error.code).toBe('RELEASE_NOT_NEWER');
    expect(runCli(['add-release', 'my app', '3.0', app, '-w', ws, '--json']).status).toBe(3);
    expect(tree(ws)).toEqual(before);
  });

  it('refuses --role for a delegated role (tufup clients read only top-level targets), changing nothing', () => {
    const before = tree(ws);
    writeApp('3.0');
    const r = runCli(['add-release', 'myapp', '3.0', app, '-w', ws, '--role', 'releases', '--json'], { env: EPOCH });
    expect(r.status).toBe(3);
    expect(r.json().error.code).toBe('ROLE_INVALID');
    // a hostile reference and a case variant of `targets` (one file on a case-insensitive disk) are refused the same way
    for (const role of ['../targets', 'Targets']) {
      const hostile = runCli(['add-release', 'myapp', '3.0', app, '-w', ws, '--role', role, '--json'], { env: EPOCH });
      expect([role, hostile.status, hostile.json().error.code]).toEqual([role, 3, 'ROLE_INVALID']);
    }
    expect(tree(ws)).toEqual(before);
    // top-level targets, named explicitly, is what add-release always does
    const dry = runCli(['add-release', 'myapp', '3.0', app, '-w', ws, '--role', 'targets', '--dry-run', '--json'], {
      env: EPOCH,
    });
    expect(dry.status).toBe(0);
  });

  it('--dry-run builds and reports but writes nothing', () => {
    const before = tree(ws);
    writeApp('3.0');
    const r = runCli(['add-release', 'myapp', '3.0', app, '-w', ws, '--dry-run', '--json'], { env: EPOCH });
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({
      dryRun: true,
      archive: { path: 'myapp-3.0.tar.gz' },
      patch: { path: 'myapp-3.0.patch' },
    });
    expect(tree(ws)).toEqual(before);
  });
});

describe('a bundle written as one .tar.gz (--bundle-out PATH.tar.gz)', () => {
  let r30: any;
  const tarball = join(base, 'out', 'myapp-3.0.tar.gz');
  const www = join(base, 'www');
  beforeAll(() => {
    // the web root as clients see it before 3.0
    expect(runCli(['publish', '-w', ws, www, '--json']).status).toBe(0);
    r30 = addRelease('3.0', ['--bundle-out', tarball]);
  });

  it('writes only the tarball, no folder', () => {
    expect(r30.bundle).toMatchObject({ format: 'tar.gz', path: tarball });
    expect(readdirSync(join(base, 'out'))).toEqual(['myapp-3.0.tar.gz']);
  });

  it('verify BUNDLE.tar.gz checks it like a folder, and a tampered tarball fails', () => {
    const root = join(ws, 'metadata', '1.root.json');
    const v = runCli(['verify', tarball, '--root', root, '--json']);
    expect(v.status).toBe(0);
    expect(v.json().roles.find((r: any) => r.role === 'bundle').ok).toBe(true);
    // without --root it says which root it needs, by version and sha256 (BUNDLE.json's base_root)
    const rootSha = sha256(readFileSync(root));
    const noRoot = runCli(['verify', tarball, '--json']);
    expect(noRoot.status).toBe(2);
    expect(noRoot.json().error.suggestion).toContain('--root');
    expect(noRoot.json().error.details).toEqual({ trustedRootVersion: 1, trustedRootSha256: rootSha });
    // another root than the one the bundle was made against is named as such, before any client check
    const other = join(base, 'other-1.root.json');
    writeFileSync(other, Buffer.concat([readFileSync(root), Buffer.from('\n')]));
    const wrong = runCli(['verify', tarball, '--root', other, '--json']);
    expect(wrong.status).toBe(2);
    expect(wrong.json().error).toMatchObject({ code: 'USAGE', file: other, details: { trustedRootSha256: rootSha } });
    // a tarball whose archive target differs from the manifest
    const entries = readTarGz(readFileSync(tarball)).map((e) =>
      e.path.endsWith('myapp-3.0.tar.gz') ? { ...e, data: Buffer.concat([e.data, Buffer.from('x')]) } : e,
    );
    const bad = join(base, 'bad-3.0.tar.gz');
    writeFileSync(bad, deterministicTarGz(entries));
    const b = runCli(['verify', bad, '--root', root, '--json']);
    expect(b.status).toBe(1);
    expect(b.json().error.code).toBe('VERIFY_FAILED');
    // nothing is left behind in the temp folder's place
    expect(readdirSync(base).filter((f) => f.startsWith('bad-3.0') && f !== 'bad-3.0.tar.gz')).toEqual([]);
  });

  it('a tarball with a second gzip member after it (BAD-67): verify and publish refuse it, naming the file; DEST untouched', () => {
    // 1,024 zero bytes gzipped by Python: more tar end blocks, which Node's own gunzip would have read as part of it
    const member = execFileSync(SYSTEM_PYTHON, [
      '-c',
      'import gzip,sys; sys.stdout.buffer.write(gzip.compress(bytes(1024), mtime=0))',
    ]);
    const bad = join(base, 'two-members-3.0.tar.gz');
    writeFileSync(bad, Buffer.concat([readFileSync(tarball), member]));
    const v = runCli(['verify', bad, '--root', join(ws, 'metadata', '1.root.json'), '--json']);
    expect(v.status).not.toBe(0);
    const failure = JSON.stringify(v.json());
    expect(failure).toContain('ARCHIVE_INVALID');
    expect(failure).toContain('BAD-67');
    const dest = join(base, 'www-untouched');
    const p = runCli(['publish', bad, dest, '--json']);
    expect(p.status).toBe(3);
    expect(p.json().error).toMatchObject({
      code: 'ARCHIVE_INVALID',
      file: bad,
      rule: expect.stringContaining('BAD-67'),
    });
    expect(existsSync(dest)).toBe(false);
  });

  it('publish BUNDLE.tar.gz DEST writes its files in client order, and tuf-js downloads 3.0 from DEST', async () => {
    const pub = runCli(['publish', tarball, www, '--json']);
    expect(pub.status).toBe(0);
    const order = pub.json().files.map((f: any) => f.path);
    expect(order[order.length - 1]).toBe('metadata/timestamp.json');
    expect(order.filter((p: string) => p.startsWith('targets/'))).toEqual(
      r30.bundle.files.filter((f: any) => f.path.startsWith('targets/')).map((f: any) => f.path),
    );
    const server = await serveDirectory(www);
    try {
      const client = newClient(server, join(ws, 'metadata', '1.root.json'));
      expect(sha256(await fetchTarget(client, 'myapp-3.0.tar.gz'))).toBe(r30.archive.sha256);
      expect(sha256(await fetchTarget(client, 'myapp-3.0.patch'))).toBe(r30.patch.sha256);
    } finally {
      await server.close();
    }
  });
});

describe('add-release with offline targets keys', () => {
  it('writes a signing request instead of signing, and the ceremony finalizes it into a verified repository', () => {
    const offline = join(base, 'offline');
    const holder = join(base, 'holder');
    mkdirSync(holder);
    const g = runCli([
      'key',
      'generate',
      '--out',
      join(holder, 'targets.pem'),
      '--public-out',
      join(holder, 'targets.pub.json'),
      '--owner',
      'release-signer',
      '--json',
    ]);
    expect(g.status).toBe(0);
    // init writes a request for targets v1; sign and finalize it first
    const init = runCli(['init', offline, '--targets-key', join(holder, 'targets.pub.json'), '--json']);
    expect(init.status).toBe(0);
    const req1 = init.json().request.request;
    expect(
      runCli([
        'ceremony',
        'sign',
        req1,
        '--key',
        `file:${join(holder, 'targets.pem')}`,
        '--fingerprint',
        fingerprintOf(req1, ROOT),
        '--yes',
        '--json',
      ]).status,
    ).toBe(0);
    expect(runCli(['ceremony', 'finalize', req1, '-w', offline, '--out', join(base, 'b1'), '--json']).status).toBe(0);

    writeApp('1.0');
    const r = runCli(['add-release', 'myapp', '1.0', app, '-w', offline, '--json'], { env: EPOCH });
    expect(r.status).toBe(0);
    const res = r.json();
    expect(res.request).toBeDefined();
    expect(res.bundle).toBeUndefined();
    const req = res.request.request;
    expect(
      runCli([
        'ceremony',
        'sign',
        req,
        '--key',
        `file:${join(holder, 'targets.pem')}`,
        '--fingerprint',
        fingerprintOf(req, ROOT),
        '--yes',
        '--json',
      ]).status,
    ).toBe(0);
    const fin = runCli(['ceremony', 'finalize', req, '-w', offline, '--out', join(base, 'b2'), '--json']);
    expect(fin.status).toBe(0);
    const v = runCli(['verify', offline, '--json']).json();
    expect(v.ok).toBe(true);
    expect(v.targets.map((t: any) => t.path)).toEqual(['myapp-1.0.tar.gz']);
  });
});
