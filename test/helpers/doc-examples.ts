/**
 * What the doc-example suites share: the fenced blocks of README.md and docs/, a `tufsign` on PATH that is the
 * built CLI, and a bash runner. test/e2e/doc-examples.test.ts runs the ` ```sh ` blocks,
 * test/e2e/doc-examples-yubikey.test.ts the ` ```sh yubikey ` blocks on the virtual card.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT } from './cli';
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

/**
 * docs/commands.md examples that name Alice's YubiKey (serial 12345678): test/e2e/doc-examples-yubikey.test.ts
 * runs them as written on the virtual card right after docs/yubikey.md, in the folder its examples left
 * (alice.pub.json, 9c.pem, f9.pem, the repository `repo` whose root keys are on the cards), each in a subshell
 * after its `before`; test/e2e/command-examples.test.ts counts them as run.
 */
export const ON_VIRTUAL_CARDS: Record<string, { before?: string }> = {
  'tufsign key attest alice.pub.json': {},
  "tufsign key attest 'yubikey:serial=12345678;slot=9c' --policy root": {},
  'tufsign key attest --key-cert 9c.pem --device-cert f9.pem --serial 12345678': {},
  "tufsign key import 'yubikey:serial=12345678;slot=9c' --json": {},
  "tufsign key export 'yubikey:serial=12345678;slot=9c' --out alice.pub.json --owner alice": {
    before: 'mkdir -p export && cd export',
  },
  "tufsign key attach 'yubikey:serial=12345678;slot=9c' -w myrepo": { before: 'ln -sfn repo myrepo' },
};
