/**
 * The real Python clients, from the pinned sources in test/vendor/python (see its README), on Debian's
 * securesystemslib and requests: python-tuf's ngclient as a client would run it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, SYSTEM_PYTHON } from './cli';

export const VENDOR = join(ROOT, 'test', 'vendor', 'python');
// test/helpers/python holds a bsdiff4 stand-in over Debian's bsdiff/bspatch (python3-bsdiff4 is not in Debian)
export const PY_ENV = {
  ...process.env,
  PYTHONPATH: `${VENDOR}:${join(ROOT, 'test', 'helpers', 'python')}`,
  PYTHONDONTWRITEBYTECODE: '1',
};

/** ngclient with a trusted root v1 in an empty metadata dir: refresh, then fetch one target. */
export const CLIENT = `
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

/** Run a Python script (default: the ngclient CLIENT) with the vendored packages on the path. */
export function runPython(args: string[], script = CLIENT): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(SYSTEM_PYTHON, ['-c', script, ...args], { env: PY_ENV, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    );
  });
}
