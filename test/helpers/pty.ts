/**
 * The CLI on a real pseudo-terminal, typing its answers (test/fixtures/pty-drive.py): the suites that check
 * prompts, secrets that never echo and Ctrl-C. pty-drive runs on python3: under CI=true a missing one fails the
 * run, elsewhere the blocks that need it are skipped with a message (requireComponent).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, ROOT, SYSTEM_PYTHON } from './cli';
import { hasFile, requireComponent } from './requirements';

export const PTY_DRIVE = join(ROOT, 'test', 'fixtures', 'pty-drive.py');
export const CTRL_C = '\u0003';

/** What to type: [regex, text] pairs, in order; each text is typed once the terminal's output matches its regex. */
export type PtyScript = [string, string][];

export interface PtyRun {
  /** the command's exit code (124: pty-drive timed out waiting for a prompt; -1: killed) */
  status: number;
  /** everything the terminal showed: the command's stdout and stderr together, and the echo of what was typed */
  transcript: string;
  /** pty-drive's own messages (the prompt it waited for in vain) */
  stderr: string;
}

/**
 * `tufsign ARGS` on a pseudo-terminal in `cwd`, typing `script`. The environment is this process's with NO_COLOR=1
 * and no secret (TUFSIGN_PASSPHRASE, TUFSIGN_OFFLINE_PASSPHRASE, TUFSIGN_PIN: the command must ask for them),
 * then `env` on top (a variable set to undefined is removed).
 */
export function runOnPty(
  script: PtyScript,
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): PtyRun {
  const env: Record<string, string | undefined> = {
    ...process.env,
    NO_COLOR: '1',
    TUFSIGN_PASSPHRASE: undefined,
    TUFSIGN_OFFLINE_PASSPHRASE: undefined,
    TUFSIGN_PIN: undefined,
    ...options.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const r = spawnSync(SYSTEM_PYTHON, [PTY_DRIVE, JSON.stringify(script), '--', process.execPath, BIN, ...args], {
    cwd: options.cwd,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status ?? -1, transcript: r.stdout, stderr: r.stderr };
}

type Describe = (title: string, fn: () => void) => void;

/**
 * `within` (describe, describeSoftHsm, …) for a block whose tests drive the CLI on a pseudo-terminal (runOnPty):
 * without python3 it fails the run under CI=true, and is skipped elsewhere (requireComponent).
 */
export const needingPty =
  (within: Describe): Describe =>
  (title, fn) => {
    if (requireComponent(`python3 (${SYSTEM_PYTHON}, for test/fixtures/pty-drive.py)`, hasFile(SYSTEM_PYTHON)))
      within(title, fn);
    else describe.skip(title, fn);
  };

/** describe() for a block whose tests drive the CLI on a pseudo-terminal. */
export const describeOnPty = needingPty(describe);
