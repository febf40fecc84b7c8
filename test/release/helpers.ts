import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { isTufsignError, type ErrorCode } from '../../src/errors';
import { setWorkerScript } from '../../src/release/workers';

export function tempDir(prefix = 'tufsign-release-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** A small application bundle with nested folders, an executable, an empty folder and a long name. */
export function makeBundle(root: string, variant: 'v1' | 'v2' | 'v3' = 'v1', mtime = 1_000_000_000): string {
  const files: Record<string, string | Buffer> = {
    'app.py': 'print("hello")\n',
    'README.txt': 'example application\n'.repeat(50),
    'lib/core.py': 'def f(x):\n    return x * 2\n'.repeat(20),
    'lib/data.bin': Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 31 + (i >> 7)) & 0xff)),
    'a.txt': 'a\n',
    'a/b.txt': 'b\n',
    ['deep/er/still/deeper/' + 'x'.repeat(90) + '.txt']: 'long name\n',
    'données/été.txt': 'non-ascii name\n',
  };
  if (variant !== 'v1') {
    files['app.py'] = 'print("hello, world")\n';
    files['lib/new.py'] = 'NEW = True\n';
    delete files['a.txt'];
  }
  if (variant === 'v3') {
    const big = Buffer.from(files['lib/data.bin'] as Buffer);
    big.writeUInt32LE(0xdeadbeef, 5000);
    files['lib/data.bin'] = big;
  }
  for (const [rel, content] of Object.entries(files)) {
    const abs = join(root, rel);
    mkdirSync(join(abs, '..'), { recursive: true });
    writeFileSync(abs, content);
    utimesSync(abs, mtime, mtime);
  }
  mkdirSync(join(root, 'empty'), { recursive: true });
  writeFileSync(join(root, 'run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(join(root, 'run.sh'), 0o755);
  return root;
}

export function sha256sum(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function expectCode(fn: () => unknown, code: ErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  if (!isTufsignError(caught, code))
    throw new Error(
      `expected TufsignError ${code}, got ${String((caught as { code?: string } | undefined)?.code ?? caught)}`,
    );
}

export async function expectCodeAsync(fn: () => Promise<unknown>, code: ErrorCode): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  if (!isTufsignError(caught, code))
    throw new Error(
      `expected TufsignError ${code}, got ${String((caught as { code?: string } | undefined)?.code ?? caught)}`,
    );
}

export function run(cmd: string, args: string[], input?: Uint8Array): Buffer {
  return execFileSync(cmd, args, { input, maxBuffer: 1 << 30 });
}

/** `patch` applied to `old` by Debian bspatch and by the stdlib-only Python bspatch (files in `dir`): both results. */
export function applyBoth(old: Uint8Array, patch: Uint8Array, dir: string): [Buffer, Buffer] {
  writeFileSync(join(dir, 'old'), old);
  writeFileSync(join(dir, 'p'), patch);
  run('bspatch', [join(dir, 'old'), join(dir, 'deb'), join(dir, 'p')]);
  run('python3', ['-c', PY_BSPATCH, join(dir, 'old'), join(dir, 'p'), join(dir, 'py')]);
  return [readFileSync(join(dir, 'deb')), readFileSync(join(dir, 'py'))];
}

/** The size of Debian `bsdiff`'s patch from `old` to `nw` (both written into `dir`): the size reference. */
export function debianBsdiffSize(old: Uint8Array, nw: Uint8Array, dir: string): number {
  writeFileSync(join(dir, 'old'), old);
  writeFileSync(join(dir, 'new'), nw);
  run('bsdiff', [join(dir, 'old'), join(dir, 'new'), join(dir, 'ref')]);
  return statSync(join(dir, 'ref')).size;
}

/** bspatch in Python with only the standard library (bz2), as bsdiff4's format.py reads it. */
export const PY_BSPATCH = `
import bz2, sys
def offt(b):
    y = int.from_bytes(b[:8], 'little') & 0x7fffffffffffffff
    return -y if b[7] & 0x80 else y
old = open(sys.argv[1], 'rb').read(); patch = open(sys.argv[2], 'rb').read()
assert patch[:8] == b'BSDIFF40'
lc, ld, newsize = offt(patch[8:16]), offt(patch[16:24]), offt(patch[24:32])
ctrl = bz2.decompress(patch[32:32+lc]); diff = bz2.decompress(patch[32+lc:32+lc+ld]); extra = bz2.decompress(patch[32+lc+ld:])
new = bytearray(); op = 0; dp = 0; ep = 0
for i in range(0, len(ctrl), 24):
    x, y, z = offt(ctrl[i:i+8]), offt(ctrl[i+8:i+16]), offt(ctrl[i+16:i+24])
    new += bytes((diff[dp + j] + (old[op + j] if 0 <= op + j < len(old) else 0)) & 0xff for j in range(x))
    dp += x; op += x
    new += extra[ep:ep+y]; ep += y; op += z
assert len(new) == newsize, (len(new), newsize)
open(sys.argv[3], 'wb').write(new)
`;

/** A temp-dir factory for one test file: every folder it makes is removed after the file. */
export function scratch(): () => string {
  const dirs: string[] = [];
  afterAll(() => cleanup(...dirs));
  return () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
}

/**
 * The patch workers load a built module (src/release/worker.ts → worker.js).
 * Tests run from .ts sources, so build that module's small import graph into a
 * temp folder once per test file (plain TypeScript → CommonJS, no bundler),
 * and point the pool at it. Returns the entry path.
 */
export function useBuiltWorker(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const dir = tempDir('tufsign-worker-');
  afterAll(() => cleanup(dir));
  const src = join(__dirname, '../../src/release');
  for (const name of ['worker', 'tasks', 'match', 'bzip2', 'sais']) {
    const out = ts.transpileModule(readFileSync(join(src, `${name}.ts`), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    writeFileSync(join(dir, `${name}.js`), out);
  }
  const entry = join(dir, 'worker.js');
  setWorkerScript(entry);
  afterAll(() => setWorkerScript(undefined));
  return entry;
}
