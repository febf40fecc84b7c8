/** Run the built CLI (`bin/run.js`) as a user would, with a controlled environment. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { underVcardLock, VCARD_LOCK } from './vcard-lock';

export const ROOT = join(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'run.js');
export const TEST_PASSPHRASE = 'test-only-passphrase';
/** The passphrase of the offline key files init generates (root by default, ADR 0011): a secret of their own. */
export const TEST_OFFLINE_PASSPHRASE = 'test-only-offline-passphrase';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
  json: () => any;
}

/**
 * Each run gets its own empty keyholder trust home (TUFSIGN_TRUST_HOME) unless the test names one: a pin left
 * by one test never anchors another test's repository of the same name. A run that talks to PC/SC (`card`:
 * `tufsign devices`, which asks pcscd) runs under `flock VCARD_LOCK`, unless this run already holds that lock.
 */
export function runCli(
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string | undefined>;
    input?: string;
    timeoutMs?: number;
    card?: true;
  } = {},
): CliResult {
  const trustHome = mkdtempSync(join(tmpdir(), 'tufsign-trust-'));
  const env: Record<string, string | undefined> = {
    ...process.env,
    TUFSIGN_PASSPHRASE: TEST_PASSPHRASE,
    TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE,
    NO_COLOR: '1',
    TUFSIGN_TRUST_HOME: trustHome,
    ...options.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const locked = options.card === true && !underVcardLock();
  const lock = locked ? [VCARD_LOCK, process.execPath] : [];
  const r = spawnSync(locked ? 'flock' : process.execPath, [...lock, BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
  });
  return {
    status: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    json: () => JSON.parse(r.stdout),
  };
}

/** Python with Debian's securesystemslib and cryptography (not a pyenv shim). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
