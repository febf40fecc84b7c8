/**
 * The air-gap artifact as a keyholder gets it (issue 13, ADR 0012): `scripts/package.js` builds it twice
 * (byte-identical), then it is checked against SHA256SUMS, unpacked into an empty folder and run inside a
 * network namespace without network (`unshare -n`), with a cleared environment (no Node on PATH, a fresh
 * HOME, nothing but the variables named here): key files, a SoftHSM2 token through the bundled PKCS#11
 * module, a 2-of-2 ceremony passed between folders, and a virtual YubiKey through the bundled PC/SC module.
 * Both builds run without network too (`unshare -n`), proving the build is offline.
 * Uses the virtual-card tier: run with `flock /tmp/tufsign-vcard.lock npx jest test/e2e/standalone-airgap.test.ts`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ROOT, runCli, TEST_OFFLINE_PASSPHRASE, TEST_PASSPHRASE } from '../helpers/cli';
import { fencedBlocks } from '../helpers/doc-examples';
import { keyholderGenerateArgs } from '../helpers/ceremony';
import { pkcs11GenerateArgs, SoftHsmLab, SOFTHSM_MODULE, USER_PIN } from '../helpers/softhsm';
import { describeWithVirtualCards, VirtualYubiKeyLab, yubikeyGenerateArgs } from '../helpers/virtual-yubikey';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const pin = JSON.parse(readFileSync(join(ROOT, 'packaging', 'node-runtime.json'), 'utf8')) as {
  sha256: string;
  node_version: string;
  source: { package: string; version: string };
};
const TOP = `tufsign-${pkg.version}-linux-x64`;
const TARBALL = `${TOP}.tar.gz`;
const SDE = 1_790_000_000;
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

const base = mkdtempSync(join(tmpdir(), 'tufsign-airgap-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Why this machine cannot run the artifact in a network namespace, or undefined. */
function namespaceProblem(): string | undefined {
  const r = spawnSync('/usr/bin/unshare', ['-n', '/bin/true'], { encoding: 'utf8' });
  return r.status === 0
    ? undefined
    : `unshare -n does not work here (${r.stderr.trim() || r.error?.message}): it needs root or user namespaces`;
}

