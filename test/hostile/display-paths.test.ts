/**
 * ADR 0019 as an auditor tries it: validly signed metadata (or a signing request) names target paths with a
 * right-to-left override, a C1 control, zero-width characters and an ANSI sequence. tufsign accepts the
 * repository (the spec allows any path) but never shows such a path raw: `targets list`, `verify`, `status`,
 * a request's review and every error escape it; `--json` carries the exact value with `\uXXXX` escapes; and
 * `targets add` refuses to create one (BAD-65), writing nothing.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContext } from '../../src/cli/context';
import { createRequest, serializeRequest } from '../../src/ceremony/request';
import { exitCodeFor } from '../../src/errors';
import { readRequestFile } from '../../src/repository/requests';
import { addPreparedTargets } from '../../src/repository/targets';
import { Workspace } from '../../src/repository/workspace';
import { TargetFile, type Targets, type Metadata } from '../../src/tuf/metadata';
import type { TargetPath } from '../../src/tuf/paths';
import { runCli, TEST_OFFLINE_PASSPHRASE, TEST_PASSPHRASE } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

jest.setTimeout(180_000);

/** Characters a terminal acts on, or that reorder or hide what is read (newline excepted: output has lines). */
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/u;
/** Reads as "docs/invoiceexe.pdf"; carries a NEL, a zero-width space and a conceal sequence (ESC is C0). */
const RLO = 'docs/invoice\u202efdp.exe';
const MIXED = 'notes\u0085v2\u200b.txt';
const SHOWN_RLO = 'docs/invoice\\u{202e}fdp.exe';
const SHOWN_MIXED = 'notes\\x85v2\\u{200b}.txt';

const base = tempDir('tufsign-display-');
const ws = join(base, 'ws');
const data = Buffer.from('hostile\n');

function plainForTerminal(text: string): void {
  expect(ACTIVE.exec(text)).toBeNull();
}

beforeAll(async () => {
  expect(runCli(['init', '-w', ws, '--json']).status).toBe(0);
  // A signer with another tool (python-tuf allows any path) published these: plant them through the library,
  // which trusts its caller's parsed paths, exactly as signed metadata from elsewhere would carry them.
  const ctx = createContext({
    json: true,
    yes: true,
    env: { ...process.env, TUFSIGN_PASSPHRASE: TEST_PASSPHRASE, TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE },
    stderr: () => undefined,
  });
  try {
    const w = Workspace.open(ws);
    const r = await addPreparedTargets(
      w,
      [RLO, MIXED].map((p) => ({ path: p as TargetPath, data, targetFile: TargetFile.fromData(data) })),
      ctx.signingContext(w.dir, w),
    );
    expect(r.complete).toBe(true);
  } finally {
    await ctx.close();
  }
});

