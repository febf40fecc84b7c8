/**
 * The real python-tuf client follows an imported repository (issue #16): python-tuf's ngclient `Updater`
 * (test/vendor/python, pinned source, see its README) holding root v1 of the python-tuf fixture walks a
 * tufsign-signed root rotation and downloads a delegated target over HTTP on 127.0.0.1.
 */
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, SYSTEM_PYTHON, TEST_PASSPHRASE } from '../helpers/cli';
import { requireComponent } from '../helpers/requirements';
import { tempDir } from '../helpers/tmp';
import { serveDirectory } from '../helpers/tuf-client';
import { readSourceKeyFile } from '../../src/import/keyfiles';
import { encryptPrivateKey } from '../../src/keystore/file/pkcs8';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'import');
const VENDOR = join(ROOT, 'test', 'vendor', 'python');
const PY_ENV = { ...process.env, PYTHONPATH: VENDOR, PYTHONDONTWRITEBYTECODE: '1' };

/** ngclient with a trusted root v1 in an empty metadata dir: refresh, then fetch one target. */
const CLIENT = `
import json, os, shutil, sys
import tuf
from tuf.ngclient import Updater
meta_dir, target_dir, url, trusted_root, target = sys.argv[1:]
os.makedirs(meta_dir); os.makedirs(target_dir)
shutil.copyfile(trusted_root, os.path.join(meta_dir, "root.json"))
u = Updater(metadata_dir=meta_dir, metadata_base_url=url + "/metadata/",
            target_dir=target_dir, target_base_url=url + "/targets/")
u.refresh()
info = u.get_targetinfo(target)
if info is None:
    sys.exit(3)
path = u.download_target(info)
with open(os.path.join(meta_dir, "root.json")) as f:
    root_version = json.load(f)["signed"]["version"]
print(json.dumps({"tuf": tuf.__version__, "root": root_version, "path": path}))
`;

const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import tuf.ngclient, securesystemslib, requests, urllib3'], {
  env: PY_ENV,
  encoding: 'utf8',
});
const present = requireComponent(
  'python-tuf ngclient (test/vendor/python + python3-securesystemslib, python3-requests)',
  probe.status === 0,
);
const describePython = present ? describe : describe.skip;

function runPython(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(SYSTEM_PYTHON, ['-c', CLIENT, ...args], { env: PY_ENV, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    );
  });
}

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

/** the hash-prefixed file name of notes-1.0.txt in the source (consistent snapshots) */
function findTarget(src: string): string {
  const meta = JSON.parse(readFileSync(join(src, 'metadata', '1.releases.json'), 'utf8'));
  const info = meta.signed.targets['releases/notes-1.0.txt'];
  return `${info.hashes.sha256 as string}.notes-1.0.txt`;
}