/** `npm run package` without network: the build must need nothing beyond node_modules and Debian packages. */
function packageInto(out: string): void {
  execFileSync('/usr/bin/unshare', ['-n', process.execPath, join(ROOT, 'scripts', 'package.js'), '--out', out], {
    cwd: ROOT,
    env: { ...process.env, SOURCE_DATE_EPOCH: String(SDE) },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
}

/** The keyholder's laptop: an empty folder with the artifact unpacked, a fresh HOME, a PATH with no Node. */
const laptop = {
  dir: join(base, 'laptop'),
  home: join(base, 'laptop', 'home'),
  path: join(base, 'laptop', 'bin'),
  exe: join(base, 'laptop', TOP, 'tufsign'),
};

interface Run {
  status: number;
  stdout: string;
  stderr: string;
  json: () => any;
}

/** Run a program on the laptop: new network namespace, an environment of exactly HOME, PATH and `env`. */
function onLaptop(program: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const r = spawnSync('/usr/bin/unshare', ['-n', program, ...args], {
    cwd: options.cwd ?? laptop.dir,
    env: { HOME: laptop.home, PATH: laptop.path, NO_COLOR: '1', ...options.env },
    input: '',
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

function tufsign(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const r = onLaptop(laptop.exe, args, options);
  if (r.status !== 0) throw new Error(`tufsign ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}

const readJson = (file: string): any => JSON.parse(readFileSync(file, 'utf8'));

/** The newest targets metadata of a workspace. */
function latestTargets(ws: string): { signatures: { keyid: string }[] } {
  const versions = readdirSync(join(ws, 'metadata'))
    .map((f) => /^(\d+)\.targets\.json$/.exec(f)?.[1])
    .filter((v) => v !== undefined)
    .map(Number);
  return readJson(join(ws, 'metadata', `${Math.max(...versions)}.targets.json`));
}

/** ustar members of a tar: name, mode, uid, gid, mtime, owner names. */
function tarMembers(
  tar: Buffer,
): { name: string; mode: number; uid: number; gid: number; mtime: number; uname: string }[] {
  const out = [];
  const str = (o: number, n: number): string =>
    tar
      .subarray(o, o + n)
      .toString('utf8')
      .replace(/\0.*$/s, '');
  const num = (o: number, n: number): number => parseInt(str(o, n).trim(), 8);
  for (let off = 0; off + 512 <= tar.length && tar[off] !== 0;) {
    const prefix = str(off + 345, 155);
    const name = (prefix === '' ? '' : `${prefix}/`) + str(off, 100);
    const size = num(off + 124, 12);
    out.push({
      name,
      mode: num(off + 100, 8),
      uid: num(off + 108, 8),
      gid: num(off + 116, 8),
      mtime: num(off + 136, 12),
      uname: str(off + 265, 32),
    });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** docs/airgap-install.md's `sh airgap` blocks: step 4 (verify, unpack, run) and the auditor's check of step 5. */
const airgapDoc = fencedBlocks(
  'docs/airgap-install.md',
  readFileSync(join(ROOT, 'docs', 'airgap-install.md'), 'utf8'),
).filter((b) => b.info === 'sh airgap');

/**
 * The live system's own tools, which the doc's lines use (a PATH with them and still no Node); the doc's blocks
 * run under `bash -eu` on the laptop with this PATH.
 */
function liveSystemPath(): string {
  const dir = join(base, 'live-system-bin');
  mkdirSync(dir, { recursive: true });
  for (const tool of ['sha256sum', 'mkdir', 'tar', 'gzip', 'grep', 'sort', 'uniq']) {
    const at = ['/usr/bin', '/bin'].map((d) => join(d, tool)).find((p) => existsSync(p));
    if (at === undefined) throw new Error(`${tool} not found`);
    if (!existsSync(join(dir, tool))) symlinkSync(at, join(dir, tool));
  }
  return dir;
}

const problem = namespaceProblem();
const describeLaptop = problem === undefined || process.env['CI'] === 'true' ? describe : describe.skip;

describeLaptop('the standalone artifact on an air-gapped laptop', () => {
  let exeSha = '';

  beforeAll(() => {
    if (problem !== undefined) throw new Error(problem);
    packageInto(join(base, 'build-a'));
    packageInto(join(base, 'build-b'));
    // The USB stick: the tarball and its sums, nothing else. The laptop: an empty folder.
    mkdirSync(laptop.home, { recursive: true });
    mkdirSync(laptop.path, { recursive: true });
    for (const f of [TARBALL, 'SHA256SUMS']) copyFileSync(join(base, 'build-a', f), join(laptop.dir, f));
    execFileSync('sha256sum', ['--check', '--ignore-missing', '--quiet', 'SHA256SUMS'], { cwd: laptop.dir });
    execFileSync('tar', ['-xzf', TARBALL], { cwd: laptop.dir });
    execFileSync('sha256sum', ['--check', '--quiet', 'SHA256SUMS'], { cwd: laptop.dir });
    exeSha = sha256(readFileSync(laptop.exe));
  }, 900_000);

  it('two builds of the same commit are byte-identical, with every timestamp from SOURCE_DATE_EPOCH', () => {
    for (const f of [TARBALL, 'SHA256SUMS', `${TOP}.manifest.json`]) {
      expect(readFileSync(join(base, 'build-b', f)).equals(readFileSync(join(base, 'build-a', f)))).toBe(true);
    }
    const gz = readFileSync(join(base, 'build-a', TARBALL));
    expect(gz.readUInt32LE(4)).toBe(0); // gzip MTIME
    expect(gz[3]! & 0x08).toBe(0); // no FNAME
    const members = tarMembers(gunzipSync(gz));
    expect(members.map((m) => m.name)).toEqual([...members.map((m) => m.name)].sort());
    expect(members.every((m) => m.name.startsWith(`${TOP}/`))).toBe(true);
    expect(new Set(members.map((m) => m.mtime))).toEqual(new Set([SDE]));
    expect(members.every((m) => m.uid === 0 && m.gid === 0 && (m.mode === 0o755 || m.mode === 0o644))).toBe(true);
    expect(members.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        `${TOP}/tufsign`,
        `${TOP}/lib/pkcs11.node`,
        `${TOP}/lib/pcsclite.node`,
        `${TOP}/licenses/README.txt`,
        `${TOP}/licenses/node/LICENSE`,
      ]),
    );
  });

  it('SHA256SUMS covers the tarball and every file in it; the manifest names the commit, the pinned runtime and every bundled package', () => {
    const sums = readFileSync(join(laptop.dir, 'SHA256SUMS'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('  ')[1]);
    const files = readdirSync(join(laptop.dir, TOP), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(laptop.dir.length + 1));
    expect(sums.sort()).toEqual([TARBALL, ...files].sort());

    const m = readJson(join(base, 'build-a', `${TOP}.manifest.json`));
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    expect(m.tufsign).toMatchObject({ version: pkg.version, commit: head, source_date_epoch: SDE });
    expect(m.artifact).toMatchObject({
      file: TARBALL,
      sha256: sha256(readFileSync(join(laptop.dir, TARBALL))),
      executable_sha256: exeSha,
    });
    expect(m.runtime).toMatchObject({
      name: 'node',
      version: pin.node_version,
      sha256: pin.sha256,
      source: { package: pin.source.package, version: pin.source.version },
    });
    const lock = readJson(join(ROOT, 'package-lock.json'));
    const names = (m.bundled_packages as { name: string; version: string; integrity: string }[]).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['@oclif/core', '@inquirer/prompts', 'pkcs11js', 'pcsclite']));
    expect(names).not.toContain('typescript');
    for (const p of m.bundled_packages as { name: string; version: string; integrity: string }[]) {
      expect(p.integrity).toMatch(/^sha(512|1)-/);
      const locked = Object.entries(lock.packages as Record<string, { version: string; integrity: string }>).filter(
        ([k]) => k.endsWith(`node_modules/${p.name}`),
      );
      expect(locked.some(([, v]) => v.version === p.version && v.integrity === p.integrity)).toBe(true);
      expect(existsSync(join(laptop.dir, TOP, 'licenses', p.name))).toBe(true);
    }
  });

  it('docs/airgap-install.md step 4 runs as written on the laptop: both checks OK, the unpacked tufsign runs', () => {
    expect(airgapDoc).toHaveLength(2);
    // the USB stick: the tarball and its sums; a fresh home for `~/tufsign`
    const stick = join(base, 'stick');
    const home = join(base, 'doc-home');
    mkdirSync(stick);
    mkdirSync(home);
    for (const f of [TARBALL, 'SHA256SUMS']) copyFileSync(join(base, 'build-a', f), join(stick, f));
    const script = airgapDoc[0]!.body.replaceAll('/media/stick', stick).replaceAll('VERSION', pkg.version);
    const r = onLaptop('/bin/bash', ['-euc', script], { env: { HOME: home, PATH: liveSystemPath() } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    const lines = r.stdout.split('\n');
    expect(lines).toContain(`${TARBALL}: OK`);
    expect(lines).toContain(`${sha256(readFileSync(join(stick, TARBALL)))}  ${TARBALL}`);
    expect(lines).toContain(`${TOP}/tufsign: OK`);
    expect(lines).toContain(`${TOP}/lib/pkcs11.node: OK`);
    expect(r.stdout).toMatch(
      new RegExp(`^tufsign/${pkg.version.replace(/\./g, '\\.')} linux-x64 .* standalone commit`, 'm'),
    );
    expect(r.stdout).toContain('PKCS#11 modules');
    expect(sha256(readFileSync(join(home, 'tufsign', TOP, 'tufsign')))).toBe(exeSha);
  });

  it('the laptop has no network, no Node and nothing but the variables given', () => {
    const env = onLaptop('/usr/bin/env', []);
    expect(env.stdout.trim().split('\n').sort()).toEqual([`HOME=${laptop.home}`, 'NO_COLOR=1', `PATH=${laptop.path}`]);
    expect(onLaptop('/bin/sh', ['-c', 'command -v node']).status).not.toBe(0);
    const interfaces = onLaptop('/bin/cat', ['/proc/net/dev'])
      .stdout.split('\n')
      .slice(2)
      .filter((l) => l.trim() !== '')
      .map((l) => l.split(':')[0]!.trim());
    expect(interfaces).toEqual(['lo']);
  });

  it('--version names the version, the commit and "standalone"; --help lists the same commands as node bin/run.js', () => {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim().slice(0, 12);
    expect(tufsign(['--version']).stdout).toMatch(
      new RegExp(
        `^tufsign/${pkg.version.replace(/\./g, '\\.')} linux-x64 node-${pin.node_version} standalone commit ${commit}(-dirty)?\\n$`,
      ),
    );
    const withoutVersion = (s: string): string => s.replace(/^VERSION\n.*\n/m, '');
    // Completion scripts are deliberately left out of the artifact (ADR 0012); every other command is listed.
    const leftOut = ['autocomplete'];
    const listed = (s: string): string[] => [...s.matchAll(/^ {2}(\S+) {2}/gm)].map((m) => m[1]!);
    const top = tufsign(['--help']).stdout;
    expect(listed(top)).toEqual(listed(runCli(['--help']).stdout).filter((n) => !leftOut.includes(n)));
    expect(listed(top)).toEqual(expect.arrayContaining(['help', 'ceremony', 'add-release', 'verify']));
    for (const args of [
      ['key', '--help'],
      ['ceremony', 'sign', '--help'],
    ]) {
      expect(withoutVersion(tufsign(args).stdout)).toBe(withoutVersion(runCli(args).stdout));
    }
  });

  it('key files: init, targets add, add-release (patch on the worker thread), verify', () => {
    const env = { TUFSIGN_PASSPHRASE: TEST_PASSPHRASE, TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE };
    const work = join(laptop.dir, 'files');
    mkdirSync(join(work, 'app1'), { recursive: true });
    tufsign(['init', 'repo', '--json'], { cwd: work, env });
    writeFileSync(join(work, 'hello.txt'), 'from the air-gapped laptop\n');
    tufsign(['targets', 'add', 'hello.txt', '-w', 'repo', '--json'], { cwd: work, env });
    // Large enough for worker threads (above 1 MiB), so the patch jobs run in workers from the embedded source.
    const v1 = Buffer.alloc(9 << 20);
    for (let i = 0; i < v1.length; i += 4) v1.writeUInt32LE((Math.imul(i, 2654435761) ^ (i >>> 7)) >>> 0, i);
    writeFileSync(join(work, 'app1', 'app.bin'), v1);
    tufsign(['add-release', 'app', '1.0.0', 'app1', '-w', 'repo', '--json'], { cwd: work, env });
    cpSync(join(work, 'app1'), join(work, 'app2'), { recursive: true });
    v1.write('patched', 4_000_000);
    writeFileSync(join(work, 'app2', 'app.bin'), v1);
    // A preload (the test's only use of NODE_OPTIONS) reports what the patch's worker threads did.
    const hook = join(base, 'worker-hook.js');
    writeFileSync(
      hook,
      "const wt = require('node:worker_threads'); const W = wt.Worker; wt.Worker = class extends W { constructor(...a) { super(...a); this.on('message', () => process.stderr.write('worker: result\\n')); this.on('error', (e) => process.stderr.write('worker: error ' + e + '\\n')); } };",
    );
    const second = tufsign(['add-release', 'app', '2.0.0', 'app2', '-w', 'repo', '--json'], {
      cwd: work,
      env: { ...env, NODE_OPTIONS: `--require=${hook}` },
    });
    expect(second.json().patch).toMatchObject({ from: '1.0.0' });
    expect(second.stderr).toContain('worker: result');
    expect(second.stderr).not.toContain('worker: error');
    expect(
      tufsign(['release', 'verify', 'app', '2.0.0', 'app2', '-w', 'repo', '--json'], { cwd: work, env }).status,
    ).toBe(0);
    expect(tufsign(['verify', 'repo', '--json'], { cwd: work, env }).json()).toMatchObject({ ok: true });
  });

  it('a SoftHSM2 key through the bundled PKCS#11 module signs targets', () => {
    const lab = SoftHsmLab.create();
    try {
      lab.addToken('airgap-hsm');
      const env = {
        SOFTHSM2_CONF: lab.env['SOFTHSM2_CONF']!,
        TUFSIGN_PIN: USER_PIN,
        TUFSIGN_PASSPHRASE: TEST_PASSPHRASE,
        TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE,
      };
      const work = join(laptop.dir, 'hsm');
      mkdirSync(work);
      const key = tufsign(
        pkcs11GenerateArgs('airgap-hsm', 'targets', [
          '--module',
          SOFTHSM_MODULE,
          '--public-out',
          'targets.pub.json',
          '--json',
        ]),
        { cwd: work, env },
      ).json();
      tufsign(['init', 'repo', '--targets-key', key.uri, '--pkcs11-module', SOFTHSM_MODULE, '--yes', '--json'], {
        cwd: work,
        env,
      });
      writeFileSync(join(work, 'hsm.txt'), 'signed on the token\n');
      tufsign(['targets', 'add', 'hsm.txt', '-w', 'repo', '--yes', '--json'], { cwd: work, env });
      expect(tufsign(['verify', 'repo', '--json'], { cwd: work, env }).json()).toMatchObject({ ok: true });
      expect(latestTargets(join(work, 'repo')).signatures.map((s) => s.keyid)).toEqual([key.keyid]);
    } finally {
      lab.cleanup();
    }
  });

  it("a 2-of-2 ceremony: the request travels between two keyholders' folders; every event records the executable's sha256", () => {
    const env = { TUFSIGN_PASSPHRASE: TEST_PASSPHRASE, TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE };
    const root = join(laptop.dir, 'ceremony');
    const holders = ['alice', 'bob'].map((name) => {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      tufsign(keyholderGenerateArgs(name), { cwd: dir, env });
      return { name, dir };
    });
    const org = join(root, 'org');
    const init = tufsign(
      [
        'init',
        org,
        '--root-key',
        join(root, 'alice.pub.json'),
        '--root-key',
        join(root, 'bob.pub.json'),
        '--root-threshold',
        '2',
        '--json',
      ],
      { cwd: root, env },
    ).json();
    let request: string = init.request.request;
    for (const h of holders) {
      // The request is carried to the keyholder's own folder, signed there, and carried on.
      const carried = join(h.dir, 'request.tufsign-request.json');
      copyFileSync(request, carried);
      // the fingerprint the organizer reads out; each keyholder keeps their own trust folder
      const fingerprint = readJson(request).fingerprint as string;
      tufsign(
        [
          'ceremony',
          'sign',
          carried,
          '--key',
          `file:keys/${h.name}.pem`,
          '--fingerprint',
          fingerprint,
          '--trust-dir',
          join(h.dir, 'trust'),
          '--yes',
        ],
        { cwd: h.dir, env },
      );
      request = carried;
    }
    const back = join(org, 'signed.tufsign-request.json');
    copyFileSync(request, back);
    tufsign(['ceremony', 'finalize', back, '--out', join(root, 'bundle'), '-w', org], { cwd: org, env });
    expect(tufsign(['verify', org, '--json'], { env }).json()).toMatchObject({ ok: true });
    tufsign(['verify', join(root, 'bundle'), '--root', join(org, 'metadata', '1.root.json')], { env });
    const events = readJson(back).transcript as { event: string; owner?: string; executable_sha256?: string }[];
    expect(events[0]?.event).toBe('created');
    expect(events.filter((e) => e.event === 'signed').map((e) => e.owner)).toEqual(
      expect.arrayContaining(['alice', 'bob']),
    );
    expect(events.every((e) => e.executable_sha256 === exeSha)).toBe(true);
    // docs/airgap-install.md step 5, as the auditor runs it beside SHA256SUMS: one hash, the executable's line
    const audit = onLaptop('/bin/bash', ['-euc', airgapDoc[1]!.body.replaceAll('REQUEST.tufsign-request.json', back)], {
      env: { PATH: liveSystemPath() },
    });
    expect(audit.status).toBe(0);
    expect(audit.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^\\s*\\d+ "executable_sha256": *"${exeSha}"$`)),
      `${exeSha}  ${TOP}/tufsign`,
    ]);
  });

  it('JavaScript planted beside the executable or in the working folder is never loaded', () => {
    const marker = join(base, 'planted-ran');
    const planted = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');`;
    const folder = join(laptop.dir, TOP);
    for (const dir of [
      join(folder, 'node_modules', 'typescript'),
      join(laptop.dir, 'node_modules', 'typescript'),
      join(laptop.dir, 'node_modules', 'pkcs11js'),
    ]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'index.js'), planted);
      writeFileSync(join(dir, 'package.json'), '{"main":"index.js"}');
    }
    for (const name of ['worker.js', 'sais.js', 'diff-core.js']) writeFileSync(join(folder, name), planted);
    try {
      tufsign(['--help']);
      tufsign(['devices', '--json'], { env: { TUFSIGN_PKCS11_MODULE: SOFTHSM_MODULE } });
      expect(existsSync(marker)).toBe(false);
    } finally {
      for (const p of ['node_modules', 'worker.js', 'sais.js', 'diff-core.js'])
        rmSync(join(folder, p), { recursive: true, force: true });
      rmSync(join(laptop.dir, 'node_modules'), { recursive: true, force: true });
    }
  });

  it('without its PC/SC addon the executable still signs with key files and devices says what is missing', () => {
    const copy = join(base, 'no-pcsc');
    execFileSync('cp', ['-al', join(laptop.dir, TOP), copy]);
    rmSync(join(copy, 'lib', 'pcsclite.node'));
    const r = onLaptop(join(copy, 'tufsign'), ['key', 'show', 'yubikey:serial=12345678;slot=9c', '--json']);
    expect(r.status).toBe(9);
    expect(r.json().error).toMatchObject({ code: 'DEPENDENCY_MISSING' });
    expect(r.json().error.suggestion).toContain(join(copy, 'lib', 'pcsclite.node'));
    const devices = onLaptop(join(copy, 'tufsign'), ['devices', '--json'], {
      env: { TUFSIGN_PKCS11_MODULE: SOFTHSM_MODULE },
    });
    const yubikey = (
      devices.json() as { backends: { backend: string; available: boolean; problems: { suggestion?: string }[] }[] }
    ).backends.find((d) => d.backend === 'yubikey')!;
    expect(yubikey.available).toBe(false);
    expect(yubikey.problems.map((p) => p.suggestion).join('\n')).toContain('pcsclite.node');
  });

  it('a swapped addon in lib/ is refused before it is loaded: its sha256 is compiled into the executable', () => {
    const copy = join(base, 'swapped');
    execFileSync('cp', ['-al', join(laptop.dir, TOP), copy]);
    rmSync(join(copy, 'lib', 'pkcs11.node'));
    copyFileSync(join(laptop.dir, TOP, 'lib', 'pcsclite.node'), join(copy, 'lib', 'pkcs11.node'));
    const r = onLaptop(join(copy, 'tufsign'), [
      'key',
      'show',
      `pkcs11:token=x;object=y?module-path=${SOFTHSM_MODULE}`,
      '--json',
    ]);
    expect(r.status).toBe(9);
    expect(r.json().error.code).toBe('DEPENDENCY_MISSING');
    expect(r.json().error.message).toContain(
      `${join(copy, 'lib', 'pkcs11.node')} is not the addon this executable was built with`,
    );
    expect(r.json().error.suggestion).toContain('SHA256SUMS');
  });

  describeWithVirtualCards('with a virtual YubiKey', () => {
    const lab = new VirtualYubiKeyLab();
    const SERIAL = 20013013;

    beforeAll(async () => {
      await lab.startPcscd();
      await lab.insert(0, { serial: SERIAL, version: '5.7.1', seed: 'airgap' });
    }, 30_000);
    afterAll(async () => {
      await lab.teardown();
    });

    it('signs targets through the bundled PC/SC module', () => {
      const env = {
        TUFSIGN_PIN: '123456',
        TUFSIGN_PASSPHRASE: TEST_PASSPHRASE,
        TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE,
        TUFSIGN_YUBIKEY_TEST_CA: lab.caCertFile,
      };
      const work = join(laptop.dir, 'yubikey');
      mkdirSync(work);
      const uri = `yubikey:serial=${SERIAL};slot=9c`;
      tufsign([...yubikeyGenerateArgs({ serial: SERIAL, publicOut: 'yk.pub.json' }), '--json'], { cwd: work, env });
      const pub = readJson(join(work, 'yk.pub.json'));
      expect(pub.uri).toBe(uri);
      tufsign(['init', 'repo', '--scheme', 'ecdsa-sha2-nistp256', '--targets-key', uri, '--yes', '--json'], {
        cwd: work,
        env,
      });
      writeFileSync(join(work, 'yk.txt'), 'signed with a YubiKey on the laptop\n');
      tufsign(['targets', 'add', 'yk.txt', '-w', 'repo', '--yes', '--json'], { cwd: work, env });
      expect(tufsign(['verify', 'repo', '--json'], { cwd: work, env }).json()).toMatchObject({ ok: true });
      expect(latestTargets(join(work, 'repo')).signatures.map((s) => s.keyid)).toEqual([pub.keyid]);
    });
  });
});
