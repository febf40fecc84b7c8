/**
 * The expiry calendar at fixed times around each role's expiry (TUFSIGN_NOW): EXPIRED marking, hours under a
 * day, the resign-by date (expiry minus the signing window) and `status --check [--within] [--role]` exit codes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor } from '../../src/errors';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

const base = tempDir();
const ws = join(base, 'repo');
// init at 2026-06-01T00:00:00Z: root +365d, targets +90d, snapshot +7d, timestamp +1d (the defaults)
// signing windows by default: half the period, at most 30d → root 30d, targets 30d, snapshot 3.5d, timestamp 12h

const at = (now: string, args: string[] = []) =>
  runCli(['status', '-w', ws, '--json', ...args], { env: { TUFSIGN_NOW: now } });
const roleOf = (out: any, role: string): any =>
  (out.roles ?? out.error.details.status.roles).find((r: any) => r.role === role);

beforeAll(() => {
  expect(runCli(['init', '-w', ws, '--json'], { env: { TUFSIGN_NOW: '2026-06-01T00:00:00Z' } }).status).toBe(0);
});

describe('status', () => {
  it('shows resign-by = expiry minus the signing window for every role', () => {
    const out = at('2026-06-01T01:00:00Z').json();
    const by = Object.fromEntries(
      out.roles.map((r: any) => [r.role, [r.expires, r.signingWindow, r.resignBy, r.state]]),
    );
    expect(by).toEqual({
      root: ['2027-06-01T00:00:00Z', '30d', '2027-05-02T00:00:00Z', 'ok'],
      targets: ['2026-08-30T00:00:00Z', '30d', '2026-07-31T00:00:00Z', 'ok'],
      snapshot: ['2026-06-08T00:00:00Z', '84h', '2026-06-04T12:00:00Z', 'ok'],
      timestamp: ['2026-06-02T00:00:00Z', '12h', '2026-06-01T12:00:00Z', 'ok'],
    });
  });

  it('marks EXPIRED and counts hours under a day, in the table people read', () => {
    const human = runCli(['status', '-w', ws], { env: { TUFSIGN_NOW: '2026-06-01T01:00:00Z' } });
    expect(human.status).toBe(0);
    const line = (role: string): string => human.stdout.split('\n').find((l) => l.startsWith(role + ' ')) ?? '';
    expect(line('timestamp')).toContain('23 h');
    expect(line('snapshot')).toMatch(/\b6 d\b/);
    expect(human.stdout).toContain('RESIGN BY');
    const later = runCli(['status', '-w', ws], { env: { TUFSIGN_NOW: '2026-06-02T00:00:00Z' } });
    expect(later.stdout.split('\n').find((l) => l.startsWith('timestamp '))).toContain('EXPIRED');
    expect(later.stdout.split('\n').find((l) => l.startsWith('snapshot '))).not.toContain('EXPIRED');
    // plain status is a report, never an alert
    expect(later.status).toBe(0);
  });

  it('a signing window set in tufsign.json moves the resign-by date', () => {
    const other = join(base, 'windowed');
    expect(runCli(['init', '-w', other, '--json'], { env: { TUFSIGN_NOW: '2026-06-01T00:00:00Z' } }).status).toBe(0);
    const cfgFile = join(other, 'tufsign.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
    cfg.signing_window = { targets: '45d' };
    writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
    const out = runCli(['status', '-w', other, '--json'], { env: { TUFSIGN_NOW: '2026-06-01T01:00:00Z' } }).json();
    expect(roleOf(out, 'targets')).toMatchObject({ signingWindow: '45d', resignBy: '2026-07-16T00:00:00Z' });
    cfg.signing_window = { targets: 'soon' };
    writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
    expect(runCli(['status', '-w', other, '--json']).json().error.code).toBe('CONFIG_INVALID');
  });
});

describe('status --check', () => {
  const check = (now: string, extra: string[] = []) => at(now, ['--check', ...extra]);

  it('passes while every role is outside its window', () => {
    const r = check('2026-06-01T11:59:59Z');
    expect(r.status).toBe(0);
    expect(r.json().check).toEqual({ ok: true, withinSeconds: 0, due: [] });
  });

  it('alerts RESIGN_DUE from the resign-by moment, ROLE_EXPIRED from the expiry moment', () => {
    const due = check('2026-06-01T12:00:00Z');
    expect(due.status).toBe(exitCodeFor('RESIGN_DUE'));
    expect(due.json().error.code).toBe('RESIGN_DUE');
    expect(due.json().error.details.check.due).toEqual([
      { role: 'timestamp', state: 'due', resignBy: '2026-06-01T12:00:00Z', expires: '2026-06-02T00:00:00Z' },
    ]);
    const lastSecond = check('2026-06-01T23:59:59Z');
    expect(lastSecond.json().error.code).toBe('RESIGN_DUE');
    const expired = check('2026-06-02T00:00:00Z');
    expect(expired.status).toBe(exitCodeFor('ROLE_EXPIRED'));
    expect(expired.json().error.code).toBe('ROLE_EXPIRED');
    expect(roleOf(expired.json(), 'timestamp')).toMatchObject({ expired: true, state: 'expired', secondsLeft: 0 });
  });

  it('snapshot: due at expiry minus 3.5 days, expired at its expiry', () => {
    const roles = ['--role', 'snapshot'];
    expect(check('2026-06-04T11:59:59Z', roles).status).toBe(0);
    expect(check('2026-06-04T12:00:00Z', roles).json().error.code).toBe('RESIGN_DUE');
    expect(check('2026-06-08T00:00:00Z', roles).json().error.code).toBe('ROLE_EXPIRED');
  });

  it('targets and root: --role narrows the check, --within gives lead time before resign-by', () => {
    const offline = ['--role', 'root', '--role', 'targets'];
    // timestamp and snapshot long expired; the offline roles are fine
    expect(check('2026-06-20T00:00:00Z', offline).status).toBe(0);
    const soon = check('2026-06-20T00:00:00Z', [...offline, '--within', '45d']);
    expect(soon.json().error.code).toBe('RESIGN_DUE');
    expect(soon.json().error.details.check.due.map((d: any) => [d.role, d.state])).toEqual([['targets', 'soon']]);
    expect(check('2026-07-31T00:00:00Z', ['--role', 'targets']).json().error.code).toBe('RESIGN_DUE');
    expect(check('2027-05-01T23:59:59Z', ['--role', 'root']).status).toBe(0);
    expect(check('2027-05-02T00:00:00Z', ['--role', 'root']).json().error.code).toBe('RESIGN_DUE');
    expect(check('2027-06-01T00:00:00Z', ['--role', 'root']).json().error.code).toBe('ROLE_EXPIRED');
  });

  it('without --json: the table, then one error line; --within without --check is a usage error', () => {
    const r = runCli(['status', '-w', ws, '--check'], { env: { TUFSIGN_NOW: '2026-06-02T00:00:00Z' } });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('RESIGN BY');
    expect(r.stderr).toMatch(/^error ROLE_EXPIRED: .*timestamp/m);
    expect(runCli(['status', '-w', ws, '--within', '7d', '--json']).json().error.code).toBe('USAGE');
  });

  it('a --within that is not a period is refused before the table is printed', () => {
    const r = runCli(['status', '-w', ws, '--check', '--within', '3x'], {
      env: { TUFSIGN_NOW: '2026-06-01T00:00:00Z' },
    });
    expect(r.status).toBe(exitCodeFor('USAGE'));
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error USAGE/m);
  });
});

describe('TUFSIGN_NOW', () => {
  it('is the one way to set "now", and a value that is not a date is refused, not ignored', () => {
    const bad = runCli(['status', '-w', ws, '--json'], { env: { TUFSIGN_NOW: 'next tuesday' } });
    expect(bad.json().error.code).toBe('USAGE');
    expect(runCli(['verify', '-w', ws, '--json'], { env: { TUFSIGN_NOW: '2026-06-01T06:00:00Z' } }).status).toBe(0);
    expect(
      runCli(['verify', '-w', ws, '--json'], { env: { TUFSIGN_NOW: '2026-06-03T00:00:00Z' } }).json().error.code,
    ).toBe('VERIFY_FAILED');
  });
});
