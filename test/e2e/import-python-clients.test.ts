/**
 * The real Python clients follow imported repositories (issue #16), over HTTP on 127.0.0.1, from the pinned
 * sources in test/vendor/python (see its README):
 * - python-tuf's ngclient `Updater` holding root v1 of the python-tuf fixture walks a tufsign-signed root
 *   rotation and downloads a delegated target;
 * - tufup's `Client`, installed with 3.0 from the old tufup repository (trusting its root v1), updates to the
 *   4.0 that tufsign's add-release published, by patch, through tufsign's keyid-migration root v3.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ROOT, runCli, SYSTEM_PYTHON, TEST_PASSPHRASE } from '../helpers/cli';
import { PY_ENV, runPython } from '../helpers/python-clients';
import { requireComponent } from '../helpers/requirements';
import { tempDir } from '../helpers/tmp';
import { serveDirectory } from '../helpers/tuf-client';
import { readSourceKeyFile } from '../../src/import/keyfiles';
import { encryptPrivateKey } from '../../src/keystore/file/pkcs8';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'import');
/** tufup's client installed with CURRENT from the old repository: check for updates, download, patch, install. */
const TUFUP_CLIENT = `
import json, pathlib, shutil, sys
from tufup.client import Client
meta_dir, target_dir, install_dir, url, trusted_root, current_archive, app, current = sys.argv[1:]
meta_dir, target_dir, install_dir = map(pathlib.Path, (meta_dir, target_dir, install_dir))
for d in (meta_dir, target_dir, install_dir):
    d.mkdir(parents=True)
shutil.copyfile(trusted_root, meta_dir / "root.json")
shutil.copy(current_archive, target_dir)
installed = {}
def install(src_dir, dst_dir):
    shutil.copytree(src_dir, dst_dir, dirs_exist_ok=True)
    installed["files"] = sorted(p.name for p in pathlib.Path(dst_dir).iterdir())
c = Client(app_name=app, app_install_dir=install_dir, current_version=current, metadata_dir=meta_dir,
           metadata_base_url=url + "/metadata/", target_dir=target_dir, target_base_url=url + "/targets/",
           extract_dir=pathlib.Path(sys.argv[3]).parent / "extract", refresh_required=True)
new = c.check_for_updates()
c.download_and_apply_update(skip_confirmation=True, install=install)
print(json.dumps({
    "new": None if new is None else str(new.version),
    "downloaded": sorted(t.filename for t in c.downloaded_target_files),
    "installed": installed.get("files"),
    "root": json.loads((meta_dir / "root.json").read_text())["signed"]["version"],
}))
`;

const probe = spawnSync(
  SYSTEM_PYTHON,
  ['-c', 'import tuf.ngclient, tufup.client, securesystemslib, requests, urllib3'],
  {
    env: PY_ENV,
    encoding: 'utf8',
  },
);
const present = requireComponent(
  'python-tuf and tufup clients (test/vendor/python + python3-securesystemslib, python3-requests, bsdiff)',
  probe.status === 0,
);
const describePython = present ? describe : describe.skip;

describePython('python-tuf ngclient follows an imported python-tuf repository', () => {
  const base = tempDir('tufsign-import-pyclients-');
  const src = join(base, 'python-tuf-src');
  const ws = join(base, 'python-tuf-ws');

  beforeAll(async () => {
    cpSync(join(FIXTURES, 'python-tuf'), src, { recursive: true });
    const imp = runCli(['init', ws, '--import', src, '--format', 'python-tuf', '--json']);
    if (imp.status !== 0) throw new Error(`import failed (${imp.status}): ${imp.stdout}${imp.stderr}`);
    // attach the keyholders' test keys, as an operator does for keys imported public-only
    mkdirSync(join(ws, 'keys'), { recursive: true });
    for (const name of ['root', 'root2', 'snapshot', 'timestamp']) {
      const file = join(FIXTURES, 'python-tuf-keyholders', name);
      const [k] = await readSourceKeyFile({ name, file, kind: 'securesystemslib' }, () =>
        Promise.reject(new Error('not encrypted')),
      );
      if (k === undefined) throw new Error(`no key in ${name}`);
      const rel = `keys/${name}.pem`;
      writeFileSync(join(ws, rel), encryptPrivateKey(k.privateKey, Buffer.from(TEST_PASSPHRASE)), { mode: 0o600 });
      const r = runCli(['key', 'attach', `file:${rel}`, '-w', ws, '--json']);
      if (r.status !== 0) throw new Error(`key attach ${rel} failed (${r.status}): ${r.stdout}${r.stderr}`);
    }
  });

  it('a client holding the source root v1 walks a tufsign-signed root v3 and downloads a delegated target', async () => {
    const root2 = JSON.parse(readFileSync(join(ws, 'metadata', '2.root.json'), 'utf8'));
    const removed = root2.signed.roles.root.keyids[1] as string;
    const rot = runCli(['root', 'rotate', '--remove-key', removed, '--threshold', '1', '-w', ws, '--json']);
    expect(rot.status).toBe(0);
    const root3 = JSON.parse(readFileSync(join(ws, 'metadata', '3.root.json'), 'utf8'));
    expect(root3.signed.roles.root.keyids).not.toContain(removed);

    const server = await serveDirectory(ws);
    try {
      const run = await runPython([
        join(base, 'client-meta'),
        join(base, 'client-targets'),
        server.url,
        join(src, 'metadata', '1.root.json'),
        'releases/notes-1.0.txt',
      ]);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      const out = JSON.parse(run.stdout);
      expect(out.tuf).toBe('3.1.1');
      expect(out.root).toBe(3);
      // the bytes the client verified against the delegated role are the imported target's bytes
      expect(readFileSync(out.path)).toEqual(readFileSync(join(src, 'targets', 'releases', findTarget(src))));
    } finally {
      await server.close();
    }
  });

  it('the same client refuses a root v3 whose signature was tampered with', async () => {
    const served = join(base, 'tampered');
    cpSync(ws, served, { recursive: true });
    const file = join(served, 'metadata', '3.root.json');
    const root3 = JSON.parse(readFileSync(file, 'utf8'));
    const sig = root3.signatures[0].sig as string;
    root3.signatures[0].sig = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
    writeFileSync(file, JSON.stringify(root3));
    const server = await serveDirectory(served);
    try {
      const run = await runPython([
        join(base, 'tampered-meta'),
        join(base, 'tampered-targets'),
        server.url,
        join(src, 'metadata', '1.root.json'),
        'releases/notes-1.0.txt',
      ]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/UnsignedMetadataError/);
    } finally {
      await server.close();
    }
  });
});

