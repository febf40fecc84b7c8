/**
 * What a user's walkthrough of issue #14 found (AUDIT-14): every metadata-changing command ends with a publish
 * line that works as printed; people never see internal rule IDs; a mistyped subcommand of a command that also
 * takes a file gets a suggestion; `autocomplete` speaks the JSON envelope; a PEM named as a path is told how to
 * name it; oclif's parse errors are one line per problem.
 */
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor, type ErrorCode } from '../../src/errors';
import { spawnSync } from 'node:child_process';
import { BIN, runCli, type CliResult } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const base = tempDir();
/** one workspace for the whole file: each CLI run costs about a second */
const ws = join(base, 'repo');
beforeAll(() => {
  expect(runCli(['init', '-w', ws, '--offline', 'none', '--json']).status).toBe(0);
});

function envelope(r: CliResult, code: ErrorCode): Record<string, unknown> {
  expect(r.status).toBe(exitCodeFor(code));
  const out = r.json() as { error: Record<string, unknown> };
  expect(Object.keys(out)).toEqual(['error']);
  expect(out.error['code']).toBe(code);
  return out.error;
}

/** The `tufsign publish …` command a run printed, run as printed with DEST filled in. */
function runPrintedPublish(stdout: string, dest: string, cwd: string): CliResult {
  const line = stdout.split('\n').find((l) => /tufsign publish /.test(l));
  expect(line).toBeDefined();
  const words = /tufsign publish (.*?) DEST/.exec(line ?? '')?.[1]?.split(' ') ?? [];
  expect(words.length).toBeGreaterThan(0);
  return runCli(['publish', ...words, dest, '--json'], { cwd });
}

describe('every metadata-changing command says how to publish, and the printed command works', () => {
  const cases: [string, string[]][] = [
    [
      'delegate add',
      ['delegate', 'add', 'proj', '--key', 'file:keys/targets-1.pem', '--paths', 'proj/*', '-w', 'repo'],
    ],
    [
      'key rotate (delegated)',
      ['key', 'rotate', 'proj', '--add-key', 'repo/keys/snapshot-1.pem.pub.json', '-w', 'repo'],
    ],
    [
      'delegate bins',
      ['delegate', 'bins', '--count', '2', '--key', 'file:keys/targets-1.pem', '--from', 'proj', '-w', 'repo'],
    ],
    ['delegate remove', ['delegate', 'remove', 'proj', '-w', 'repo']],
    ['root rotate', ['root', 'rotate', '--threshold', '1', '-w', 'repo']],
  ];
  it.each(cases)('%s', (_name, args) => {
    const r = runCli(args, { cwd: base });
    expect(r.status).toBe(0);
    const dest = join(base, `www-${args.slice(0, 2).join('-')}`);
    const published = runPrintedPublish(r.stdout, dest, base);
    expect(published.status).toBe(0);
    // what the command just wrote is at DEST: its newest timestamp, byte for byte
    expect(readFileSync(join(dest, 'metadata', 'timestamp.json'))).toEqual(
      readFileSync(join(ws, 'metadata', 'timestamp.json')),
    );
  });

  it('ceremony finalize points at its bundle', () => {
    const req = join(base, 'targets-v.json');
    expect(runCli(['ceremony', 'start', '--role', 'targets', '-w', ws, '--request-out', req, '--json']).status).toBe(0);
    const fp = (runCli(['ceremony', 'status', req, '--json']).json() as { fingerprint: string }).fingerprint;
    const key = `file:${join(ws, 'keys', 'targets-1.pem')}`;
    expect(runCli(['ceremony', 'sign', req, '--key', key, '--fingerprint', fp, '--yes', '--json']).status).toBe(0);
    const bundle = join(base, 'finalized');
    const r = runCli(['ceremony', 'finalize', req, '--bundle-out', bundle, '-w', ws]);
    expect(r.status).toBe(0);
    const dest = join(base, 'www-finalize');
    expect(runPrintedPublish(r.stdout, dest, base).status).toBe(0);
    expect(readdirSync(join(dest, 'metadata')).sort()).toEqual(readdirSync(join(bundle, 'metadata')).sort());
  });
});

