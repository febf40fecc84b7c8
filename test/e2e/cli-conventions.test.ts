/**
 * oclif's conventions as users expect them: help, -h, "did you mean" (with the JSON error envelope),
 * shell completion, an example on every command, the generated command reference, -w on every
 * workspace command, one flag name per concept, one JSON shape for success and for errors.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_ERROR_CODES, exitCodeFor, type ErrorCode } from '../../src/errors';
import { ROOT, runCli, type CliResult } from '../helpers/cli';
import { SOFTHSM_MODULE } from '../helpers/softhsm';
import { tempDir } from '../helpers/tmp';

const base = tempDir();
const manifest = JSON.parse(readFileSync(join(ROOT, '.oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, { id: string; pluginName: string; examples?: string[] }>;
};
const ownCommands = Object.values(manifest.commands);

/** The error envelope: exactly `{error:{code,message,...}}` with a known code and the documented exit status. */
function expectErrorEnvelope(r: CliResult, code: ErrorCode): Record<string, unknown> {
  const out = r.json() as Record<string, unknown>;
  expect(Object.keys(out)).toEqual(['error']);
  const e = out['error'] as Record<string, unknown>;
  expect(e['code']).toBe(code);
  expect(typeof e['message']).toBe('string');
  expect(ALL_ERROR_CODES).toContain(e['code']);
  expect(r.status).toBe(exitCodeFor(code));
  return e;
}

function expectSuccessObject(r: CliResult): Record<string, unknown> {
  expect(r.status).toBe(0);
  const out = r.json() as unknown;
  expect(typeof out === 'object' && out !== null && !Array.isArray(out)).toBe(true);
  expect(out).not.toHaveProperty('error');
  return out as Record<string, unknown>;
}

