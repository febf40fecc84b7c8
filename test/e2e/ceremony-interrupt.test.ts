/**
 * Pulled USB stick / Ctrl-C / power loss: a signing process killed at any
 * point leaves the request as it was or with the complete new signature,
 * never half-written. And the guided flow driven through its real prompts.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRequestFile } from '../../src/repository/requests';
import { requireIntact } from '../../src/ceremony';
import { BIN, TEST_OFFLINE_PASSPHRASE, TEST_PASSPHRASE } from '../helpers/cli';
import { copyWorkspace, fingerprintOf, keyholder, ok, rootToKeyholderArgs, tmp } from '../helpers/ceremony';
import { describeOnPty, runOnPty, type PtyRun, type PtyScript } from '../helpers/pty';

jest.setTimeout(240_000);

const base = tmp();
const org = join(base, 'org');
const req = 'root-v2.tufsign-request.json';
let alice: ReturnType<typeof keyholder>;
let original: Buffer;

beforeAll(() => {
  ok(['init', org]);
  alice = keyholder(base, 'alice');
  copyWorkspace(org, alice.dir);
  ok(rootToKeyholderArgs(org, alice.pub));
  original = readFileSync(join(org, req));
});

function signAndKillAfter(ms: number): Promise<{ killed: boolean; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [BIN, 'ceremony', 'sign', req, '--key', alice.uri, '--fingerprint', fingerprintOf(req, alice.dir), '--yes'],
      {
        cwd: alice.dir,
        env: {
          ...process.env,
          TUFSIGN_PASSPHRASE: TEST_PASSPHRASE,
          TUFSIGN_OFFLINE_PASSPHRASE: TEST_OFFLINE_PASSPHRASE,
        },
        stdio: 'ignore',
      },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', ms: Date.now() - started });
    });
  });
}

describe('a kill during signing', () => {
  it('leaves a valid request: unchanged, or with the complete new signature', async () => {
    writeFileSync(join(alice.dir, req), original);
    const full = await signAndKillAfter(60_000);
    expect(full.killed).toBe(false);
    const duration = full.ms;
    // kill at spread-out points, densest near the end where the file is written
    const points = [0.1, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.96, 0.98, 1.0, 1.02, 1.05].map((f) =>
      Math.round(duration * f),
    );
    const outcomes: string[] = [];
    for (const ms of points) {
      writeFileSync(join(alice.dir, req), original);
      const r = await signAndKillAfter(ms);
      const bytes = readFileSync(join(alice.dir, req));
      const parsed = readRequestFile(join(alice.dir, req));
      requireIntact(parsed);
      const sigs = parsed.roles[0]!.metadata.signatures.size;
      if (bytes.equals(original)) outcomes.push(`${ms}ms ${r.killed ? 'killed' : 'done'}: unchanged`);
      else {
        // the previous-root signature was there from the start; the new one is complete and verified
        expect(sigs).toBe(2);
        outcomes.push(`${ms}ms ${r.killed ? 'killed' : 'done'}: signed`);
      }
    }
    expect(outcomes.some((o) => o.includes('killed: unchanged'))).toBe(true);
    // no temp file is mistaken for a request by the guided flow (they are hidden, never *.tufsign-request.json)
    expect(readdirSync(alice.dir).filter((f) => f.endsWith('.tufsign-request.json'))).toEqual([req]);
  });
});

describeOnPty('the guided flow on a real terminal', () => {
  // no passphrase in the environment: the flow must ask for it on the terminal
  const drive = (steps: PtyScript, args: string[]): PtyRun => runOnPty(steps, args, { cwd: alice.dir });

  it('finds the request in the current folder, shows the diff and fingerprint, refuses a wrong fingerprint', () => {
    copyFileSync(join(org, req), join(alice.dir, req));
    const { status, transcript } = drive(
      [['Type the fingerprint', 'AAAA-BBBB-CCCC-DDDD-EEEE\r']],
      ['ceremony', '--key', alice.uri],
    );
    expect(transcript).toContain('FINGERPRINT');
    expect(transcript).toMatch(/\+ key [0-9a-f]{12}… ed25519 \(label "alice" from the request, unverified\)/);
    // the prompt does not give the answer away
    const fingerprint = JSON.parse(original.toString()).fingerprint as string;
    expect(transcript.split('\n').find((l) => l.includes('Type the fingerprint'))).not.toContain(fingerprint);
    expect(transcript).toContain('FINGERPRINT_MISMATCH');
    expect(status).toBe(7);
    expect(readFileSync(join(alice.dir, req)).equals(original)).toBe(true);
  });

  it('an empty answer signs nothing', () => {
    const { status, transcript } = drive([['Type the fingerprint', '\r']], ['ceremony', '--key', alice.uri]);
    expect(transcript).toContain('FINGERPRINT_REQUIRED');
    expect(status).toBe(7);
    expect(readFileSync(join(alice.dir, req)).equals(original)).toBe(true);
  });

  it('Ctrl-C at the confirmation: ABORTED, nothing written', () => {
    const fingerprint = JSON.parse(original.toString()).fingerprint as string;
    const { status } = drive(
      [
        ['Type the fingerprint', `${fingerprint}\r`],
        ['Sign root v2', '\u0003'],
      ],
      ['ceremony', '--key', alice.uri],
    );
    expect(status).not.toBe(0);
    expect(readFileSync(join(alice.dir, req)).equals(original)).toBe(true);
  });

  it('signs after the fingerprint, the confirmation and the passphrase; the secret never shows', () => {
    writeFileSync(join(alice.dir, req), original);
    const fingerprint = JSON.parse(original.toString()).fingerprint as string;
    const { status, transcript } = drive(
      [
        ['Type the fingerprint', `${fingerprint.toLowerCase()}\r`],
        ['Sign root v2', 'y\r'],
        ['Passphrase for', `${TEST_PASSPHRASE}\r`],
      ],
      ['ceremony', '--key', alice.uri],
    );
    expect(status).toBe(0);
    expect(transcript).toContain('verified and saved');
    expect(transcript).not.toContain(TEST_PASSPHRASE);
    const after = readRequestFile(join(alice.dir, req));
    expect(after.roles[0]!.metadata.signatures.size).toBe(2);
    expect(after.transcript.at(-1)!.event).toBe('signed');
  });
});
