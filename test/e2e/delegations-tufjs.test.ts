/**
 * Delegations end to end with the built CLI and file keys, consumed by the
 * independent tuf-js client over HTTP on 127.0.0.1: a two-level delegation,
 * terminating and non-terminating roles, succinct hash bins, targets routed
 * the way a client searches, a target outside a role's patterns refused, and
 * a delegation made under an offline targets key finalized by a ceremony.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp';
import { fetchTarget, newClient, serveDirectory } from '../helpers/tuf-client';
import { errorCode, fingerprintOf, ok, tufsign } from './ceremony-helpers';

const base = tempDir('tufsign-deleg-');
const ws = join(base, 'repo');
const src = join(base, 'src');

function file(rel: string, content: string): string {
  const p = join(src, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
}

async function clientFetch(dir: string, paths: string[]): Promise<Record<string, string>> {
  const server = await serveDirectory(dir);
  try {
    const client = newClient(server, join(dir, 'metadata', '1.root.json'));
    const out: Record<string, string> = {};
    for (const p of paths) out[p] = (await fetchTarget(client, p)).toString();
    return out;
  } finally {
    await server.close();
  }
}

function rolesOfTargets(): (path: string) => string {
  const list = ok(['targets', 'list', '-w', ws, '--json']).json.targets as { path: string; role: string }[];
  return (path) => list.find((t) => t.path === path)?.role ?? 'absent';
}

function roleOf(path: string): string {
  return rolesOfTargets()(path);
}

beforeAll(() => {
  ok(['init', ws, '--json']);
  for (const k of ['a', 'b', 'bins']) ok(['key', 'generate', '--out', join(ws, 'keys', `${k}.pem`), '--json']);
  // Roles share keys here to keep the test short; each role's threshold is still checked by tuf-js.
  // targets → a (a/*) → b (a/b/*, terminating); targets → a2 (a/*) after a; t (t/*, terminating) before t2 (t/*)
  ok(['delegate', 'add', 'a', '--key', 'file:keys/a.pem', '--paths', 'a/*', 'a/b/*', '-w', ws]);
  ok([
    'delegate',
    'add',
    'b',
    '--from',
    'a',
    '--key',
    'file:keys/b.pem',
    '--paths',
    'a/b/*',
    '--terminating',
    '-w',
    ws,
  ]);
  ok(['delegate', 'add', 'a2', '--key', 'file:keys/b.pem', '--paths', 'a/*', '-w', ws]);
  ok(['delegate', 'add', 't', '--key', 'file:keys/a.pem', '--paths', 't/*', '--terminating', '-w', ws]);
  ok(['delegate', 'add', 't2', '--key', 'file:keys/b.pem', '--paths', 't/*', '-w', ws]);
  ok(['delegate', 'add', 'pkg', '--key', 'file:keys/a.pem', '--paths', 'pkg/*', '-w', ws]);
  ok(['delegate', 'bins', '--count', '8', '--from', 'pkg', '--key', 'file:keys/bins.pem', '-w', ws]);
}, 120_000);

describe('targets are signed into the role a client finds', () => {
  beforeAll(() => {
    file('top.txt', 'top\n');
    file('a/one.txt', 'one\n');
    file('a/b/two.txt', 'two\n');
    file('t/x.txt', 'x\n');
    for (let i = 0; i < 6; i++) file(`pkg/p${i}.whl`, `wheel ${i}\n`);
    writeFileSync(
      join(base, 'list.txt'),
      [
        `${join(src, 'top.txt')}\ttop.txt`,
        `${join(src, 'a/one.txt')}\ta/one.txt`,
        `${join(src, 'a/b/two.txt')}\ta/b/two.txt`,
        `${join(src, 't/x.txt')}\tt/x.txt`,
      ].join('\n') + '\n',
    );
    ok(['targets', 'add', '--from-file', join(base, 'list.txt'), '-w', ws]);
    ok(['targets', 'add', join(src, 'pkg'), '--path', 'pkg', '-w', ws]);
    // a2 is reached for a/* only when a does not list the path (non-terminating a)
    ok(['targets', 'add', file('a/three.txt', 'three\n'), '--path', 'a/three.txt', '--role', 'a2', '-w', ws]);
  }, 120_000);

  it('routes by delegation order, terminating flag and path hash', () => {
    const roleOf = rolesOfTargets();
    expect(roleOf('top.txt')).toBe('targets');
    expect(roleOf('a/one.txt')).toBe('a');
    expect(roleOf('a/b/two.txt')).toBe('b');
    expect(roleOf('t/x.txt')).toBe('t');
    expect(roleOf('a/three.txt')).toBe('a2');
    for (let i = 0; i < 6; i++) expect(roleOf(`pkg/p${i}.whl`)).toMatch(/^bins-[0-7]$/);
  });

  it('passes tufsign verify and tuf-js downloads every target through the delegations', async () => {
    const v = tufsign(['verify', ws, '--json']);
    expect(v.status).toBe(0);
    expect(v.json.ok).toBe(true);
    const paths = [
      'top.txt',
      'a/one.txt',
      'a/b/two.txt',
      'a/three.txt',
      't/x.txt',
      ...Array.from({ length: 6 }, (_, i) => `pkg/p${i}.whl`),
    ];
    const got = await clientFetch(ws, paths);
    expect(got['a/b/two.txt']).toBe('two\n');
    expect(got['a/three.txt']).toBe('three\n');
    expect(got['pkg/p5.whl']).toBe('wheel 5\n');
  });

  it('adding one target re-signs exactly its role, snapshot and timestamp', () => {
    const r = ok(['targets', 'add', file('pkg/new.whl', 'new\n'), '--path', 'pkg/new.whl', '-w', ws, '--json']).json;
    const roles = (r.roles as { role: string }[]).map((x) => x.role);
    expect(roles).toHaveLength(3);
    expect(roles[0]).toMatch(/^bins-[0-7]$/);
    expect(roles.slice(1)).toEqual(['snapshot', 'timestamp']);
  });

  it('refuses a target in a role whose patterns do not cover it, writing nothing', () => {
    const before = readFileSync(join(ws, 'metadata', 'timestamp.json'));
    const r = tufsign([
      'targets',
      'add',
      join(src, 'top.txt'),
      '--path',
      'b/top.txt',
      '--role',
      'a',
      '-w',
      ws,
      '--json',
    ]);
    expect(r.status).toBe(3);
    expect(errorCode(r)).toBe('PATH_NOT_DELEGATED');
    // covered by t2's pattern, but the terminating t before it cuts the client's search
    const cut = tufsign([
      'targets',
      'add',
      join(src, 't/x.txt'),
      '--path',
      't/y.txt',
      '--role',
      't2',
      '-w',
      ws,
      '--json',
    ]);
    expect(errorCode(cut)).toBe('PATH_NOT_DELEGATED');
    // a bin takes only the paths whose hash falls in it
    const bin = roleOf('pkg/p0.whl') === 'bins-0' ? 'bins-1' : 'bins-0';
    expect(
      errorCode(
        tufsign(['targets', 'add', join(src, 'pkg/p0.whl'), '--path', 'pkg/p0.whl', '--role', bin, '-w', ws, '--json']),
      ),
    ).toBe('PATH_NOT_DELEGATED');
    expect(readFileSync(join(ws, 'metadata', 'timestamp.json'))).toEqual(before);
  });

  it('delegate list shows the tree in search order', () => {
    const roles = ok(['delegate', 'list', '-w', ws, '--json']).json.roles as {
      name: string;
      parent: string | null;
      kind: string;
    }[];
    expect(roles.map((r) => `${r.parent ?? '-'}>${r.name}`)).toEqual([
      '->targets',
      'targets>a',
      'a>b',
      'targets>a2',
      'targets>t',
      'targets>t2',
      'targets>pkg',
      'pkg>bins-*',
    ]);
    expect(roles.find((r) => r.name === 'bins-*')?.kind).toBe('bins');
  });

  it('targets remove finds the role; delegate remove stops clients trusting it', async () => {
    ok(['targets', 'remove', 'a/one.txt', '-w', ws]);
    expect(roleOf('a/one.txt')).toBe('absent');
    ok(['delegate', 'remove', 'a2', '-w', ws]);
    const v = tufsign(['verify', ws, '--json']);
    expect(v.json.ok).toBe(true);
    const server = await serveDirectory(ws);
    try {
      const client = newClient(server, join(ws, 'metadata', '1.root.json'));
      await client.updater.refresh();
      expect(await client.updater.getTargetInfo('a/three.txt')).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});

describe('a delegation under an offline targets key', () => {
  it('becomes a signing request; the ceremony finalizes it and clients follow', async () => {
    const away = join(base, 'targets-keyholder');
    mkdirSync(away);
    renameSync(join(ws, 'keys', 'targets-1.pem'), join(away, 'targets-1.pem'));
    renameSync(join(ws, 'keys', 'targets-1.pem.pub.json'), join(away, 'targets-1.pem.pub.json')); // its public part goes with it (ADR 0008)
    ok(['key', 'generate', '--out', join(ws, 'keys', 'c.pem'), '--json']);
    const r = ok([
      'delegate',
      'add',
      'c',
      '--key',
      'file:keys/c.pem',
      '--paths',
      'c/*',
      '-w',
      ws,
      '--out',
      join(base, 'deleg.tufsign-request.json'),
      '--json',
    ]).json;
    expect(r.request).toBeDefined();
    // Nothing a client reads has changed yet: the new role waits unreferenced.
    expect(tufsign(['verify', ws, '--json']).json.ok).toBe(true);
    expect(
      errorCode(
        tufsign([
          'targets',
          'add',
          file('c/pre.txt', 'pre\n'),
          '--path',
          'c/pre.txt',
          '--role',
          'c',
          '-w',
          ws,
          '--json',
        ]),
      ),
    ).toBe('ROLE_INVALID');
    ok([
      'ceremony',
      'sign',
      join(base, 'deleg.tufsign-request.json'),
      '--key',
      `file:${join(away, 'targets-1.pem')}`,
      '--fingerprint',
      fingerprintOf(join(base, 'deleg.tufsign-request.json')),
      '--yes',
    ]);
    // The waiting role file is re-checked before snapshot lists it: one changed since it was signed is
    // refused at finalize, naming the file, and nothing is written.
    const waiting = join(ws, 'metadata', '1.c.json');
    const original = readFileSync(waiting, 'utf8');
    const forged = JSON.parse(original);
    forged.signed.expires = '2099-01-01T00:00:00Z';
    writeFileSync(waiting, JSON.stringify(forged));
    const before = readdirSync(join(ws, 'metadata')).sort();
    const refused = tufsign([
      'ceremony',
      'finalize',
      join(base, 'deleg.tufsign-request.json'),
      '--out',
      join(base, 'forged-bundle'),
      '-w',
      ws,
      '--json',
    ]);
    expect(errorCode(refused)).toBe('SIGNATURE_INVALID');
    expect(refused.json.error.file).toBe('metadata/1.c.json');
    expect(readdirSync(join(ws, 'metadata')).sort()).toEqual(before);
    expect(existsSync(join(base, 'forged-bundle'))).toBe(false);
    writeFileSync(waiting, original);
    ok([
      'ceremony',
      'finalize',
      join(base, 'deleg.tufsign-request.json'),
      '--out',
      join(base, 'deleg-bundle'),
      '-w',
      ws,
    ]);
    ok(['targets', 'add', file('c/after.txt', 'after\n'), '--path', 'c/after.txt', '-w', ws]);
    expect(roleOf('c/after.txt')).toBe('c');
    expect(tufsign(['verify', ws, '--json']).json.ok).toBe(true);
    expect((await clientFetch(ws, ['c/after.txt', 'a/b/two.txt']))['c/after.txt']).toBe('after\n');
  }, 240_000);
});