describePython('tufup client follows an imported tufup repository to the next tufsign release', () => {
  const base = tempDir('tufsign-import-tufupclient-');
  const src = join(base, 'tufup-src');
  const ws = join(base, 'tufup-ws');

  beforeAll(() => {
    cpSync(join(FIXTURES, 'tufup'), src, { recursive: true });
    const imp = runCli(['init', ws, '--import', src, '--json'], {
      env: { TUFSIGN_SOURCE_PASSPHRASE: 'tufup-fixture' },
    });
    if (imp.status !== 0) throw new Error(`import failed (${imp.status}): ${imp.stdout}${imp.stderr}`);
    const app = join(base, 'app');
    mkdirSync(app);
    execFileSync('tar', ['xzf', join(ws, 'targets', 'example_app-3.0.tar.gz'), '-C', app]);
    writeFileSync(join(app, 'README.txt'), 'example app 4.0\n');
    const rel = runCli(['add-release', 'example_app', '4.0', app, '-w', ws, '--json']);
    if (rel.status !== 0) throw new Error(`add-release failed (${rel.status}): ${rel.stdout}${rel.stderr}`);
    // and the keyid-migration root v3 (tufup-era keyids → spec keyids), signed by tufsign
    const rot = runCli(['root', 'rotate', '--fix-keyids', '-w', ws, '--json']);
    if (rot.status !== 0) throw new Error(`root rotate failed (${rot.status}): ${rot.stdout}${rot.stderr}`);
  });

  it('a tufup 0.7.1 client installed with 3.0 (old root v1) walks to root v3, downloads only the 4.0 patch and installs 4.0', async () => {
    const server = await serveDirectory(ws);
    try {
      const run = await runPython(
        [
          join(base, 'client', 'meta'),
          join(base, 'client', 'targets'),
          join(base, 'client', 'app'),
          server.url,
          join(src, 'repository', 'metadata', '1.root.json'),
          join(src, 'repository', 'targets', 'example_app-3.0.tar.gz'),
          'example_app',
          '3.0',
        ],
        TUFUP_CLIENT,
      );
      expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
      const out = JSON.parse(run.stdout);
      expect(out).toMatchObject({ new: '4.0', downloaded: ['example_app-4.0.patch'], root: 3 });
      expect(out.installed).toContain('README.txt');
      expect(readFileSync(join(base, 'client', 'app', 'README.txt'), 'utf8')).toBe('example app 4.0\n');
      // tufup verified the patched tar against the tar_hash tufsign published and re-gzipped it itself
      const tar = (f: string): string =>
        createHash('sha256')
          .update(gunzipSync(readFileSync(f)))
          .digest('hex');
      expect(tar(join(base, 'client', 'targets', 'example_app-4.0.tar.gz'))).toBe(
        tar(join(ws, 'targets', 'example_app-4.0.tar.gz')),
      );
    } finally {
      await server.close();
    }
  });
});

/** the hash-prefixed file name of notes-1.0.txt in the source (consistent snapshots) */
function findTarget(src: string): string {
  const meta = JSON.parse(readFileSync(join(src, 'metadata', '1.releases.json'), 'utf8'));
  const info = meta.signed.targets['releases/notes-1.0.txt'];
  return `${info.hashes.sha256 as string}.notes-1.0.txt`;
}
