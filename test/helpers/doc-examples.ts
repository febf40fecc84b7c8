/**
 * What the doc-example suites share: the fenced blocks of README.md and docs/, a `tufsign` on PATH that is the
 * built CLI, and a bash runner. test/e2e/doc-examples.test.ts runs the ` ```sh ` blocks,
 * test/e2e/doc-examples-yubikey.test.ts the ` ```sh yubikey ` blocks on the virtual card.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor, type ErrorCode } from '../../src/errors';
import { BIN, ROOT, SYSTEM_PYTHON } from './cli';
import { PTY_DRIVE } from './pty';
import { tempDir } from './tmp';

export interface Block {
  file: string;
  line: number;
  info: string;
  body: string;
}

export function fencedBlocks(file: string, markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^([ \t]*)```(.*)$/.exec(lines[i] ?? '');
    if (open === null) continue;
    const indent = open[1] ?? '';
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[j] ?? ''); j++)
      body.push((lines[j] ?? '').startsWith(indent) ? (lines[j] ?? '').slice(indent.length) : (lines[j] ?? ''));
    out.push({ file, line: i + 1, info: (open[2] ?? '').trim(), body: body.join('\n') });
    i = j;
  }
  return out;
}

/** README.md and every docs/*.md (the runbooks have their own test). */
export const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

export function docBlocks(): Block[] {
  return DOCS.flatMap((f) => fencedBlocks(f, readFileSync(join(ROOT, f), 'utf8')));
}

