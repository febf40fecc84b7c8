/**
 * Attack: text from an input file reaches the terminal. A key file's owner, tufsign.json labels, a bundle's
 * manifest and file names, release folder file names, file content quoted in an error, and a `--debug` stack
 * all carry escape sequences, a carriage return, a right-to-left override, a C1 control and a zero-width space.
 * Whatever the command, nothing it prints acts on the terminal: every string goes through src/cli/safe-text.ts
 * (ADR 0019), and `--json` carries the exact value as `\uXXXX` escapes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor } from '../../src/errors';
import { runCli, type CliResult } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

jest.setTimeout(240_000);

/** Characters a terminal acts on, or that reorder or hide what is read (newline excepted: output has lines). */
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/u;
/** Sets the window title, clears the screen, returns to column 0, reverses the text after it. */
const EVIL = '\u001b]0;pwned\u0007\u001b[2J\r\u202eevil\u0085\u200b';

const base = tempDir('tufsign-terminal-');
const ws = join(base, 'ws');

function clean(r: CliResult): CliResult {
  expect(ACTIVE.exec(r.stdout)).toBeNull();
  expect(ACTIVE.exec(r.stderr)).toBeNull();
  return r;
}

beforeAll(() => {
  expect(runCli(['init', '-w', ws, '--json']).status).toBe(0);
});

describe('text from input files never acts on the terminal', () => {
  it('a public key file whose owner and uri carry escapes: key show, human and --json', () => {
    const pub = join(ws, 'keys', 'targets-1.pem.pub.json');
    const doc = JSON.parse(readFileSync(pub, 'utf8'));
    doc.owner = `alice${EVIL}`;
    const evilPub = join(base, 'evil.pub.json');
    writeFileSync(evilPub, JSON.stringify(doc));
    const human = clean(runCli(['key', 'show', evilPub]));
    expect(human.status).toBe(0);
    expect(human.stdout).toContain('alice\\x1b]0;pwned\\x07');
    const json = clean(runCli(['key', 'show', evilPub, '--json']));
    expect(json.json().owner).toBe(`alice${EVIL}`);
    // the same file with the hostile text in a field the parser rejects: the error quotes it, escaped
    writeFileSync(evilPub, JSON.stringify({ ...doc, format: `tufsign-public-key${EVIL}` }));
    const bad = clean(runCli(['key', 'show', evilPub]));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.split('\n').filter((l) => l.startsWith('error '))).toHaveLength(1);
  });

  it('owner labels edited into tufsign.json: key list and status', () => {
    const cfgFile = join(ws, 'tufsign.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as { keys: Record<string, { owner?: string }> };
    for (const k of Object.values(cfg.keys)) k.owner = `bob${EVIL}`;
    writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
    for (const args of [['key', 'list'], ['status']]) {
      const human = clean(runCli([...args, '-w', ws]));
      expect(human.status).toBe(0);
      expect(human.stdout).toContain('bob\\x1b');
    }
    const json = clean(runCli(['key', 'list', '-w', ws, '--json']));
    expect(JSON.stringify(json.json())).toContain(JSON.stringify(`bob${EVIL}`).slice(1, -1));
  });

  it('a bundle whose manifest and files carry such names: verify names them escaped', () => {
    const b = join(base, 'bundle');
    expect(runCli(['root', 'rotate', '-w', ws, '--expires', '400d', '--bundle-out', b, '--json']).status).toBe(0);
    const root = join(ws, 'metadata', '1.root.json');
    // an unlisted file with a bidi/C1 name in the bundle folder
    mkdirSync(join(b, 'targets'), { recursive: true });
    writeFileSync(join(b, 'targets', `notes\u202etxt.exe\u0085`), 'x');
    const unlisted = clean(runCli(['verify', b, '--root', root]));
    expect(unlisted.status).not.toBe(0);
    expect(unlisted.stdout + unlisted.stderr).toContain('notes\\u{202e}txt.exe\\x85');
    // a manifest entry whose path holds a terminal escape: refused, quoted escaped
    const manifestFile = join(b, 'BUNDLE.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    manifest.files.push({ length: 1, new: true, path: `targets/${EVIL}`, sha256: '0'.repeat(64) });
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const listed = clean(runCli(['verify', b, '--root', root, '--json']));
    expect(listed.status).not.toBe(0);
    expect(JSON.stringify(listed.json())).toContain('\\u001b]0;pwned');
  });

  it('release folder file names: accepted names never printed raw, refused ones quoted escaped', () => {
    const app = join(base, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'main.py'), 'print(1)\n');
    writeFileSync(join(app, `read\u202eme\u200b.txt`), 'x');
    const ok = clean(runCli(['add-release', 'demo', '1.0', app, '-w', ws]));
    expect(ok.status).toBe(0);
    const bad = join(base, 'app2');
    mkdirSync(bad);
    writeFileSync(join(bad, `x${EVIL}`), 'x');
    const refused = clean(runCli(['add-release', 'demo', '2.0', bad, '-w', ws]));
    expect(refused.status).toBe(exitCodeFor('PATH_UNSAFE'));
    expect(refused.stderr).toContain('\\x1b]0;pwned');
  });

  it('--debug prints the stack of an error quoting hostile text, escaped', () => {
    const r = clean(
      runCli(['targets', 'add', '-w', ws, join(base, 'app', 'main.py'), '--path', `a${EVIL}`, '--debug']),
    );
    expect(r.status).toBe(exitCodeFor('PATH_UNSAFE'));
    expect(r.stderr).toMatch(/at .*paths/);
  });
});
