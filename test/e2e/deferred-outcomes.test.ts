/**
 * A change whose keys are elsewhere is deferred to a signing request. Its outcome lists exactly the files that
 * were written, and it marks separately the roles that wait in the request. It never lists a
 * `metadata/N.ROLE.json` that is not on disk. Checked for the three deferring paths: `init` with a root key held
 * elsewhere, `sign --bump` (the update cascade), and `delegate add` under an absent targets key (targets publish).
 */
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

jest.setTimeout(180_000);

const base = tempDir('tufsign-deferred-');

interface Outcome {
  role: string;
  files: string[];
  deferred?: true;
  complete: boolean;
}
interface Result {
  workspace: string;
  roles: Outcome[];
  written: string[];
  complete: boolean;
}

/** Every file an outcome names is on disk, every role's files are in `written`, and deferred roles list none. */
function expectExact(ws: string, result: Result, waiting: string[]): void {
  expect(result.complete).toBe(false);
  for (const f of result.written) expect([f, existsSync(join(ws, f))]).toEqual([f, true]);
  for (const r of result.roles) {
    for (const f of r.files) expect(result.written).toContain(f);
    if (r.deferred === true) expect(r.files).toEqual([]);
  }
  expect(
    result.roles
      .filter((r) => r.deferred === true)
      .map((r) => r.role)
      .sort(),
  ).toEqual([...waiting].sort());
}

describe('deferred changes list exactly what was written', () => {
  it('sign --bump with the targets key elsewhere: nothing written, targets waits in the request', () => {
    const ws = join(base, 'cascade');
    expect(runCli(['init', '-w', ws, '--json']).status).toBe(0);
    renameSync(join(ws, 'keys', 'targets-1.pem'), join(base, 'cascade-targets.pem'));
    const r = runCli(['sign', 'targets', '-w', ws, '--bump', '--json']);
    expect(r.status).toBe(0);
    const out = r.json();
    expectExact(ws, out, ['targets']);
    expect(out.written).toEqual([]);
    expect(out.roles.flatMap((x: Outcome) => x.files)).toEqual([]);
    expect(existsSync(out.request.request)).toBe(true);
    expect(existsSync(join(ws, 'metadata', '2.targets.json'))).toBe(false);
  });

  it('delegate add with the targets key elsewhere: the new role and tufsign.json written, targets deferred', () => {
    const ws = join(base, 'publish');
    expect(runCli(['init', '-w', ws, '--json']).status).toBe(0);
    expect(runCli(['key', 'generate', '--out', join(ws, 'keys', 'docs-1.pem'), '--json']).status).toBe(0);
    renameSync(join(ws, 'keys', 'targets-1.pem'), join(base, 'publish-targets.pem'));
    const r = runCli([
      'delegate',
      'add',
      'docs',
      '-w',
      ws,
      '--key',
      'file:keys/docs-1.pem',
      '--paths',
      'docs/*',
      '--json',
    ]);
    expect(r.status).toBe(0);
    const out = r.json();
    expectExact(ws, out.result, ['targets']);
    // tufsign.json was committed with the new role's file: it is listed as written
    expect(out.result.written).toEqual(expect.arrayContaining(['tufsign.json', 'metadata/1.docs.json']));
    expect(out.result.roles.find((x: Outcome) => x.role === 'docs').files).toEqual(['metadata/1.docs.json']);
    expect(existsSync(join(ws, 'metadata', '2.targets.json'))).toBe(false);
  });

  it('a deferred change whose request name is taken stops before anything is written, and can be re-run', () => {
    const ws = join(base, 'taken');
    expect(runCli(['init', '-w', ws, '--json']).status).toBe(0);
    expect(runCli(['key', 'generate', '--out', join(ws, 'keys', 'docs-1.pem'), '--json']).status).toBe(0);
    renameSync(join(ws, 'keys', 'targets-1.pem'), join(base, 'taken-targets.pem'));
    // a request for targets v2 already waits under the default name
    const first = runCli(['sign', 'targets', '-w', ws, '--bump', '--json']);
    expect(first.status).toBe(0);
    expect(existsSync(first.json().request.request)).toBe(true);
    const config = readFileSync(join(ws, 'tufsign.json'));
    const metadata = readdirSync(join(ws, 'metadata')).sort();
    const add = (extra: string[]) =>
      runCli([
        'delegate',
        'add',
        'docs',
        '-w',
        ws,
        '--key',
        'file:keys/docs-1.pem',
        '--paths',
        'docs/*',
        '--json',
        ...extra,
      ]);
    const refused = add([]);
    expect(refused.status).not.toBe(0);
    expect(refused.json().error.code).toBe('IO_ERROR');
    expect(readFileSync(join(ws, 'tufsign.json'))).toEqual(config);
    expect(readdirSync(join(ws, 'metadata')).sort()).toEqual(metadata);
    // nothing half-done stands in the way: the same change with another request name goes through
    const again = add(['--request-out', join(base, 'taken-docs.tufsign-request.json')]);
    expect(again.status).toBe(0);
    expect(existsSync(join(ws, 'metadata', '1.docs.json'))).toBe(true);
    expect(existsSync(join(base, 'taken-docs.tufsign-request.json'))).toBe(true);
  });

  it('init with a root key held elsewhere: config and keys written, root and targets wait, no metadata listed', () => {
    const keys = join(base, 'elsewhere');
    expect(runCli(['key', 'generate', '--out', join(keys, 'root-away.pem'), '--json']).status).toBe(0);
    const ws = join(base, 'init');
    const r = runCli(['init', '-w', ws, '--root-key', join(keys, 'root-away.pem.pub.json'), '--json']);
    expect(r.status).toBe(0);
    const out = r.json();
    const result: Result = out.result ?? out;
    expectExact(ws, result, ['root', 'targets']);
    expect(result.roles.flatMap((x) => x.files)).toEqual([]);
    expect(result.written.some((f) => f.startsWith('metadata/'))).toBe(false);
  });
});
