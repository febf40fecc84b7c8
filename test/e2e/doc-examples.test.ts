/**
 * Every shell example in README.md and docs/ runs (docs/runbooks has its own test, runbooks.test.ts).
 *
 * The marking, in the fence's info string:
 * - ```sh                — runnable: every `sh` block of a file runs, in order, in one empty scratch folder
 *                          under `set -eu`, with `tufsign` the built CLI, TUFSIGN_PASSPHRASE and
 *                          TUFSIGN_OFFLINE_PASSPHRASE set (the first also typed on
 *                          stdin for README's `read`), HOME in the scratch folder, and
 *                          inputs an example names as "your files" (below, INPUTS) already there;
 * - ```sh yubikey        — runs on two virtual YubiKeys, with ykman and ykcs11 (doc-examples-yubikey.test.ts);
 * - ```sh pty            — a guided flow on a terminal: runs on a pseudo-terminal (test/fixtures/pty-drive.py)
 *                          in the folder its file's PTY entry prepares, with the answers a person types at each
 *                          prompt; the entry then checks what the flow did;
 * - ```sh airgap         — docs/airgap-install.md's laptop steps: test/e2e/standalone-airgap.test.ts runs them
 *                          as written on the unpacked artifact, offline (the stick and request paths filled in);
 * - ```sh norun: REASON  — not run (package installs, commands that rewrite the tree under test); the reason is required
 *                          and names the test, bench or CI script that runs it (or the same calls) instead;
 * - ```text              — not shell (synopses, diagrams).
 * A fence without an info string that holds a command line fails: every example says which kind it is.
 * Examples that start from the reader's own repository (docs/migrating.md, docs/releases.md) run on the import
 * fixtures (test/fixtures/import), copied in under the names the examples use, with the values a reader fills
 * in (`...` passphrases) set to the fixtures' (READER); each such block runs alone, in its own folder.
 * The files run concurrently (each is its own shell and scratch folder).
 * A key URI holding `;` must be quoted on every line of every doc (the shell splits at `;`).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SYSTEM_PYTHON } from '../helpers/cli';
import { DOCS, docBlocks, fencedBlocks, runScript, tufsignShim } from '../helpers/doc-examples';
import { runPython } from '../helpers/python-clients';
import { SOFTHSM_MODULE } from '../helpers/softhsm';
import { tempDir } from '../helpers/tmp';
import { serveDirectory } from '../helpers/tuf-client';

// docs/delegations.md alone runs ~40 tufsign commands: ~25 s on an idle machine, minutes on a loaded one
jest.setTimeout(480_000);

const blocks = docBlocks();
const COMMAND = /^\s*(tufsign|sudo|npm|export|ykman|git|cd|mkdir|cat|tar|sha256sum|grep|find)\b/m;

/** Inputs the examples treat as the reader's own files, made fresh in each scratch folder. */
const INPUTS: Record<string, string | Buffer> = {
  'dist/app.tar.gz': Buffer.alloc(4096, 1),
  'app.bin': Buffer.alloc(2048, 2),
  'build/alpha-1.0.tar.gz': Buffer.alloc(1024, 3),
  'dist/projects-readme.txt': 'projects\n',
  'dist/tools/tool.bin': Buffer.alloc(512, 4),
  'dist/tool-2.0.tar.gz': Buffer.alloc(700, 5),
  'dist/example_app/main.py': 'print("example_app 4.0")\n',
};

interface ReaderSetup {
  /** the reader's repositories: folder name in the example → fixture folder under test/fixtures/import */
  repositories: Record<string, string>;
  /** what the reader fills in (placeholders, secrets of their own repository) */
  fill: [RegExp, string][];
  /** what the reader has set up beyond README's TUFSIGN_PASSPHRASE */
  env?: Record<string, string>;
  /** what the reader already has before a block whose text matches (their own keys, tokens): shell, run first */
  before?: [RegExp, string][];
}
const FIXTURES = join(ROOT, 'test', 'fixtures', 'import');
const KEEP_PASSPHRASE: [RegExp, string] = [
  /^export TUFSIGN_PASSPHRASE=\.\.\./m,
  'export TUFSIGN_PASSPHRASE="$TUFSIGN_PASSPHRASE"',
];
/**
 * The python-tuf reader's own keys: the fixture's first root key as their PEM file `my-root-key.pem`, the second
 * on their HSM token `keyholder` (SoftHSM2, under this folder), with the module and PIN set as docs/hsm.md shows.
 */
