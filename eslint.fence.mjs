// ---------------------------------------------------------------------------------------------------------------
// The fence: the dependency graph of docs/architecture.md, enforced over every folder of src/.
//
//   commands → cli → repository → {ceremony, release, bundle, verify} → {keystore, tuf} → io
//   (errors.ts is the shared error table: every room may import it; index.ts is the library API)
//
// Each room lists what it must NOT reach, matched on the import string (no resolver needed, no plugin).
// Only the edges named in docs/architecture.md may touch the file system, the clock or the process.
// ---------------------------------------------------------------------------------------------------------------

// A cross-room import climbs with `../`, so `^(../)+room(/|$)` names exactly that room and never a sibling file of
// the same name; files at the top of src/ (index.ts, errors.ts) reach rooms with `./room/`.
const room = (name, rest = '(?:/|$)') => ({ room: name, rest });

/** Things a room may be forbidden to reach, each an import pattern or a syntax rule. */
const TARGET = {
  commands: room('commands'),
  cli: room('cli'),
  repository: room('repository'),
  ceremony: room('ceremony'),
  release: room('release'),
  bundle: room('bundle'),
  verify: room('verify'),
  keystore: room('keystore'),
  tuf: room('tuf'),
  io: room('io'),
  import: room('import'),
  // src/tuf may use the pure hash helper and nothing else of src/io
  'io except hash': room('io', '/(?!hash$)'),
  'io/fs': room('io', '/fs$'),
  // file system: only the edges (src/io, and the named device drivers)
  'node:fs': { regex: '^(?:node:)?fs(?:/.*)?$' },
  // commands are flags + one call + render: no Node built-ins, no packages but oclif
  'node:*': { regex: '^node:(?!fs(?:/|$))' },
  packages: { regex: '^(?![.]|node:|@oclif/core$)' },
  oclif: { regex: '^@oclif/' },
  inquirer: { regex: '^@inquirer/' },
  // not imports: the process (cwd, env, argv, stdio, exit) and the wall clock
  process: { process: true },
  clock: { clock: true },
};

const UI = ['oclif', 'inquirer'];
const NO_EDGES = ['node:fs', 'process', 'clock'];

/** room → what it may never reach (docs/architecture.md, "Rooms"). Later entries override earlier ones. */
export const ROOMS = [
  // a folder not named below is core until docs/architecture.md places it: no CLI, no process, no files, no clock
  {
    files: ['src/**'],
    why: 'a new room is core until docs/architecture.md and eslint.fence.mjs place it',
    forbid: ['commands', 'cli', ...UI, ...NO_EDGES],
  },
  {
    files: ['src/errors.ts'],
    top: true,
    why: 'the error table depends on nothing',
    forbid: [
      'commands',
      'cli',
      'repository',
      'ceremony',
      'release',
      'bundle',
      'verify',
      'keystore',
      'tuf',
      'io',
      ...UI,
      ...NO_EDGES,
    ],
  },
  {
    files: ['src/io/**'],
    why: 'src/io is the edge for files, clock and hashing; it holds no business logic (only io/clock.ts reads the clock)',
    forbid: [
      'commands',
      'cli',
      'repository',
      'ceremony',
      'release',
      'bundle',
      'verify',
      'keystore',
      'tuf',
      ...UI,
      'process',
      'clock',
    ],
  },
  {
    files: ['src/tuf/**'],
    why: 'src/tuf is pure: no I/O, time is a parameter',
    forbid: [
      'commands',
      'cli',
      'repository',
      'ceremony',
      'release',
      'bundle',
      'verify',
      'keystore',
      'io except hash',
      ...UI,
      ...NO_EDGES,
    ],
  },
  {
    files: ['src/keystore/**'],
    why: 'src/keystore signs; it knows nothing of workspaces, ceremonies or releases',
    forbid: ['commands', 'cli', 'repository', 'ceremony', 'release', 'bundle', 'verify', ...UI, ...NO_EDGES],
  },
  {
    files: ['src/ceremony/**'],
    why: 'src/ceremony is a pure state machine over bytes: no devices, no files, no clock',
    forbid: ['commands', 'cli', 'repository', 'release', 'bundle', 'verify', 'keystore', 'io/fs', ...UI, ...NO_EDGES],
  },
  {
    files: ['src/release/**'],
    why: 'src/release builds archives and patches; it never signs nor touches the workspace',
    forbid: ['commands', 'cli', 'repository', 'ceremony', 'bundle', 'verify', 'keystore', ...UI, ...NO_EDGES],
  },
  {
    files: ['src/bundle/**'],
    why: 'src/bundle packs and checks upload bundles; it never reaches up into the repository',
    forbid: ['commands', 'cli', 'repository', 'keystore', ...UI, ...NO_EDGES],
  },
  {
    files: ['src/verify/**'],
    why: 'src/verify is the client-side verifier: bytes and a reference time in, a verdict out',
    forbid: ['commands', 'cli', 'repository', 'ceremony', 'release', 'bundle', 'keystore', 'io/fs', ...UI, ...NO_EDGES],
  },
  {
    files: ['src/repository/**'],
    why: 'src/repository holds the workspace use cases; the CLI layer sits above it',
    forbid: ['commands', 'cli', ...UI, ...NO_EDGES],
  },
  {
    files: ['src/index.ts'],
    top: true,
    why: 'the library API re-exports the core without the CLI',
    forbid: ['commands', 'cli', ...UI, ...NO_EDGES],
  },
  {
    files: ['src/cli/**', 'src/hooks/**'],
    why: 'src/cli (and its oclif hooks) is glue and the process edge; files go through src/io',
    forbid: ['commands', 'node:fs'],
  },
  {
    files: ['src/standalone/**'],
    why: 'the single-executable entry point is an edge like bin/: it may read the process, never a command',
    forbid: ['commands', 'node:fs'],
  },
  // `init --import` reads foreign repositories: a use case beside src/repository; its files go through src/io.
  {
    files: ['src/import/**'],
    why: 'src/import turns a foreign repository into a workspace; the CLI layer sits above it',
    forbid: ['commands', 'cli', ...UI, ...NO_EDGES],
  },
  {
    files: ['src/commands/**'],
    why: 'a command is flags, one call through src/cli, render',
    typesAllowed: true,
    forbid: [
      'repository',
      'ceremony',
      'release',
      'bundle',
      'verify',
      'import',
      'keystore',
      'tuf',
      'io',
      'node:fs',
      'node:*',
      'packages',
      'process',
      'clock',
    ],
  },
];