describe('the printed publish line is one shell command, whatever the folder is called', () => {
  it('a workspace named with a space: the line runs in sh as copied', () => {
    const spaced = join(base, 'my repo');
    expect(runCli(['init', '-w', 'my repo', '--offline', 'none', '--json'], { cwd: base }).status).toBe(0);
    const r = runCli(['refresh', '-w', 'my repo'], { cwd: base });
    expect(r.status).toBe(0);
    const line = /tufsign publish .* DEST/.exec(r.stdout)?.[0] ?? '';
    const dest = join(base, 'www spaced');
    const sh = spawnSync(
      'sh',
      ['-c', `tufsign() { "${process.execPath}" "${BIN}" "$@"; }\n${line.replace(/DEST$/, `'${dest}'`)}`],
      { cwd: base, encoding: 'utf8' },
    );
    expect(sh.status).toBe(0);
    expect(readFileSync(join(dest, 'metadata', 'timestamp.json'))).toEqual(
      readFileSync(join(spaced, 'metadata', 'timestamp.json')),
    );
  });
});

describe('people never see internal rule IDs; --json keeps them', () => {
  it('verify of a tampered workspace', () => {
    const tampered = join(base, 'tampered');
    cpSync(ws, tampered, { recursive: true });
    const file = join(tampered, 'metadata', 'timestamp.json');
    const md = JSON.parse(readFileSync(file, 'utf8')) as { signed: { version: number } };
    md.signed.version = 99;
    writeFileSync(file, JSON.stringify(md));
    const human = runCli(['verify', '-w', tampered]);
    expect(human.status).toBe(exitCodeFor('VERIFY_FAILED'));
    expect(human.stdout).toContain('✗');
    expect(human.stdout + human.stderr).not.toMatch(/\b(SPEC|BAD|VULN)-\d+/);
    const json = envelope(runCli(['verify', '-w', tampered, '--json']), 'VERIFY_FAILED');
    expect(JSON.stringify(json['details'])).toMatch(/\bSPEC-\d+/);
  });
});

describe('a mistyped subcommand where a file may also stand', () => {
  it('`ceremony strat` suggests `ceremony start`; a path is still read as a request file', () => {
    const e = envelope(runCli(['ceremony', 'strat', '--json'], { cwd: base }), 'USAGE');
    expect(e['details']).toEqual({ command: 'ceremony strat', didYouMean: 'ceremony start' });
    // a name with a dot is a file name: read (and here missing), as before
    envelope(runCli(['ceremony', 'missing.tufsign-request.json', '--json'], { cwd: base }), 'TARGET_NOT_FOUND');
  });
});

describe('autocomplete is a tufsign command', () => {
  const env = { HOME: join(base, 'home'), XDG_CACHE_HOME: join(base, 'home', '.cache') };
  it('--json gives one object naming the set-up line; a shell it does not know is the USAGE envelope', () => {
    const r = runCli(['autocomplete', 'bash', '--json'], { env });
    expect(r.status).toBe(0);
    const out = r.json() as { shell: string; setup: string; cacheDir: string };
    expect(out.shell).toBe('bash');
    expect(out.setup).toContain('autocomplete script bash');
    expect(existsSync(join(out.cacheDir, 'bash_setup'))).toBe(true);
    envelope(runCli(['autocomplete', 'fish', '--json'], { env }), 'USAGE');
    expect(runCli(['autocomplete', 'fish'], { env }).stderr).toMatch(/^error USAGE: /);
  });
});

describe('a PEM key file named as a path', () => {
  it('is refused with the URI to use, and that URI works', () => {
    const pem = join(ws, 'keys', 'targets-1.pem');
    const e = envelope(runCli(['key', 'show', pem, '--json']), 'KEY_URI_INVALID');
    expect(e['suggestion']).toContain(`file:${pem}`);
    expect(runCli(['key', 'show', `file:${pem}`, '--json']).status).toBe(0);
  });
});

describe("oclif's parse errors, for people", () => {
  it('one line per problem, flags named as typed, no note about repeatable flags unless one was given', () => {
    const two = runCli(['delegate', 'add', 'x', '-w', ws]);
    expect(two.status).toBe(exitCodeFor('USAGE'));
    const first = two.stderr.split('\n')[0] ?? '';
    expect(first).toMatch(/^error USAGE: /);
    expect(first).toContain('--key');
    expect(first).toContain('--paths');
    expect(first).not.toContain('::');
    const arg = runCli(['sign', '-w', ws]);
    expect(arg.stderr.split('\n').filter((l) => l.startsWith('error ')).length).toBe(1);
    expect(arg.stderr).toContain('ROLE');
    expect(arg.stderr).not.toMatch(/allows? multiple values/);
    // a repeatable flag that took the argument: the suggestion says so
    const greedy = envelope(
      runCli(['key', 'rotate', '--add-key', 'a.pub.json', 'targets', '-w', ws, '--json']),
      'USAGE',
    );
    expect(greedy['suggestion']).toContain('--add-key');
  });
});