describe('help', () => {
  it('`help`, `help COMMAND`, `--help` and `-h` all show help and exit 0', () => {
    const top = runCli(['help']);
    expect(top.status).toBe(0);
    for (const c of ['status', 'verify', 'add-release', 'ceremony', 'targets']) expect(top.stdout).toContain(c);
    const byHelp = runCli(['help', 'status']);
    const byDashH = runCli(['status', '-h']);
    const byLong = runCli(['status', '--help']);
    expect(byHelp.status).toBe(0);
    expect(byDashH.status).toBe(0);
    expect(byHelp.stdout).toContain('$ tufsign status');
    expect(byDashH.stdout).toBe(byHelp.stdout);
    expect(byLong.stdout).toBe(byHelp.stdout);
    expect(runCli(['targets', 'add', '-h']).stdout).toContain('$ tufsign targets add');
  });

  it('every command has at least one example, and no example splits a key URI at ";"', () => {
    expect(ownCommands.length).toBeGreaterThan(20);
    for (const c of ownCommands.filter((x) => x.pluginName === 'tufsign')) {
      expect({ id: c.id, examples: (c.examples ?? []).length > 0 }).toEqual({ id: c.id, examples: true });
      for (const ex of c.examples ?? []) expect(ex).not.toMatch(/(?<!['"])yubikey:serial=[^ '"]*;/);
    }
  });

  it('docs/commands.md is what `oclif readme` generates from the current commands', () => {
    const copy = join(base, 'commands.md');
    copyFileSync(join(ROOT, 'docs', 'commands.md'), copy);
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'oclif', 'bin', 'run.js'), 'readme', '--readme-path', copy, '--no-source-links'],
      {
        cwd: ROOT,
        env: { ...process.env, OCLIF_COLUMNS: '120' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(0);
    // `npm run docs:commands` regenerates it
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(join(ROOT, 'docs', 'commands.md'), 'utf8'));
  });
});

describe('mistyped commands', () => {
  it('suggest the closest command and exit USAGE; under --json as the error envelope', () => {
    const human = runCli(['stauts']);
    expect(human.status).toBe(exitCodeFor('USAGE'));
    expect(human.stderr).toContain('tufsign status');
    const json = runCli(['stauts', '--json']);
    const e = expectErrorEnvelope(json, 'USAGE');
    expect(e['details']).toEqual({ command: 'stauts', didYouMean: 'status' });
    const topic = expectErrorEnvelope(runCli(['key', 'lsit', '--json']), 'USAGE');
    expect(topic['details']).toMatchObject({ didYouMean: 'key list' });
  });

  it('an unknown flag is a USAGE error envelope that points at the command help', () => {
    const e = expectErrorEnvelope(runCli(['status', '--bogus', '--json']), 'USAGE');
    expect(e['suggestion']).toContain('tufsign help status');
  });
});

describe('shell completion', () => {
  const home = join(base, 'home');
  beforeAll(() => {
    // NODE_ENV=test is where oclif checks that every command parsed its arguments (the plugin's cache builder
    // did not: "Command create did not parse its arguments"); tufsign's autocomplete runs it parsed
    const r = runCli(['autocomplete', '--refresh-cache'], {
      env: { HOME: home, XDG_CACHE_HOME: join(home, '.cache'), NODE_ENV: 'test' },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/warning/i);
  });

  it('bash: the script registers the completion for `tufsign`, which completes command names and flags', () => {
    const script = runCli(['autocomplete', 'script', 'bash'], {
      env: { HOME: home, XDG_CACHE_HOME: join(home, '.cache') },
    });
    expect(script.status).toBe(0);
    const bash = (body: string): string =>
      spawnSync('bash', ['-c', `${script.stdout}\n${body}`], {
        env: { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache') },
        encoding: 'utf8',
      }).stdout;
    // the function bash calls on TAB after `tufsign` (as a user's .bashrc loads it)
    const fn = /-F (\S+) tufsign$/m.exec(bash('complete -p tufsign'))?.[1];
    expect(fn).toBeDefined();
    const complete = (words: string[]): string[] =>
      bash(
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE='${words.join(' ')}'; COMP_POINT=\${#COMP_LINE}; ${fn!}; printf '%s\\n' "\${COMPREPLY[@]}"`,
      )
        .split('\n')
        .filter((x) => x !== '');
    expect(complete(['tufsign', 'sta'])).toContain('status');
    expect(complete(['tufsign', 'status', '--w'])).toContain('--workspace');
  });

  // CI installs zsh (scripts/install-test-deps.sh); there a missing zsh fails instead of skipping
  const zsh = ['/usr/bin/zsh', '/bin/zsh'].find((p) => existsSync(p));
  (zsh !== undefined || process.env['CI'] === 'true' ? it : it.skip)(
    'zsh: an interactive zsh on a pseudo-terminal loads the completion and TAB completes commands, subcommands and flags',
    () => {
      if (zsh === undefined) throw new Error('zsh is not installed (apt-get install zsh)');
      const script = runCli(['autocomplete', 'script', 'zsh'], {
        env: { HOME: home, XDG_CACHE_HOME: join(home, '.cache') },
      });
      expect(script.status).toBe(0);
      const setup = /TUFSIGN_AC_ZSH_SETUP_PATH=(\S+)/.exec(script.stdout)?.[1];
      expect(setup).toBeDefined();
      const lines = ['tufsign sta', 'tufsign status --wo', 'tufsign add-r', 'tufsign ceremony si'];
      /** What TAB makes of each line in a zsh that sourced `setupFile`. */
      const tab = (setupFile: string, name: string): string[] => {
        const cwd = join(base, `zsh-${name}`); // empty: no file name completes "sta"
        mkdirSync(cwd);
        const out = join(base, `zsh-${name}.out`);
        const r = spawnSync(zsh, ['-f', join(ROOT, 'test', 'fixtures', 'zsh-complete.zsh'), setupFile, out, ...lines], {
          cwd,
          env: { PATH: process.env['PATH'], HOME: cwd, TERM: 'dumb' },
          encoding: 'utf8',
          timeout: 30_000,
        });
        expect(r.status).toBe(0);
        return readFileSync(out, 'utf8').split('\n').slice(0, -1);
      };
      expect(tab(setup!, 'loaded')).toEqual([
        'tufsign status ',
        'tufsign status --workspace ',
        'tufsign add-release ',
        'tufsign ceremony sign ',
      ]);
      // the control: the same keys in a zsh without tufsign's completion leave every line as typed
      const none = join(base, 'no-completion.zsh');
      writeFileSync(none, 'autoload -Uz compinit; compinit\n');
      expect(tab(none, 'control')).toEqual(lines);
    },
  );
});

describe('one vocabulary', () => {
  let ws: string;
  beforeAll(() => {
    ws = join(base, 'repo');
    const r = runCli(['init', '-w', ws, '--json'], { env: { TUFSIGN_NOW: '2026-06-01T00:00:00Z' } });
    expect(r.status).toBe(0);
  });

  it('-w works on status, verify and init; the positional DIR stays an alias; two different ones are refused', () => {
    const env = { TUFSIGN_NOW: '2026-06-01T01:00:00Z' };
    const byFlag = expectSuccessObject(runCli(['status', '-w', ws, '--json'], { env }));
    const byArg = expectSuccessObject(runCli(['status', ws, '--json'], { env }));
    expect(byFlag).toEqual(byArg);
    expect(expectSuccessObject(runCli(['verify', '-w', ws, '--json'], { env }))['ok']).toBe(true);
    expectErrorEnvelope(runCli(['status', ws, '-w', join(base, 'other'), '--json'], { env }), 'USAGE');
    const missing = expectErrorEnvelope(runCli(['status', '-w', join(base, 'nope'), '--json']), 'WORKSPACE_NOT_FOUND');
    expect(missing['suggestion']).toContain('-w');
  });

  it('one name per thing across every command, read from the oclif manifest (what each flag says it is)', () => {
    interface ManifestFlag {
      name: string;
      char?: string;
      aliases?: string[];
      deprecateAliases?: boolean;
      description?: string;
    }
    const commands = (
      JSON.parse(readFileSync(join(ROOT, '.oclif.manifest.json'), 'utf8')) as {
        commands: Record<string, { flags: Record<string, ManifestFlag> }>;
      }
    ).commands;
    // the one name for each thing, and how a flag's own description says it is that thing
    const THINGS: [string, (d: string) => boolean][] = [
      ['request-out', (d) => /\brequest\b/i.test(d) && /\bwrite\b/i.test(d)],
      ['bundle-out', (d) => /\bbundle\b/i.test(d) && /folder|\.tar\.gz/i.test(d) && !/instead of a bundle/.test(d)],
      ['pkcs11-module', (d) => /PKCS#11 module|module path/i.test(d)],
      ['workspace', (d) => /^(Workspace\b|Publish this workspace)/.test(d)],
    ];
    const problems: string[] = [];
    let seen = 0;
    for (const [id, cmd] of Object.entries(commands)) {
      const flags = Object.values(cmd.flags);
      for (const f of flags) {
        const d = f.description ?? '';
        for (const [name, is] of THINGS) {
          if (is(d) && f.name !== name) problems.push(`${id} --${f.name} is a ${name}`);
          if (f.name === name) {
            seen++;
            if (!is(d)) problems.push(`${id} --${name} does not say what it is: ${d}`);
          }
        }
        // the old spellings stay only as deprecated aliases, so scripts are told to change
        if ((f.aliases ?? []).length > 0 && f.deprecateAliases !== true) problems.push(`${id} --${f.name} aliases`);
        if (f.name === 'out' && !['key:generate', 'key:export', 'key:import'].includes(id))
          problems.push(`${id} --out (only the one file a key command writes)`);
      }
      // every command that changes a workspace (it takes --wait for the workspace lock) takes -w/--workspace
      const ws = cmd.flags['workspace'];
      if (cmd.flags['wait'] !== undefined && ws?.char !== 'w') problems.push(`${id} has no -w/--workspace`);
      if (ws !== undefined && ws.char !== 'w') problems.push(`${id} --workspace without -w`);
    }
    expect(problems).toEqual([]);
    expect(seen).toBeGreaterThan(40); // the rule was applied (12 request-out, 4 bundle-out, 4 pkcs11-module, 26 -w)
  });

  it('--request-out, --bundle-out and --pkcs11-module are the names; old ones are deprecated aliases', () => {
    const help = (id: string[]): string => runCli([...id, '-h']).stdout;
    for (const id of [
      ['sign'],
      ['ceremony', 'start'],
      ['ceremony', 'merge'],
      ['key', 'rotate'],
      ['root', 'rotate'],
      ['init'],
      ['add-release'],
    ])
      expect(help(id)).toContain('--request-out');
    for (const id of [['ceremony', 'finalize'], ['key', 'rotate'], ['root', 'rotate'], ['add-release']])
      expect(help(id)).toContain('--bundle-out');
    for (const id of [['devices'], ['key', 'generate'], ['init']]) expect(help(id)).toContain('--pkcs11-module');
    for (const id of [['sign'], ['ceremony', 'start'], ['ceremony', 'finalize'], ['root', 'rotate']])
      expect(help(id)).not.toMatch(/^\s+--out=/m);
    // the old spelling still works, with a deprecation warning
    const old = runCli([
      'root',
      'rotate',
      '-w',
      ws,
      '--expires',
      '400d',
      '--out',
      join(base, 'r.json'),
      '--bundle',
      join(base, 'rb'),
    ]);
    expect(old.status).toBe(0);
    expect(old.stderr).toMatch(/deprecated/i);
  });
});

describe('JSON shapes', () => {
  let ws: string;
  beforeAll(() => {
    ws = join(base, 'shapes');
    expect(runCli(['init', ws, '--json']).status).toBe(0);
  });

  it('success is always one object, list commands included', () => {
    expect(Array.isArray(expectSuccessObject(runCli(['key', 'list', '-w', ws, '--json']))['keys'])).toBe(true);
    expect(Array.isArray(expectSuccessObject(runCli(['release', 'list', '-w', ws, '--json']))['releases'])).toBe(true);
    expect(Array.isArray(expectSuccessObject(runCli(['devices', '--json'], { card: true }))['backends'])).toBe(true);
    expectSuccessObject(runCli(['status', '-w', ws, '--json']));
  });

  it('every error class comes as the error envelope with its exit code', () => {
    // USAGE (2): a missing argument
    expectErrorEnvelope(runCli(['targets', 'remove', '-w', ws, '--json']), 'USAGE');
    // INVALID_INPUT (3): not a workspace
    expectErrorEnvelope(runCli(['key', 'list', '-w', base, '--json']), 'WORKSPACE_NOT_FOUND');
    // KEY (5): no secret and no terminal
    expectErrorEnvelope(
      runCli(['refresh', '-w', ws, '--json'], { env: { TUFSIGN_PASSPHRASE: undefined } }),
      'SECRET_REQUIRED',
    );
    // VERIFY_FAILED (1): verification failure carries the full report in details
    const future = expectErrorEnvelope(
      runCli(['verify', '-w', ws, '--at', '2099-01-01T00:00:00Z', '--json']),
      'VERIFY_FAILED',
    );
    expect((future['details'] as { report: { ok: boolean } }).report.ok).toBe(false);
    // KEY (5): an attestation that fails is the envelope too (a public key file without attestation)
    const pub = join(base, 'plain.pub.json');
    expect(
      runCli(['key', 'export', `file:${join(ws, 'keys', 'timestamp-1.pem')}`, '--out', pub, '--json']).status,
    ).toBe(0);
    expectErrorEnvelope(runCli(['key', 'attest', pub, '--json']), 'ATTESTATION_INVALID');
    // THRESHOLD (4): a root change whose (offline) root key is not on this machine
    const lone = join(base, 'lone');
    expect(runCli(['init', lone, '--json']).status).toBe(0);
    renameSync(join(lone, 'offline-keys'), join(base, 'offline-keys-elsewhere'));
    const rootReq = join(base, 'root-v2.json');
    expect(runCli(['ceremony', 'start', '--role', 'root', '-w', lone, '--request-out', rootReq, '--json']).status).toBe(
      0,
    );
    const bundle = join(base, 'never-written');
    expectErrorEnvelope(
      runCli(['ceremony', 'finalize', rootReq, '--bundle-out', bundle, '-w', lone, '--json']),
      'THRESHOLD_NOT_MET',
    );
    expect(existsSync(bundle)).toBe(false);
    // CEREMONY (7): a fingerprint that is not the request's
    const targetsReq = join(base, 'targets-v2.json');
    expect(
      runCli(['ceremony', 'start', '--role', 'targets', '-w', lone, '--request-out', targetsReq, '--json']).status,
    ).toBe(0);
    const key = `file:${join(lone, 'keys', 'targets-1.pem')}`;
    const fp = ['--fingerprint', 'AAAA-BBBB-CCCC-DDDD-EEEE', '--yes', '--json'];
    expectErrorEnvelope(runCli(['ceremony', 'sign', targetsReq, '--key', key, ...fp]), 'FINGERPRINT_MISMATCH');
    // DEVICE (6): a PKCS#11 token that is not there (an empty SoftHSM2 token folder)
    mkdirSync(join(base, 'no-tokens'));
    writeFileSync(join(base, 'softhsm2.conf'), `directories.tokendir = ${join(base, 'no-tokens')}\n`);
    const device = runCli(
      [
        'key',
        'generate',
        '--backend',
        'pkcs11',
        '--token',
        'absent',
        '--label',
        'k',
        '--pkcs11-module',
        SOFTHSM_MODULE,
        '--json',
      ],
      { env: { SOFTHSM2_CONF: join(base, 'softhsm2.conf'), TUFSIGN_PIN: '123456' } },
    );
    expectErrorEnvelope(device, 'TOKEN_NOT_PRESENT');
    // DEPENDENCY (9): test/e2e/native-missing.test.ts; ABORTED (2) under --json: test/e2e/ctrl-c.test.ts (PIN prompt)
    // IO (8)
    writeFileSync(join(base, 'not-a-dir'), 'x');
    const io = expectErrorEnvelope(runCli(['init', join(base, 'not-a-dir', 'sub'), '--json']), 'IO_ERROR');
    expect(io['file']).toContain('not-a-dir');
  });
});

describe('piped stdin is data, never an argument', () => {
  it('a command with an optional positional ignores what is piped to it (oclif would read it as the argument)', () => {
    const ws = join(base, 'stdin-ws');
    expect(runCli(['init', ws, '--json']).status).toBe(0);
    // the text is there before the command starts, so oclif's 10 ms stdin read would always win the race
    const r = runCli(['status', '--json'], { cwd: ws, input: '/nonexistent-workspace\n' });
    expect(r.status).toBe(0);
    expect(expectSuccessObject(r)['workspace']).toBe(ws);
  });
});
