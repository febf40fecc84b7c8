/** `tufsign init` on a real pseudo-terminal: the questions are asked, answers are used, secrets never echo. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeOnPty, runOnPty, type PtyRun, type PtyScript } from '../helpers/pty';
import { tempDir } from '../helpers/tmp';

const base = tempDir();
const SECRET = 'pty-only-passphrase-42';
const OFFLINE_SECRET = 'pty-only-offline-passphrase-43';

const drive = (steps: PtyScript, args: string[]): PtyRun => runOnPty(steps, args, { cwd: base });

describeOnPty('interactive init', () => {
  it('asks for scheme, thresholds and offline roles, then each new passphrase twice without echoing it', () => {
    const { status, transcript } = drive(
      [
        ['scheme', '\u001b[B\r'], // second choice: ecdsa-sha2-nistp256
        ['root keys must sign', '2\r'],
        ['targets keys must sign', '1\r'],
        ['snapshot keys must sign', '\r'],
        ['timestamp keys must sign', '\r'],
        ['Which roles are offline', '\r'], // the default: root
        ['New passphrase for the new key files \\(keys/', `${SECRET}\r`],
        ['Repeat the passphrase', `${SECRET}\r`],
        ['New passphrase for the new key files \\(offline-keys/', `${OFFLINE_SECRET}\r`],
        ['(Repeat the passphrase[\\s\\S]*){2}', `${OFFLINE_SECRET}\r`],
      ],
      ['init', 'repo'],
    );
    expect(status).toBe(0);
    expect(transcript).not.toContain(SECRET);
    expect(transcript).not.toContain(OFFLINE_SECRET);
    // root is offline by default: its key files apart, under their own passphrase (ADR 0011)
    expect(readdirSync(join(base, 'repo', 'offline-keys')).sort()).toEqual([
      'root-1.pem',
      'root-1.pem.pub.json',
      'root-2.pem',
      'root-2.pem.pub.json',
    ]);
    expect(readdirSync(join(base, 'repo', 'keys')).sort()).toEqual([
      'snapshot-1.pem',
      'snapshot-1.pem.pub.json',
      'targets-1.pem',
      'targets-1.pem.pub.json',
      'timestamp-1.pem',
      'timestamp-1.pem.pub.json',
    ]);
    const root = JSON.parse(readFileSync(join(base, 'repo', 'metadata', '1.root.json'), 'utf8'));
    expect(root.signed.roles.root.threshold).toBe(2);
    expect(new Set(Object.values(root.signed.keys).map((k: any) => k.scheme))).toEqual(
      new Set(['ecdsa-sha2-nistp256']),
    );
  });

  it('refuses when the repeated passphrase differs, and writes nothing', () => {
    const { status } = drive(
      [
        ['scheme', '\r'],
        ['root keys must sign', '\r'],
        ['targets keys must sign', '\r'],
        ['snapshot keys must sign', '\r'],
        ['timestamp keys must sign', '\r'],
        ['Which roles are offline', '\r'],
        ['New passphrase', 'first-passphrase-1\r'],
        ['Repeat the passphrase', 'second-passphrase-2\r'],
      ],
      ['init', 'mismatch'],
    );
    expect(status).toBe(2);
    expect(() => readdirSync(join(base, 'mismatch'))).toThrow();
  });

  it('answering "none" keeps every generated key under keys/, under one passphrase', () => {
    const { status } = drive(
      [
        ['scheme', '\r'],
        ['root keys must sign', '\r'],
        ['targets keys must sign', '\r'],
        ['snapshot keys must sign', '\r'],
        ['timestamp keys must sign', '\r'],
        ['Which roles are offline', 'none\r'],
        ['New passphrase', `${SECRET}\r`],
        ['Repeat the passphrase', `${SECRET}\r`],
      ],
      ['init', 'rehearsal'],
    );
    expect(status).toBe(0);
    expect(readdirSync(join(base, 'rehearsal', 'keys'))).toContain('root-1.pem');
    expect(() => readdirSync(join(base, 'rehearsal', 'offline-keys'))).toThrow();
  });
});
