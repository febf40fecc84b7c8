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
 * - ```sh norun: REASON  — not run (hardware, package installs, the packaged artifact); the reason is required;
 * - ```text              — not shell (synopses, diagrams).
 * A fence without an info string that holds a command line fails: every example says which kind it is.
 * Examples that start from the reader's own repository (docs/migrating.md, docs/releases.md) run on the import
 * fixtures (test/fixtures/import), copied in under the names the examples use, with the values a reader fills
 * in (`...` passphrases) set to the fixtures' (READER); each such block runs alone, in its own folder.
 * The files run concurrently (each is its own shell and scratch folder).
 * A key URI holding `;` must be quoted on every line of every doc (the shell splits at `;`).
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli';
import { DOCS, docBlocks, fencedBlocks, runScript, tufsignShim } from '../helpers/doc-examples';
import { runPython } from '../helpers/python-clients';
import { SOFTHSM_MODULE } from '../helpers/softhsm';
import { tempDir } from '../helpers/tmp';
import { serveDirectory } from '../helpers/tuf-client';

jest.setTimeout(180_000);

const blocks = docBlocks();
const COMMAND = /^\s*(tufsign|sudo|npm|export|ykman|git|cd|mkdir|cat|tar|sha256sum|grep|find)\b/m;

/** Inputs the examples treat as the reader's own files, made fresh in each scratch folder. */
const INPUTS: Record<string, string | Buffer> = {
  'dist/app.tar.gz': Buffer.alloc(4096, 1),
  'app.bin': Buffer.alloc(2048, 2),
  'build/alpha-1.0.tar.gz': Buffer.alloc(1024, 3),
  'dist/projects-readme.txt': 'projects\n',
  'dist/tools/tool.bin': Buffer.alloc(512, 4),
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
  'docs/hsm.md': {
    repositories: {},
    // the package is installed here (scripts/install-test-deps.sh); the token's user PIN is the one the example sets
    fill: [[/^sudo apt install softhsm2\b.*$/m, 'command -v softhsm2-util']],
    env: { TUFSIGN_PIN: '123456' },
  },
  'docs/releases.md': {
    repositories: { 'my-tufup-project': 'tufup' },
    fill: [[/^export TUFSIGN_SOURCE_PASSPHRASE=\.\.\./m, 'export TUFSIGN_SOURCE_PASSPHRASE=tufup-fixture']],
  },
};

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
    expect(blocks.filter((b) => b.info === 'sh').length).toBeGreaterThanOrEqual(2);
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
    const r = await runScript(script, work, env, 'doc-example-passphrase\n');
    if (r.status !== 0)
      throw new Error(`${file} failed (exit ${r.status}) in ${work}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
    expect(r.status).toBe(0);
    if (file === 'docs/migrating.md') await pythonTufFollows(work);
  });
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