// Named edges beyond src/io and src/cli: the clock module, and native device drivers that load a library from disk
// and time out on devices.
export const EDGES = {
  'src/io/clock.ts': ['clock'], // the one reader of the wall clock (systemClock); io/lock.ts waits through it
  'src/keystore/pkcs11/modules.ts': ['node:fs'], // checks a PKCS#11 module path before dlopen
  'src/keystore/pkcs11/runtime.ts': ['node:fs'], // same, for the module the runtime loads
  'src/keystore/yubikey/pcsc.ts': ['clock'], // waits for a card / a touch with a deadline
  'src/verify/sources.ts': ['io/fs'], // reads the repository or bundle folder it is handed, bounded, regular files only
};

// DEBT: crossings that exist today and that docs/architecture.md says must go. Each line names the exact file and
// only the fences it crosses; pay one off, delete its line. A new line needs a reason here and in the commit.
export const DEBT = {};

const PROCESS_PROPS = ['cwd', 'env', 'argv', 'exit', 'exitCode', 'stdin', 'stdout', 'stderr', 'chdir'];

function importRegex(target, top) {
  if (target.room === undefined) return target.regex;
  return `${top ? '^\\./' : '^(?:\\.\\./)+(?!\\.\\./)'}${target.room}${target.rest}`;
}

function fenceRules({ forbid, why, typesAllowed, top }) {
  const patterns = forbid
    .filter((t) => TARGET[t].room !== undefined || TARGET[t].regex !== undefined)
    .map((t) => ({
      regex: importRegex(TARGET[t], top),
      message: `${why} (fence "${t}", docs/architecture.md)`,
      ...(typesAllowed ? { allowTypeImports: true } : {}),
    }));
  const props = [];
  if (forbid.includes('process')) {
    for (const property of PROCESS_PROPS)
      props.push({
        object: 'process',
        property,
        message: `process.${property} belongs to src/cli (docs/architecture.md, edges)`,
      });
  }
  if (forbid.includes('clock'))
    props.push({
      object: 'Date',
      property: 'now',
      message: 'the clock is an edge: take a Clock or a reference time (docs/architecture.md)',
    });
  const syntax = forbid.includes('clock')
    ? [
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'the clock is an edge: take a Clock or a reference time (docs/architecture.md)',
        },
      ]
    : [];
  return {
    '@typescript-eslint/no-restricted-imports': patterns.length > 0 ? ['error', { patterns }] : 'off',
    'no-restricted-properties': props.length > 0 ? ['error', ...props] : 'off',
    'no-restricted-syntax': syntax.length > 0 ? ['error', ...syntax] : 'off',
  };
}

function matches(file, glob) {
  return glob.endsWith('/**') ? file.startsWith(glob.slice(0, -2)) : file === glob;
}

/** One config object per room, then one per exempted file (a later object replaces a rule's options). */
export function fence({ debt = true } = {}) {
  const configs = [
    {
      files: ['src/**'],
      // the core returns results or throws coded errors; only src/cli writes to the terminal, via process streams.
      // Shipped code never evaluates strings as code.
      rules: { 'no-console': 'error', 'no-eval': 'error', 'no-new-func': 'error', 'no-restricted-imports': 'off' },
    },
    ...ROOMS.map((r) => ({ files: r.files, rules: fenceRules(r) })),
  ];
  const exempt = {};
  for (const [file, fences] of [...Object.entries(EDGES), ...Object.entries(debt ? DEBT : {})])
    exempt[file] = [...(exempt[file] ?? []), ...fences];
  for (const [file, fences] of Object.entries(exempt)) {
    const r = ROOMS.findLast((x) => x.files.some((g) => matches(file, g)));
    if (r === undefined) throw new Error(`eslint fence: ${file} is in no room`);
    for (const f of fences)
      if (!r.forbid.includes(f))
        throw new Error(`eslint fence: ${file} is exempted from "${f}", which its room allows`);
    configs.push({ files: [file], rules: fenceRules({ ...r, forbid: r.forbid.filter((f) => !fences.includes(f)) }) });
  }
  return configs;
}