const PYTHON_TUF_KEYS = `
keyholders='${join(ROOT, 'test', 'fixtures', 'import', 'python-tuf-keyholders')}'
pem() { node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).keyval.private)' "$1"; }
pem "$keyholders/root" > my-root-key.pem
pem "$keyholders/root2" | openssl pkcs8 -topk8 -nocrypt -out hsm-root2.p8
mkdir -p softhsm/tokens
echo "directories.tokendir = $PWD/softhsm/tokens" > softhsm/softhsm2.conf
export SOFTHSM2_CONF="$PWD/softhsm/softhsm2.conf" TUFSIGN_PKCS11_MODULE=${SOFTHSM_MODULE} TUFSIGN_PIN=123456
softhsm2-util --init-token --free --label keyholder --so-pin 12345678 --pin 123456 >/dev/null
softhsm2-util --import hsm-root2.p8 --token keyholder --label root2 --id 02 --pin 123456 >/dev/null
rm hsm-root2.p8
`;
/** A SoftHSM2 token of this label in a store of the block's own folder (PIN 123456); SERIAL is its serial. */
const softHsmToken = (label: string): string => `mkdir -p softhsm/tokens
echo "directories.tokendir = $PWD/softhsm/tokens" > softhsm/softhsm2.conf
export SOFTHSM2_CONF="$PWD/softhsm/softhsm2.conf"
softhsm2-util --init-token --free --label ${label} --so-pin 12345678 --pin 123456 >/dev/null
SERIAL=$(softhsm2-util --show-slots | awk '/Serial number:/ && NF == 3 { print $3; exit }')
test -n "$SERIAL"`;
const READER: Record<string, ReaderSetup> = {
  'docs/migrating.md': {
    repositories: { 'my-tufup-project': 'tufup', 'my-go-tuf-repo': 'go-tuf-v0', 'my-python-tuf-repo': 'python-tuf' },
    before: [[/--import my-python-tuf-repo/, PYTHON_TUF_KEYS]],
    fill: [
      [
        /^export TUFSIGN_SOURCE_PASSPHRASE=\.\.\.(?=\s+# the passphrase of tufup)/m,
        'export TUFSIGN_SOURCE_PASSPHRASE=tufup-fixture',
      ],
      [
        /^export TUFSIGN_SOURCE_PASSPHRASE=\.\.\.(?=\s+# the go-tuf passphrase)/m,
        'export TUFSIGN_SOURCE_PASSPHRASE=go-tuf-fixture',
      ],
      KEEP_PASSPHRASE,
    ],
  },
  // SoftHSM2 stands in for the YubiHSM 2 and the Luna partition: the vendor's module path is SoftHSM2's, and
  // the token the example names (by label; by label and serial) is a SoftHSM2 token of that label, whose serial
  // fills in the partition's
  'docs/hsm.md': {
    repositories: {},
    // the package is installed here (scripts/install-test-deps.sh); the token's user PIN is the one the example sets
    fill: [
      [/^sudo apt install softhsm2\b.*$/m, 'command -v softhsm2-util'],
      [
        /^export TUFSIGN_PKCS11_MODULE=\/usr\/lib\/x86_64-linux-gnu\/pkcs11\/yubihsm_pkcs11\.so$/m,
        `export TUFSIGN_PKCS11_MODULE=${SOFTHSM_MODULE}`,
      ],
      [
        /^export TUFSIGN_PKCS11_MODULE=\/usr\/safenet\/lunaclient\/lib\/libCryptoki2_64\.so$/m,
        `export TUFSIGN_PKCS11_MODULE=${SOFTHSM_MODULE}`,
      ],
      [/'pkcs11:token=tuf-prod;serial=1234567'/, `"pkcs11:token=tuf-prod;serial=$SERIAL"`],
    ],
    before: [
      [/--token 'YubiHSM'/, softHsmToken('YubiHSM')],
      [/token=tuf-prod;serial=1234567/, softHsmToken('tuf-prod')],
    ],
    env: { TUFSIGN_PIN: '123456' },
  },
  'docs/releases.md': {
    repositories: { 'my-tufup-project': 'tufup' },
    fill: [[/^export TUFSIGN_SOURCE_PASSPHRASE=\.\.\./m, 'export TUFSIGN_SOURCE_PASSPHRASE=tufup-fixture']],
  },
};

interface PtyRun {
  /** the folder the person is in when they type the block (under the scratch folder) */
  cwd: string;
  /** shell run first, in the scratch folder, with the harness's secrets (what the organizer did before) */
  before: string;
  /** what this machine names (the person's own set-up); the harness's secrets are NOT passed: the flow asks */
  env: Record<string, string>;
  /** [prompt regex, what the person types] in order */
  typed: (work: string) => [string, string][];
  /** shell run after, in the scratch folder, with the harness's secrets (what the organizer does next) */
  after: string;
  /** what the flow must have done */
  check: (work: string, transcript: string) => void;
}
const PIN = '123456';
/**
 * docs/ceremony.md's keyholder walkthrough: Alice's root key is on her PKCS#11 token (SoftHSM2 here), which her
 * laptop names in TUFSIGN_PKCS11_MODULE; the organizer (whose machine has no such token) asked for a 2-of-2 root
 * with her key added, and the request is on the stick (the folder she is in). She types the fingerprint read out
 * to her, confirms the first-contact pin and the signature, and her PIN; the organizer then finalizes root v2.
 */
const PTY: Record<string, PtyRun> = {
  'docs/ceremony.md': {
    cwd: 'stick',
    before: `mkdir -p softhsm/tokens stick
echo "directories.tokendir = $PWD/softhsm/tokens" > softhsm/softhsm2.conf
export SOFTHSM2_CONF="$PWD/softhsm/softhsm2.conf"
softhsm2-util --init-token --free --label alice --so-pin 12345678 --pin ${PIN} >/dev/null
TUFSIGN_PIN=${PIN} tufsign key generate --backend pkcs11 --pkcs11-module ${SOFTHSM_MODULE} --token alice --label root-alice \
  --scheme ecdsa-sha2-nistp256 --public-out alice.pub.json --owner alice
tufsign init org
env -u SOFTHSM2_CONF tufsign root rotate -w org --add-key alice.pub.json --threshold 2 \
  --request-out stick/root-v2.tufsign-request.json`,
    env: { TUFSIGN_PKCS11_MODULE: SOFTHSM_MODULE },
    typed: (work) => [
      ['Type the fingerprint', `${requestJson(join(work, 'stick', 'root-v2.tufsign-request.json')).fingerprint}\r`],
      ['First contact', 'y\r'],
      ['Sign root v2', 'y\r'],
      ['PIN for', `${PIN}\r`],
    ],
    after: 'tufsign ceremony finalize stick/root-v2.tufsign-request.json --bundle-out upload-root-v2 -w org',
    check: (work, transcript) => {
      expect(transcript).not.toContain(PIN);
      const alice = (JSON.parse(readFileSync(join(work, 'alice.pub.json'), 'utf8')) as { keyid: string }).keyid;
      // root v2 as published: signed by the old root key and by Alice's key on her token
      const root = JSON.parse(readFileSync(join(work, 'org', 'metadata', '2.root.json'), 'utf8')) as {
        signed: { roles: { root: { threshold: number } } };
        signatures: { keyid: string }[];
      };
      expect(root.signed.roles.root.threshold).toBe(2);
      expect(root.signatures).toHaveLength(2);
      expect(root.signatures.map((x) => x.keyid)).toContain(alice);
    },
  },
};
function requestJson(path: string): { fingerprint: string } {
  return JSON.parse(readFileSync(path, 'utf8')) as { fingerprint: string };
}

/** Absolute places an example writes to, moved into the scratch folder. */
const RELOCATE: [RegExp, string][] = [[/\/var\/www\/tuf/g, 'www']];

describe('doc examples', () => {
  it('every fenced block is marked: sh, sh norun: REASON, or a non-shell language', () => {
    const unmarked = blocks.filter(
      (b) => b.file !== 'docs/commands.md' && (b.info === '' || b.info === 'bash') && COMMAND.test(b.body),
    );
    expect(unmarked.map((b) => `${b.file}:${b.line}`)).toEqual([]);
    const badNorun = blocks.filter((b) => b.info.startsWith('sh norun') && !/^sh norun: .{10,}/.test(b.info));
    expect(badNorun.map((b) => `${b.file}:${b.line}`)).toEqual([]);
    // a block that stays norun names what runs it (or the same calls) instead: a test, a bench or CI's script
    const runners = blocks
      .filter((b) => b.info.startsWith('sh norun'))
      .map((b) => ({
        at: `${b.file}:${b.line}`,
        named: [...b.info.matchAll(/(?:test|bench|scripts|\.ci)\/[\w./-]*\w/g)].map((m) => m[0]),
      }));
    expect(runners.filter((r) => r.named.length === 0 || !r.named.every((f) => existsSync(join(ROOT, f))))).toEqual([]);
    expect(blocks.filter((b) => b.info === 'sh').length).toBeGreaterThanOrEqual(2);
    // every sh block is of a known kind; `sh airgap` only where the standalone test looks for it
    const kinds = blocks.filter((b) => /^sh\b/.test(b.info) && !/^sh( yubikey| pty| norun: .*)?$/.test(b.info));
    expect(
      kinds
        .filter((b) => b.info !== 'sh airgap' || b.file !== 'docs/airgap-install.md')
        .map((b) => `${b.file}:${b.line} ${b.info}`),
    ).toEqual([]);
  });

  it('every key URI with ";" is quoted in every shell line of every doc (code blocks and inline commands)', () => {
    const files = [...DOCS, ...readdirSync(join(ROOT, 'docs', 'runbooks')).map((r) => `docs/runbooks/${r}`)];
    const shellLines = files.flatMap((f) => {
      const md = readFileSync(join(ROOT, f), 'utf8');
      const fenced = fencedBlocks(f, md)
        .filter((b) => b.info !== 'text' && b.info !== 'json')
        .flatMap((b) => b.body.split('\n').map((l) => ({ at: `${f}:${b.line}`, l })));
      const inline = [...md.matchAll(/`(tufsign [^`]*)`/g)].map((m) => ({ at: f, l: m[1] ?? '' }));
      return [...fenced, ...inline];
    });
    const unquoted = shellLines.filter(({ l }) => {
      const code = l.replace(/(^|\s)#.*$/, ''); // comments are not split by the shell
      const bare = code.replace(/'[^']*'|"[^"]*"/g, "''");
      return /\b(yubikey|pkcs11):[^\s'"]*;/.test(bare);
    });
    expect(unquoted.map(({ at, l }) => `${at}: ${l.trim()}`)).toEqual([]);
  });

  it('every sh pty block has its PTY entry, and every entry its block', () => {
    const pty = blocks.filter((b) => b.info === 'sh pty');
    expect(pty.map((b) => b.file).sort()).toEqual(Object.keys(PTY).sort());
  });

  const runnable = [...new Set(blocks.filter((b) => b.info === 'sh').map((b) => b.file))];
  // made now, not in beforeAll: jest starts concurrent tests before beforeAll hooks run
  const shim = tufsignShim();

  const scratch = tempDir('tufsign-doc-example-');
  const makeInputs = (dir: string, reader: ReaderSetup | undefined): void => {
    for (const [p, data] of Object.entries(INPUTS)) {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), data);
    }
    for (const [name, fixture] of Object.entries(reader?.repositories ?? {}))
      cpSync(join(FIXTURES, fixture), join(dir, name), { recursive: true });
  };
  test.concurrent.each(runnable)('%s: its sh examples run as written', async (file) => {
    const work = join(scratch, file.replace(/[/.]/g, '-'));
    const reader = READER[file];
    mkdirSync(work, { recursive: true });
    if (reader === undefined) makeInputs(work, reader);
    const script = [
      'set -eu',
      ...blocks
        .filter((b) => b.file === file && b.info === 'sh')
        .map((b) => {
          let body = b.body;
          for (const [re, to] of [...RELOCATE, ...(reader?.fill ?? [])]) body = body.replace(re, to);
          const head = `echo "### ${b.file}:${b.line}" >&2`;
          if (reader === undefined) return `${head}\n${body}`;
          // an example from the reader's own repository: alone, in its own folder with its inputs
          const own = join(work, `block-${b.line}`);
          makeInputs(own, reader);
          const before = (reader.before ?? []).filter(([re]) => re.test(b.body)).map(([, sh]) => sh);
          return `${head}\n(cd '${own}'\n${before.join('\n')}\n${body}\n)`;
        }),
    ].join('\n');
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${shim}:${process.env['PATH'] ?? ''}`, HOME: work };
    // the reader has followed README's setup: TUFSIGN_PASSPHRASE is set; README's own `read -rs` line reads
    // the same passphrase from stdin, as a person would type it
    env['TUFSIGN_PASSPHRASE'] = 'doc-example-passphrase';
    // and the offline root key's own passphrase (init keeps root offline by default, ADR 0011)
    env['TUFSIGN_OFFLINE_PASSPHRASE'] = 'doc-example-offline-passphrase';
    Object.assign(env, reader?.env ?? {});
    const r = await runScript(script, work, env, 'doc-example-passphrase\n', 450_000);
    if (r.status !== 0)
      throw new Error(`${file} failed (exit ${r.status}) in ${work}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
    expect(r.status).toBe(0);
    if (file === 'docs/migrating.md') await pythonTufFollows(work);
    if (file === 'docs/delegations.md') delegationsOutcome(join(work, 'repo'));
  });
});

/** The newest `N.ROLE.json` of a workspace's metadata/ (consistent snapshots). */
function newest(repo: string, role: string): { signed: Record<string, unknown>; signatures: { keyid: string }[] } {
  const dir = join(repo, 'metadata');
  const re = new RegExp(`^(\\d+)\\.${role}\\.json$`);
  const v = Math.max(...readdirSync(dir).flatMap((f) => re.exec(f)?.slice(1).map(Number) ?? []));
  return JSON.parse(readFileSync(join(dir, `${v}.${role}.json`), 'utf8'));
}
const keyidOf = (work: string, pub: string): string =>
  (JSON.parse(readFileSync(join(work, pub), 'utf8')) as { keyid: string }).keyid;

/**
 * What docs/delegations.md's examples claim, read back from the workspace they leave: projects 2-of-2 with
 * projects-3 in place of projects-1 (both signing its newest version); the 16 bins moved to bins-2's key and
 * each re-signed by it; tools created, given a target and re-signed, each by the key on the keyholder's
 * laptop, which never entered the workspace.
 */
function delegationsOutcome(repo: string): void {
  const work = join(repo, '..');
  type Delegations = {
    roles?: { name: string; keyids: string[]; threshold: number }[];
    succinct_roles?: { keyids: string[] };
  };
  const delegatedBy = (role: string, name: string) =>
    ((newest(repo, role).signed['delegations'] as Delegations).roles ?? []).find((r) => r.name === name);
  const [p2, p3, b2, tools] = ['projects-2', 'projects-3', 'bins-2', 'tools-1'].map((k) =>
    keyidOf(work, `${k}.pub.json`),
  );
  expect(delegatedBy('targets', 'projects')).toMatchObject({ threshold: 2 });
  expect(delegatedBy('targets', 'projects')?.keyids.sort()).toEqual([p2, p3].sort());
  expect(
    newest(repo, 'projects')
      .signatures.map((s) => s.keyid)
      .sort(),
  ).toEqual([p2, p3].sort());
  const bins = (newest(repo, 'packages').signed['delegations'] as Delegations).succinct_roles;
  expect(bins?.keyids).toEqual([b2]);
  for (const bin of ['bins-0', 'bins-f']) expect(newest(repo, bin).signatures.map((s) => s.keyid)).toEqual([b2]);
  expect(delegatedBy('targets', 'tools')?.keyids).toEqual([tools]);
  const t = newest(repo, 'tools');
  expect(t.signatures.map((s) => s.keyid)).toEqual([tools]);
  expect(Object.keys(t.signed['targets'] as object)).toEqual(['tools/tool-2.0.tar.gz']);
  expect(t.signed['version']).toBe(3); // created, the target added, re-signed
  expect(readdirSync(join(repo, 'keys')).filter((f) => f.startsWith('tools'))).toEqual([]);
}

describe('doc examples on a terminal (sh pty)', () => {
  const shim = tufsignShim();
  const scratch = tempDir('tufsign-doc-pty-');
  test.concurrent.each(Object.keys(PTY))(
    '%s: its sh pty example runs as written on a pseudo-terminal',
    async (file) => {
      const run = PTY[file] as PtyRun;
      const block = blocks.find((b) => b.file === file && b.info === 'sh pty');
      if (block === undefined) throw new Error(`${file} has no sh pty block`);
      const work = join(scratch, file.replace(/[/.]/g, '-'));
      mkdirSync(work, { recursive: true });
      const path = `${shim}:${process.env['PATH'] ?? ''}`;
      const secrets = {
        TUFSIGN_PASSPHRASE: 'doc-example-passphrase',
        TUFSIGN_OFFLINE_PASSPHRASE: 'doc-example-offline-passphrase',
      };
      const before = await runScript(
        `set -eu\n${run.before}`,
        work,
        { ...process.env, PATH: path, HOME: work, ...secrets },
        '',
      );
      if (before.status !== 0) throw new Error(`${file}: the set-up failed (exit ${before.status})\n${before.stderr}`);
      // the person's own environment: no secret in it (the flow must ask), what their machine names
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: path, HOME: work, PTY_DRIVE_TIMEOUT: '240', ...run.env };
      for (const k of ['TUFSIGN_PASSPHRASE', 'TUFSIGN_OFFLINE_PASSPHRASE', 'TUFSIGN_PIN']) delete env[k];
      env['SOFTHSM2_CONF'] = join(work, 'softhsm', 'softhsm2.conf');
      // the driver is python; its argv carries the answers and the block, as the person types them
      const drive = `exec '${SYSTEM_PYTHON}' '${join(ROOT, 'test', 'fixtures', 'pty-drive.py')}' "$PTY_TYPED" -- bash -c "$PTY_BLOCK"`;
      env['PTY_TYPED'] = JSON.stringify(run.typed(work));
      env['PTY_BLOCK'] = block.body;
      const r = await runScript(drive, join(work, run.cwd), env, '', 300_000);
      if (r.status !== 0) throw new Error(`${file}:${block.line} failed (exit ${r.status})\n${r.stdout}\n${r.stderr}`);
      const after = await runScript(
        `set -eu\n${run.after}`,
        work,
        { ...process.env, PATH: path, HOME: work, ...secrets },
        '',
      );
      if (after.status !== 0) throw new Error(`${file}: what follows failed (exit ${after.status})\n${after.stderr}`);
      run.check(work, r.stdout);
    },
  );
});

/** python-tuf's ngclient, trusting the python-tuf repository's root v1, follows the migrated workspace. */
async function pythonTufFollows(work: string): Promise<void> {
  const block = blocks.find((b) => b.file === 'docs/migrating.md' && /--import my-python-tuf-repo/.test(b.body));
  if (block === undefined) throw new Error('docs/migrating.md lost its python-tuf example');
  const own = join(work, `block-${block.line}`);
  const server = await serveDirectory(join(own, 'ws'));
  try {
    const run = await runPython([
      join(own, 'client-meta'),
      join(own, 'client-targets'),
      server.url,
      join(own, 'my-python-tuf-repo', 'metadata', '1.root.json'),
      'releases/notes-1.0.txt',
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toMatchObject({ tuf: '3.1.1', root: 3 });
  } finally {
    await server.close();
  }
}
