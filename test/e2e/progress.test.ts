/**
 * add-release progress with the built CLI: on a real terminal (stderr on a pty, stdout on a pipe) every stage
 * moves, counts and ends its line once; without a terminal one line per stage with counts and seconds; the
 * progress never reaches stdout, and --json writes none. The renderer itself is checked in
 * test/unit/cli/progress.test.ts; this is the wiring, end to end.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, SYSTEM_PYTHON, TEST_OFFLINE_PASSPHRASE, TEST_PASSPHRASE, runCli } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const base = tempDir('tufsign-progress-');
const ws = join(base, 'repo');
const app = join(base, 'app');
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };
const STAGE_LINE = /^(scan|archive|compress|check|hash|patch index|patch diff|patch bzip2|bundle): .* in [\d.]+ s$/;

function writeApp(version: string): void {
  for (let d = 0; d < 20; d++) {
    mkdirSync(join(app, `d${d}`), { recursive: true });
    for (let f = 0; f < 25; f++) writeFileSync(join(app, `d${d}`, `f${f}.txt`), `${version} ${d} ${f}\n`);
  }
  const blob = Buffer.alloc(1_500_000);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) % 251;
  blob.write(version, 1000);
  writeFileSync(join(app, 'core.bin'), blob);
}

beforeAll(() => {
  expect(runCli(['init', ws, '--json']).status).toBe(0);
});

describe('add-release progress', () => {
  it('without a terminal: one line per stage on stderr, with counts and seconds; nothing on stdout', () => {
    writeApp('1.0');
    const r = runCli(['add-release', 'myapp', '1.0', app, '-w', ws], { env: EPOCH });
    expect(r.status).toBe(0);
    const stages = r.stderr.split('\n').filter((l) => STAGE_LINE.test(l));
    expect(stages.map((l) => l.slice(0, l.indexOf(':')))).toEqual(['scan', 'archive', 'compress', 'check', 'bundle']); // hashing happens while the archive is written (streamed, ADR 0005): no stage of its own
    expect(stages[0]).toMatch(/^scan: 522 entries in /); // 20 folders, 500 files, core.bin, the root
    expect(stages[1]).toMatch(/^archive: 501 files, /);
    // the bundle: the archive and the new metadata (no patch for a first release), as BUNDLE.json lists them
    const manifestBytes = readFileSync(join(ws, 'bundles', 'myapp-1.0', 'BUNDLE.json'));
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as { files: { length: number }[] };
    const bytes = manifest.files.reduce((n, f) => n + f.length, manifestBytes.length);
    expect(stages[4]).toBe(
      `bundle: ${manifest.files.length + 1} files, ${(bytes / 1048576).toFixed(1)} MB in ${stages[4]?.split(' in ')[1]}`,
    );
    expect(r.stderr).not.toContain('\r');
    expect(r.stdout.split('\n').filter((l) => STAGE_LINE.test(l))).toEqual([]);
    // --json: the result alone on stdout, no progress on stderr
    writeApp('1.0.1');
    const j = runCli(['add-release', 'myapp', '1.0.1', app, '-w', ws, '--json', '--no-patch'], { env: EPOCH });
    expect(j.status).toBe(0);
    expect(j.json().archive.path).toBe('myapp-1.0.1.tar.gz');
    expect(j.stderr.split('\n').filter((l) => STAGE_LINE.test(l))).toEqual([]);
  });

  it('on a terminal: stages redraw in place, each ends with one final line, the last line ends cleanly', () => {
    writeApp('1.1');
    const r = spawnSync(
      SYSTEM_PYTHON,
      [
        join(ROOT, 'test', 'fixtures', 'pty-stderr.py'),
        '--',
        process.execPath,
        BIN,
        'add-release',
        'myapp',
        '1.1',
        app,
        '-w',
        ws,
      ],
      {
        env: {
          ...process.env,
          ...EPOCH,
          TUFSIGN_PASSPHRASE: TEST_PASSPHRASE,
          TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE,
          NO_COLOR: '1',
        },
        encoding: 'utf8',
        timeout: 150_000,
      },
    );
    expect(r.status).toBe(0);
    const { status, stdout, terminal } = JSON.parse(r.stdout) as { status: number; stdout: string; terminal: string };
    expect(status).toBe(0);
    // the terminal (pty) turns \n into \r\n; the final state of each line is what follows its last \r
    const lines = terminal
      .replace(/\r\n/g, '\n')
      .split('\n')
      .map((l) => l.slice(l.lastIndexOf('\r') + 1).replace(/\x1b\[K/g, ''));
    const finals = lines.filter((l) => STAGE_LINE.test(l)).map((l) => l.slice(0, l.indexOf(':')));
    expect(finals).toEqual(
      expect.arrayContaining(['scan', 'archive', 'patch diff', 'patch bzip2', 'compress', 'bundle']),
    );
    expect(new Set(finals).size).toBe(finals.length); // each stage ends once (compress too)
    // redraws happened in place: at least the scan and the archive were drawn before their final lines
    expect(terminal).toMatch(/\rscan\s+\d+ entries {2}[\d.]+ s/);
    expect(terminal).toMatch(/\rarchive\s+\[[#.]+\]\s+\d+% \d+ files, /);
    expect(terminal).toMatch(/\rbundle\s+\[[#.]+\]\s+\d+% \d+ files, /);
    // no bar is left unfinished: after the last stage line, the output goes on from a fresh line
    expect(lines.filter((l) => /\[[#.]+\]/.test(l))).toEqual([]);
    // stdout (a pipe) got the result and none of the progress
    expect(stdout).toContain('archive myapp-1.1.tar.gz');
    expect(stdout).not.toContain('\r');
    expect(stdout.split('\n').filter((l) => STAGE_LINE.test(l))).toEqual([]);
  });
});
