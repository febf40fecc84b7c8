/**
 * Every multi-step ceremony terminates (issue #11): when snapshot and/or
 * timestamp keys are not on the organiser's machine, finalize writes ONE
 * follow-up request naming exactly what is missing and stops; finalizing
 * that follow-up completes the repository. Every run has a time limit.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { keyholder, ok, tmp, type Run } from '../e2e/ceremony-helpers';
import { runCli } from '../helpers/cli';

jest.setTimeout(240_000);

/** Each CLI run must end on its own well within a minute (the old finalize looped forever). */
function run(args: string[], cwd?: string): Run {
  const r = runCli(args, cwd === undefined ? {} : { cwd });
  const json = (() => {
    try {
      return JSON.parse(r.stdout);
    } catch {
      return undefined;
    }
  })();
  if (r.status !== 0) throw new Error(`tufsign ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

const rolesOf = (written: any): string[] => written.status.roles.map((r: any) => r.role);

describe('finalize terminates when snapshot/timestamp keys are elsewhere', () => {
  const base = tmp('tufsign-finalize-');
  const org = join(base, 'org');
  let ops: ReturnType<typeof keyholder>;
  let opsTs: string;

  beforeAll(() => {
    ops = keyholder(base, 'ops');
    ok(
      [
        'key',
        'generate',
        '--backend',
        'file',
        '--out',
        'keys/ts.pem',
        '--public-out',
        '../ops-ts.pub.json',
        '--owner',
        'ops',
      ],
      { cwd: ops.dir },
    );
    opsTs = 'file:keys/ts.pem';
  });

  it('init --snapshot-key PUB --timestamp-key PUB, finalize: one follow-up for snapshot + timestamp, then complete', () => {
    const init = run([
      'init',
      org,
      '--snapshot-key',
      ops.pub,
      '--timestamp-key',
      join(base, 'ops-ts.pub.json'),
      '--json',
    ]);
    const r1 = init.json.request.request;
    const fin1 = run(['ceremony', 'finalize', r1, '-w', org, '--out', join(base, 'b1'), '--json']);
    expect(rolesOf(fin1.json.followUp)).toEqual(['snapshot', 'timestamp']);
    expect(existsSync(join(org, 'metadata', 'timestamp.json'))).toBe(false);
    expect(existsSync(join(base, 'b1'))).toBe(false);
    const r2 = fin1.json.followUp.request;
    run(['ceremony', 'sign', r2, '--key', ops.uri, '--key', opsTs, '--yes', '--json'], ops.dir);
    const fin2 = run(['ceremony', 'finalize', r2, '-w', org, '--out', join(base, 'b2'), '--json']);
    expect(fin2.json.followUp).toBeUndefined();
    expect(fin2.json.bundle).toBeDefined();
    expect(run(['verify', org, '--json']).status).toBe(0);
    expect(run(['verify', join(base, 'b2'), '--json']).status).toBe(0);
  });

  it('a root rotation with snapshot/timestamp keys absent: exactly one follow-up, then complete', () => {
    const alice = keyholder(base, 'alice');
    const rot = run(['root', 'rotate', '-w', org, '--add-key', alice.pub, '--threshold', '1', '--json']);
    const req = rot.json.request?.request;
    if (req !== undefined) {
      run(['ceremony', 'sign', req, '--key', alice.uri, '--yes', '--json'], alice.dir);
    }
    const fin = run(['ceremony', 'finalize', req ?? '', '-w', org, '--out', join(base, 'b3'), '--json']);
    expect(rolesOf(fin.json.followUp)).toEqual(['snapshot', 'timestamp']);
    const follow = fin.json.followUp.request;
    run(['ceremony', 'sign', follow, '--key', ops.uri, '--key', opsTs, '--yes', '--json'], ops.dir);
    const done = run(['ceremony', 'finalize', follow, '-w', org, '--out', join(base, 'b4'), '--json']);
    expect(done.json.followUp).toBeUndefined();
    expect(run(['verify', join(base, 'b4'), '--root', join(org, 'metadata', '1.root.json'), '--json']).status).toBe(0);
  });

  it('only the timestamp key absent: snapshot signed here, a timestamp-only follow-up completes with that snapshot', () => {
    const org2 = join(base, 'org2');
    const init = run(['init', org2, '--timestamp-key', join(base, 'ops-ts.pub.json'), '--json']);
    const fin1 = run(['ceremony', 'finalize', init.json.request.request, '-w', org2, '--json']);
    expect(rolesOf(fin1.json.followUp)).toEqual(['timestamp']);
    const follow = fin1.json.followUp.request;
    run(['ceremony', 'sign', follow, '--key', opsTs, '--yes', '--json'], ops.dir);
    const done = run(['ceremony', 'finalize', follow, '-w', org2, '--out', join(base, 'b5'), '--json']);
    expect(done.json.followUp).toBeUndefined();
    expect(run(['verify', org2, '--json']).status).toBe(0);
  });
});
