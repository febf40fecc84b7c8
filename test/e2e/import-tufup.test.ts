/**
 * `init --import` of a real tufup repository (test/fixtures/import/tufup, made
 * with tufup 0.9.0's own repository API; see the README there), end to end with
 * the built CLI: import with history and keystore, the next release by
 * add-release (tufup-era keyids still work), the keyid gate refusing a new
 * root with those keyids, the keyid-migration root, and clients holding the
 * OLD root following: tuf-js over HTTP, and a tufup-like client updating by
 * patch (Debian bspatch on the previous tar gives tar_hash). Bad sources:
 * test/unit/import/refusals.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ROOT, runCli } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';
import { fetchTarget, newClient, serveDirectory } from '../helpers/tuf-client';
import { hasFile, requireComponent } from '../helpers/requirements';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'import', 'tufup');
const base = tempDir('tufsign-import-tufup-');
const SOURCE_ENV = { TUFSIGN_SOURCE_PASSPHRASE: 'tufup-fixture' };
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A private copy of the fixture (tests may damage it). */
function source(name: string): string {
  const dir = join(base, name);
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p.slice(dir.length + 1)] = sha256(readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe('import a tufup repository, release, migrate keyids, clients follow', () => {
  const src = source('src');
  const ws = join(base, 'ws');
  const before = snapshotTree(src);
  let report: any;

  beforeAll(() => {
    const r = runCli(['init', ws, '--import', src, '--json'], { env: SOURCE_ENV });
    if (r.status !== 0) throw new Error(`import failed (${r.status}): ${r.stdout}${r.stderr}`);
    report = r.json();
  });

  it('finds the format, the whole root history, the roles, the targets and the app', () => {
    expect(report.format).toBe('tufup');
    expect(report.rootVersions).toEqual([1, 2]);
    expect(report.roles.map((x: any) => x.role)).toEqual(['root', 'timestamp', 'snapshot', 'targets']);
    expect(report.targets).toEqual({ count: 5, copied: 5, missing: [] });
    expect(report.release).toMatchObject({ app: 'example_app', latest: '3.0' });
    expect(report.verify.ok).toBe(true);
  });

  it('keeps every published file byte for byte and leaves the source untouched', () => {
    for (const f of ['1.root.json', '2.root.json', 'root.json', 'targets.json', 'snapshot.json', 'timestamp.json']) {
      expect(readFileSync(join(ws, 'metadata', f))).toEqual(readFileSync(join(src, 'repository', 'metadata', f)));
    }
    expect(readFileSync(join(ws, 'targets', 'example_app-3.0.tar.gz'))).toEqual(
      readFileSync(join(src, 'repository', 'targets', 'example_app-3.0.tar.gz')),
    );
    expect(snapshotTree(src)).toEqual(before);
  });

  it('converts the keystore (encrypted and not) to encrypted PKCS#8 files, 0600, and skips the revoked root key', () => {
    const uris = report.keys.map((k: any) => k.uri).sort();
    expect(uris).toEqual([
      'file:keys/root_two.pem',
      'file:keys/snapshot.pem',
      'file:keys/targets.pem',
      'file:keys/timestamp.pem',
    ]);
    for (const name of ['root_two', 'snapshot', 'targets', 'timestamp']) {
      const file = join(ws, 'keys', `${name}.pem`);
      expect(readFileSync(file, 'utf8')).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(report.notes.join('\n')).toMatch(/keystore\/root: a key of root v1 .*revoked/);
  });

  it('reports the tufup-era keyids and records them so the workspace reads them', () => {
    expect(report.legacyKeyids.length).toBe(8);
    expect(report.legacyKeyids.every((p: any) => p.derivation === 'securesystemslib-legacy')).toBe(true);
    const config = JSON.parse(readFileSync(join(ws, 'tufsign.json'), 'utf8'));
    expect(config.legacy_keyids.length).toBe(5);
    expect(report.next.join('\n')).toContain('root rotate --fix-keyids');
  });

  it('verify: legacy keyids fail by default in the newest root, pass with --allow-legacy-keyids, fail with --strict-keyids', () => {
    const plain = runCli(['verify', ws, '--json']);
    expect(plain.status).toBe(1);
    expect(JSON.stringify(plain.json())).toContain('KEYID_MISMATCH');
    expect(runCli(['verify', ws, '--allow-legacy-keyids']).status).toBe(0);
    expect(runCli(['verify', ws, '--strict-keyids']).status).toBe(1);
  });

  const bundle = join(base, 'bundle-4.0');
  it('add-release continues the series: 4.0 with a patch from 3.0, signed with the converted keys', () => {
    const app = join(base, 'app');
    mkdirSync(app);
    execFileSync('tar', ['xzf', join(ws, 'targets', 'example_app-3.0.tar.gz'), '-C', app]);
    writeFileSync(join(app, 'README.txt'), 'example app 4.0\n');
    const r = runCli(['add-release', 'example_app', '4.0', app, '-w', ws, '--bundle-out', bundle, '--json']);
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({ version: '4.0', patch: { path: 'example_app-4.0.patch', from: '3.0' } });
  });

  it('the keyid gate refuses a new root that keeps the legacy keyids, before signing, naming both keyids and the fix', () => {
    const r = runCli(['sign', 'root', '--bump', '-w', ws, '--json']);
    expect(r.status).toBe(3);
    const err = JSON.parse(r.stdout || r.stderr).error ?? JSON.parse(r.stdout || r.stderr);
    expect(JSON.stringify(err)).toContain('KEYID_MISMATCH');
    expect(JSON.stringify(err)).toContain('root rotate --fix-keyids');
    expect(existsSync(join(ws, 'metadata', '3.root.json'))).toBe(false);
  });

  it('root rotate --fix-keyids publishes root v3 under correct keyids, signed under the old and new ones', () => {
    const r = runCli(['root', 'rotate', '--fix-keyids', '-w', ws, '--json']);
    expect(r.status).toBe(0);
    const root3 = JSON.parse(readFileSync(join(ws, 'metadata', '3.root.json'), 'utf8'));
    const root2 = JSON.parse(readFileSync(join(ws, 'metadata', '2.root.json'), 'utf8'));
    const sigKeyids = root3.signatures.map((s: any) => s.keyid);
    expect(sigKeyids).toEqual(
      expect.arrayContaining([root2.signed.roles.root.keyids[0], root3.signed.roles.root.keyids[0]]),
    );
    // strict clients that start from root v3 accept everything now
    expect(runCli(['verify', ws, '--strict-keyids', '--root', join(ws, 'metadata', '3.root.json')]).status).toBe(0);
    // and the default verify (history may be legacy, the newest root may not) passes from root v1
    expect(runCli(['verify', ws]).status).toBe(0);
  });

  it('a tuf-js client holding the OLD root v1 follows the tufsign-signed rotation and fetches 4.0', async () => {
    const server = await serveDirectory(ws);
    try {
      const client = newClient(server, join(src, 'repository', 'metadata', '1.root.json'));
      const archive = await fetchTarget(client, 'example_app-4.0.tar.gz');
      expect(sha256(archive)).toBe(sha256(readFileSync(join(ws, 'targets', 'example_app-4.0.tar.gz'))));
      const trusted = JSON.parse(readFileSync(join(client.metadataDir, 'root.json'), 'utf8'));
      expect(trusted.signed.version).toBe(3);
    } finally {
      await server.close();
    }
  });

  it('a tufup-like client installed with 3.0 from the old repository updates to 4.0 by patch', async () => {
    if (!requireComponent('bspatch (Debian bsdiff)', hasFile('/usr/bin/bspatch'))) return;
    const server = await serveDirectory(ws);
    try {
      const client = newClient(server, join(src, 'repository', 'metadata', '1.root.json'));
      const patch = await fetchTarget(client, 'example_app-4.0.patch');
      const info = await client.updater.getTargetInfo('example_app-4.0.patch');
      const archiveInfo = await client.updater.getTargetInfo('example_app-4.0.tar.gz');
      const custom = (info?.custom as any).tufup;
      // tufup patches when the patches are at most 0.8 of the full archive
      expect(patch.length / (archiveInfo?.length ?? 1)).toBeLessThan(0.8);
      const installed = join(base, 'client-3.0.tar');
      writeFileSync(installed, gunzipSync(readFileSync(join(src, 'repository', 'targets', 'example_app-3.0.tar.gz'))));
      const patchFile = join(base, 'client.patch');
      writeFileSync(patchFile, patch);
      const out = join(base, 'client-4.0.tar');
      execFileSync('bspatch', [installed, out, patchFile]);
      const tar = readFileSync(out);
      expect(tar.length).toBe(custom.tar_size);
      expect(sha256(tar)).toBe(custom.tar_hash);
    } finally {
      await server.close();
    }
  });
});