describe('a validly signed repository with paths that read differently', () => {
  it('verify passes (nothing gratuitously rejected) and names each such path, escaped', () => {
    const human = runCli(['verify', '-w', ws]);
    expect(human.status).toBe(0);
    plainForTerminal(human.stdout + human.stderr);
    const notes = human.stdout.split('\n').filter((l) => l.includes('note: target'));
    expect(notes.join('\n')).toContain(SHOWN_RLO);
    expect(notes.join('\n')).toContain(SHOWN_MIXED);
    expect(notes.join('\n')).toContain('U+202E');
    const json = runCli(['verify', '-w', ws, '--json']);
    expect(json.json().ok).toBe(true);
    plainForTerminal(json.stdout);
  });

  it('targets list shows them escaped; --json carries the exact paths', () => {
    const human = runCli(['targets', 'list', '-w', ws]);
    expect(human.status).toBe(0);
    plainForTerminal(human.stdout);
    expect(human.stdout).toContain(SHOWN_RLO);
    expect(human.stdout).toContain(SHOWN_MIXED);
    const json = runCli(['targets', 'list', '-w', ws, '--json']);
    plainForTerminal(json.stdout);
    expect(json.stdout).toContain('\\u202e');
    const paths = JSON.stringify(json.json());
    expect(paths).toContain(RLO);
    expect(paths).toContain(MIXED);
  });

  it('status shows nothing raw', () => {
    const r = runCli(['status', '-w', ws]);
    expect(r.status).toBe(0);
    plainForTerminal(r.stdout + r.stderr);
  });

  it('targets add refuses a new such path (BAD-65) with one escaped error line, and writes nothing', () => {
    const file = join(base, 'new.txt');
    writeFileSync(file, 'new\n');
    const before = readFileSync(join(ws, 'metadata', 'timestamp.json'));
    for (const path of [`${RLO}2`, 'a\u0085b', 'app\u200b.tar.gz', 'x\u2067y\u2069']) {
      const r = runCli(['targets', 'add', '-w', ws, file, '--path', path]);
      expect(r.status).toBe(exitCodeFor('PATH_UNSAFE'));
      plainForTerminal(r.stderr + r.stdout);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('error PATH_UNSAFE'))).toHaveLength(1);
      const j = runCli(['targets', 'add', '-w', ws, file, '--path', path, '--json']);
      plainForTerminal(j.stdout);
      expect(j.json().error).toMatchObject({ code: 'PATH_UNSAFE', path, rule: expect.stringContaining('BAD-65') });
    }
    const long = runCli(['targets', 'add', '-w', ws, file, '--path', `d/${'x'.repeat(200)}`, '--json']);
    expect(long.json().error).toMatchObject({ code: 'PATH_UNSAFE', rule: expect.stringContaining('BAD-66') });
    expect(readFileSync(join(ws, 'metadata', 'timestamp.json'))).toEqual(before);
  });

  it('a signing request that adds such a path shows it escaped in the review a keyholder reads', () => {
    // the targets key is elsewhere: sign --bump writes a request; a hostile organizer adds a path to it
    renameSync(join(ws, 'keys', 'targets-1.pem'), join(base, 'targets-1.pem'));
    try {
      const reqFile = join(ws, 'targets-v3.tufsign-request.json');
      const made = runCli(['sign', 'targets', '-w', ws, '--bump', '--request-out', reqFile, '--json']);
      expect(made.status).toBe(0);
      const req = readRequestFile(reqFile);
      const role = req.roles[0]!;
      const md = role.metadata as Metadata<Targets>;
      md.signed.targets.set('evil\u202eexe.txt', TargetFile.fromData(Buffer.from('evil\n')));
      md.signed.targets.set('gone\u0085', TargetFile.fromData(Buffer.from('x')));
      const input: Parameters<typeof createRequest>[0] = {
        repository: req.repository,
        purpose: 'routine re-sign\u202e (looks harmless)',
        base: req.base,
        roles: [role.trusted === undefined ? { metadata: md } : { metadata: md, trusted: role.trusted }],
        keyholders: req.keyholders,
        now: new Date(),
        tool: 'hostile organizer',
      };
      if (req.trustedRoot !== undefined) input.trustedRoot = req.trustedRoot;
      const evilReq = join(base, 'evil.tufsign-request.json');
      writeFileSync(evilReq, serializeRequest(createRequest(input)));
      const shown = runCli(['ceremony', 'status', evilReq, '-w', ws]);
      expect(shown.status).toBe(0);
      plainForTerminal(shown.stdout + shown.stderr);
      expect(shown.stdout).toContain('+ evil\\u{202e}exe.txt');
      expect(shown.stdout).toContain('+ gone\\x85');
      expect(shown.stdout).toContain('routine re-sign\\u{202e}');
      const sha = createHash('sha256').update(Buffer.from('evil\n')).digest('hex');
      expect(shown.stdout).toContain(sha);
    } finally {
      renameSync(join(base, 'targets-1.pem'), join(ws, 'keys', 'targets-1.pem'));
    }
  });
});