/** A folder holding `tufsign`: the built CLI, as an installed one is called. */
export function tufsignShim(): string {
  const shim = join(tempDir('tufsign-doc-shim-'), 'bin');
  mkdirSync(shim, { recursive: true });
  writeFileSync(join(shim, 'tufsign'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(shim, 'tufsign'), 0o755);
  return shim;
}

export interface ScriptResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a bash script. It gets a session of its own (no controlling terminal), so a tool that prompts reads
 * what the test types on its stdin, never the terminal of whoever runs jest.
 */
export function runScript(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  input: string,
  timeoutMs = 170_000,
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env, detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** The example lines of docs/commands.md (each command's `examples`), in order, the `$ ` prompt taken off. */
export function commandsMdExamples(): string[] {
  const out: string[] = [];
  let inExamples = false;
  for (const line of readFileSync(join(ROOT, 'docs', 'commands.md'), 'utf8').split('\n')) {
    if (line === 'EXAMPLES') inExamples = true;
    else if (line.startsWith('```')) inExamples = false;
    else if (inExamples && line.trim() !== '') out.push(line.trim().replace(/^\$ /, ''));
  }
  return out;
}

/** How a docs/commands.md example on the virtual cards runs, beyond "as written, exit 0". */
export interface CardExample {
  /** shell run first, in the example's subshell (it may `cd`; what it sets stays set) */
  before?: string;
  /** shell run after it, in the same subshell, that checks what it did */
  after?: string;
  /** the example runs on a pseudo-terminal and this shell prints the answers a person types (onPty) */
  typed?: string;
  /**
   * the example carries one particular request's fingerprint (`literal`): as written it is refused
   * (FINGERPRINT_MISMATCH, nothing in its folder or `watch` changed), then it runs with the fingerprint of the
   * request `of` in the literal's place (withRequestFingerprint)
   */
  fingerprint?: { literal: string; of: string; watch: string };
  /** as written it is refused with this code, and nothing in its folder changes (refusedUnchanged) */
  refused?: ErrorCode;
}

/**
 * docs/commands.md examples that name Alice's YubiKey (serial 12345678): test/e2e/doc-examples-yubikey.test.ts
 * runs them as written on the virtual card right after docs/yubikey.md, in the folder its examples left
 * (alice.pub.json, 9c.pem, f9.pem, the repository `repo` whose root keys are on the cards), in order, each in
 * a subshell after its `before`, with /media/usb moved into that folder; test/e2e/command-examples.test.ts
 * counts them as run.
 */
export const ON_VIRTUAL_CARDS: Record<string, CardExample> = {
  'tufsign key attest alice.pub.json': {},
  "tufsign key attest 'yubikey:serial=12345678;slot=9c' --policy root": {},
  'tufsign key attest --key-cert 9c.pem --device-cert f9.pem --serial 12345678': {},
  "tufsign key import 'yubikey:serial=12345678;slot=9c' --json": {},
  "tufsign key export 'yubikey:serial=12345678;slot=9c' --out alice.pub.json --owner alice": {
    before: 'mkdir -p export && cd export',
  },
  // slot 9c holds the key docs/yubikey.md generated: generating into it again is refused, nothing is written
  // (no public key file, no journal) and the slot still holds that key
  'tufsign key generate --backend yubikey --serial 12345678 --slot 9c --touch-policy always --public-out alice.pub.json':
    {
      before: `mkdir -p again && cd again
SLOT=$(tufsign key import 'yubikey:serial=12345678;slot=9c' --json | jq -r .keyid)
test "$SLOT" = "$(jq -r .keyid ../alice.pub.json)"`,
      refused: 'SLOT_IN_USE',
      after: `test "$(tufsign key import 'yubikey:serial=12345678;slot=9c' --json | jq -r .keyid)" = "$SLOT"`,
    },
  // the organizer renews root (its keys: both cards' 9c, offline: the workspace signs with neither, so the request
  // carries no signature) and takes the request to Alice on a stick; the guided flow finds her YubiKey's key in
  // it, she types the fingerprint read out to her, confirms the first contact (this machine has pinned no root
  // of "repo") and the signature; the PIN comes from TUFSIGN_PIN
  "tufsign ceremony /media/usb/root-v2.tufsign-request.json --key 'yubikey:serial=12345678;slot=9c'": {
    before: `tufsign ceremony start -w repo --role root --expires 365d --request-out usb/root-v2.tufsign-request.json >/dev/null
tufsign ceremony status usb/root-v2.tufsign-request.json --json | jq -e '[.status.roles[].sides[].signed[]] == []' >/dev/null
mkdir -p keyholder && cp usb/root-v2.tufsign-request.json keyholder/`,
    typed: `jq -nc --arg fp "$(jq -r .fingerprint usb/root-v2.tufsign-request.json)" '[["Type the fingerprint", ($fp + "\\r")], ["First contact", "y\\r"], ["Sign root v2", "y\\r"]]'`,
    after: signedBy('usb/root-v2.tufsign-request.json', 'alice.pub.json'),
  },
  // her own copy of the same request, signed with `ceremony sign`: as written (another request's fingerprint)
  // refused before the card is opened; with this request's fingerprint it asks for the confirmation on the
  // terminal (the root is pinned now) and signs
  "tufsign ceremony sign root-v2.tufsign-request.json --key 'yubikey:serial=12345678;slot=9c' --fingerprint 7K3M-QX2A-9BDE-H4TW-R8NC":
    {
      before: 'cd keyholder',
      fingerprint: {
        literal: '7K3M-QX2A-9BDE-H4TW-R8NC',
        of: 'root-v2.tufsign-request.json',
        watch: '"$HOME/.tufsign"',
      },
      typed: `jq -nc '[["Sign root v2", "y\\r"]]'`,
      after: signedBy('root-v2.tufsign-request.json', '../alice.pub.json'),
    },
  // last: from here on the workspace signs root with Alice's card itself (no request goes to her for it)
  "tufsign key attach 'yubikey:serial=12345678;slot=9c' -w myrepo": { before: 'ln -sfn repo myrepo' },
};

/**
 * Shell: the key of public key file `pub` signed root v2 in `request` (ceremony status counts it on the new
 * root's side), and the request's transcript ends with that signature, made after the fingerprint was compared.
 */
export function signedBy(request: string, pub: string): string {
  return `K=$(jq -r .keyid ${pub})
tufsign ceremony status ${request} --json | jq -e --arg k "$K" '.status.roles[0] | .role == "root" and .version == 2 and (.sides[] | select(.side == "new") | .signed | index($k))' >/dev/null
jq -e --arg k "$K" '.transcript[-1] | .event == "signed" and .keyid == $k and .fingerprint_check == "compared"' ${request} >/dev/null`;
}

/**
 * An example that carries one particular request's fingerprint (`literal`, which no request made here has), with
 * the fingerprint of the request file `request` in its place, read when the line runs and written in the
 * literal's form (dashed upper case, or bare lower case). An example that no longer carries the literal exactly
 * once throws: the substitution is tied to the example's text.
 */
export function withRequestFingerprint(example: string, literal: string, request: string): string {
  const at = example.indexOf(literal);
  if (at < 0 || example.includes(literal, at + 1))
    throw new Error(`the example does not carry the fingerprint ${literal} once: ${example}`);
  const read = `jq -r .fingerprint ${request}`;
  const form = /^[0-9A-Z]{4}(-[0-9A-Z]{4})+$/.test(literal)
    ? read
    : /^[0-9a-z]+$/.test(literal)
      ? `${read} | tr -d - | tr A-Z a-z`
      : undefined;
  if (form === undefined) throw new Error(`not a fingerprint in a form the docs write: ${literal}`);
  return `${example.slice(0, at)}"$(${form})"${example.slice(at + literal.length)}`;
}

/**
 * Shell (bash, run in the example's folder; `set -e` or not) that runs `line` on a line of its own and fails unless it is refused
 * with error `code` — its exit code, and `error CODE:` in its output — and leaves the folder and `watch` (other
 * folders it could write to, shell words) byte for byte as they were: no file added, removed or changed.
 */
export function refusedUnchanged(line: string, code: ErrorCode, watch = ''): string {
  const exit = exitCodeFor(code);
  return `state() { find . ${watch} 2>/dev/null | sort; find . ${watch} -type f -exec sha256sum {} + 2>/dev/null | sort; }
was=$(state); out=$(mktemp); rc=0
{
${line}
} >"$out" 2>&1 || rc=$?
test "$rc" = ${exit} || { echo "exit $rc, want ${exit} (${code})" >&2; cat "$out" >&2; exit 1; }
grep -q '^error ${code}:' "$out" || { echo "no ${code} in its output" >&2; cat "$out" >&2; exit 1; }
test "$(state)" = "$was" || { echo "it changed files:" >&2; diff <(echo "$was") <(state) >&2; exit 1; }
rm -f "$out"`;
}

/** test/fixtures/pty-drive.py: a command run on a pseudo-terminal, typing its answers. */
export const PTY_ENV = { PTY_PYTHON: SYSTEM_PYTHON, PTY_DRIVE };

/**
 * Shell that runs `line` (bash) on a pseudo-terminal, typing what `typed` (shell run just before, in the same
 * folder) prints as pty-drive's JSON ([prompt regex, text] pairs); the terminal's output goes to stdout.
 * Needs PTY_ENV in the environment.
 */
export function onPty(line: string, typed: string): string {
  return `"$PTY_PYTHON" "$PTY_DRIVE" "$(${typed})" -- bash -c ${shellQuote(line)}`;
}

/** One word for bash, as written. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
