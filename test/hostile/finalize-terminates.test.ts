/**
 * Every multi-step ceremony terminates (issue #11): when the snapshot and/or
 * timestamp keys are not on the organizer's machine, finalize writes ONE
 * follow-up request naming exactly what is missing and stops; finalizing that
 * follow-up completes the repository. Every CLI run has a time limit (the old
 * finalize asked for snapshot, timestamp, snapshot… forever).
 */
import { copyFileSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { keyholder, readJson, rootKeyids, rootToKeyholderArgs, tmp, type Run } from '../helpers/ceremony';
import { runCli } from '../helpers/cli';

jest.setTimeout(240_000);

/** A run that must end on its own within 60 s; a timeout (the child is killed) fails the test. */
function run(args: string[], cwd?: string, expectStatus = 0): Run {
  const r = runCli(args, { timeoutMs: 60_000, ...(cwd === undefined ? {} : { cwd }) });
  if (r.status === -1) throw new Error(`tufsign ${args.join(' ')} did not terminate within 60 s`);
  let json: any;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  if (r.status !== expectStatus)
    throw new Error(
      `tufsign ${args.join(' ')} exited ${r.status} (expected ${expectStatus})\n${r.stdout}\n${r.stderr}`,
    );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

const rolesOf = (followUp: any): string[] => followUp.status.roles.map((r: any) => `${r.role} v${r.version}`);

describe('finalize terminates when snapshot/timestamp keys are elsewhere', () => {
  const base = tmp('tufsign-finalize-');
  let ops: { dir: string; snap: string; ts: string; snapPub: string; tsPub: string };

  beforeAll(() => {
    const k = keyholder(base, 'ops');
    const t = keyholder(base, 'opsts');
    // the key file with its public part beside it: the keyholder's tufsign matches it to the plan before the passphrase
    for (const f of ['opsts.pem', 'opsts.pem.pub.json']) copyFileSync(join(t.dir, 'keys', f), join(k.dir, 'keys', f));
    ops = { dir: k.dir, snap: k.uri, ts: t.uri, snapPub: k.pub, tsPub: t.pub };
  });

  /** The keyholder signs a copy of the request on their own machine (first contact confirmed by fingerprint). */
  function keyholderSigns(request: string, dir: string, keys: string[]): string {
    const copy = join(dir, basename(request));
    copyFileSync(request, copy);
    const fp = readJson(copy).fingerprint;
    const args = ['ceremony', 'sign', copy, '--fingerprint', fp, '--yes', '--json'];
    for (const k of keys) args.push('--key', k);
    const signed = run(args, dir);
    expect(signed.json.added).toHaveLength(keys.length);
    return copy;
  }

  const org = join(base, 'org');

  it('init --snapshot-key PUB --timestamp-key PUB, finalize: one follow-up for snapshot + timestamp, then complete', () => {
    const init = run(['init', org, '--snapshot-key', ops.snapPub, '--timestamp-key', ops.tsPub, '--json']);
    const fin1 = run([
      'ceremony',
      'finalize',
      init.json.request.request,
      '-w',
      org,
      '--bundle-out',
      join(base, 'b1'),
      '--json',
    ]);
    expect(rolesOf(fin1.json.followUp)).toEqual(['snapshot v1', 'timestamp v1']);
    // nothing published and no bundle until the follow-up comes back
    expect(existsSync(join(org, 'metadata', 'timestamp.json'))).toBe(false);
    expect(existsSync(join(base, 'b1'))).toBe(false);
    // the unsigned follow-up is refused, never answered with another follow-up
    const early = run(
      ['ceremony', 'finalize', fin1.json.followUp.request, '-w', org, '--bundle-out', join(base, 'bx'), '--json'],
      undefined,
      4,
    );
    expect(early.json.error.code).toBe('THRESHOLD_NOT_MET');
    const signed = keyholderSigns(fin1.json.followUp.request, ops.dir, [ops.snap, ops.ts]);
    const fin2 = run(['ceremony', 'finalize', signed, '-w', org, '--bundle-out', join(base, 'b2'), '--json']);
    expect(fin2.json.followUp).toBeUndefined();
    expect(fin2.json.written).toEqual(['metadata/1.snapshot.json', 'metadata/timestamp.json']);
    expect(run(['verify', org, '--json']).json.ok).toBe(true);
    expect(run(['verify', join(base, 'b2'), '--json']).json.ok).toBe(true);
  });

  it('a root rotation signed elsewhere, snapshot/timestamp keys absent: exactly one follow-up, then complete', () => {
    const alice = keyholder(base, 'alice');
    const old = rootKeyids(org, 1)[0]!;
    // the key to remove named by a 12-character prefix of its keyid
    const rot = run(rootToKeyholderArgs(org, alice.pub, ['--json'], old.slice(0, 12)));
    const signed = keyholderSigns(rot.json.request.request, alice.dir, [alice.uri]);
    const fin = run(['ceremony', 'finalize', signed, '-w', org, '--bundle-out', join(base, 'b3'), '--json']);
    expect(fin.json.written).toContain('metadata/2.root.json');
    expect(rolesOf(fin.json.followUp)).toEqual(['snapshot v2', 'timestamp v2']);
    expect(existsSync(join(base, 'b3'))).toBe(false);
    const follow = keyholderSigns(fin.json.followUp.request, ops.dir, [ops.snap, ops.ts]);
    const done = run(['ceremony', 'finalize', follow, '-w', org, '--bundle-out', join(base, 'b4'), '--json']);
    expect(done.json.followUp).toBeUndefined();
    // the bundle carries root v2 and verifies for a client that trusts root v1
    expect(done.json.bundle.files.map((f: any) => f.path)).toContain('metadata/2.root.json');
    expect(run(['verify', join(base, 'b4'), '--root', join(org, 'metadata', '1.root.json'), '--json']).json.ok).toBe(
      true,
    );
    expect(run(['verify', org, '--json']).json.ok).toBe(true);
  });

  it('only the timestamp key absent: snapshot signed here, a timestamp-only follow-up completes with that snapshot', () => {
    const org2 = join(base, 'org2');
    const init = run(['init', org2, '--timestamp-key', ops.tsPub, '--json']);
    const fin1 = run([
      'ceremony',
      'finalize',
      init.json.request.request,
      '-w',
      org2,
      '--bundle-out',
      join(base, 'b5'),
      '--json',
    ]);
    expect(rolesOf(fin1.json.followUp)).toEqual(['timestamp v1']);
    expect(fin1.json.written).toContain('metadata/1.snapshot.json');
    const follow = keyholderSigns(fin1.json.followUp.request, ops.dir, [ops.ts]);
    const done = run(['ceremony', 'finalize', follow, '-w', org2, '--bundle-out', join(base, 'b6'), '--json']);
    expect(done.json.followUp).toBeUndefined();
    expect(done.json.written).toEqual(['metadata/timestamp.json']);
    expect(run(['verify', org2, '--json']).json.ok).toBe(true);
    expect(run(['verify', join(base, 'b6'), '--json']).json.ok).toBe(true);
  });
});
