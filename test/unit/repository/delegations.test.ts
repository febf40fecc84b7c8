/**
 * Delegation use cases in-process: the client search order (python-tuf's
 * pre-order walk with terminating cut-off), routing of new targets, pattern
 * coverage, bins named and chosen as TAP 15 says, client size limits refused
 * before signing, and only the changed roles re-signed.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  addBins,
  addDelegation,
  checkPathPattern,
  listDelegations,
  removeDelegation,
} from '../../../src/repository/delegations';
import { CLIENT_LIMITS } from '../../../src/verify/limits';
import { addTargetsRouted, listTargets } from '../../../src/repository/targets-routing';
import { parseDelegatedRoleName as role, parseRoleRef as ref, parseTargetPath } from '../../../src/tuf/paths';
import { parseThreshold as th } from '../../../src/tuf/threshold';
import { TargetsTree } from '../../../src/repository/targets-tree';
import { repositoryStatus } from '../../../src/repository/status';
import { verifyRepository } from '../../../src/verify/verify';
import { directorySource } from '../../../src/verify/sources';
import { Workspace } from '../../../src/repository/workspace';
import { isTufsignError } from '../../../src/errors';
import { tempDir } from '../../helpers/tmp';
import { memoryContext, memoryKey, memoryWorkspace } from '../../helpers/memory-repo';

const base = tempDir('tufsign-deleg-unit-');
let n = 0;
const fresh = async (): Promise<Workspace> => memoryWorkspace(join(base, `ws${++n}`));

function payload(name: string, content = name): string {
  const p = join(base, name.replace(/\//g, '_'));
  writeFileSync(p, content);
  return p;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return isTufsignError(e) ? e.code : String(e);
  }
}

const ctx = memoryContext();

describe('client search order', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await fresh();
    await addDelegation(
      ws,
      { name: role('a'), keys: [memoryKey(1)], threshold: th(1), paths: ['a/*'], terminating: false },
      ctx,
    );
    await addDelegation(
      ws,
      { name: role('b'), keys: [memoryKey(2)], threshold: th(1), paths: ['a/*'], terminating: true },
      ctx,
    );
    await addDelegation(
      ws,
      { name: role('c'), keys: [memoryKey(3)], threshold: th(1), paths: ['a/*'], terminating: false },
      ctx,
    );
    await addDelegation(
      ws,
      { name: role('a1'), from: ref('a'), keys: [memoryKey(4)], threshold: th(1), paths: ['a/x*'], terminating: false },
      ctx,
    );
  });

  it('visits depth first, children in order, and a terminating role cuts off the rest', () => {
    const tree = new TargetsTree(ws, ws.load());
    expect(tree.search('a/x1').visited).toEqual(['targets', 'a', 'a1', 'b']);
    expect(tree.search('a/y').visited).toEqual(['targets', 'a', 'b']);
    expect(tree.search('a/y').destination?.name).toBe('a');
    expect(tree.search('a/x1').destination?.name).toBe('a1');
    expect(tree.search('z').destination?.name).toBe('targets');
    // "*" never crosses "/" (python-tuf splits on "/" first)
    expect(tree.search('a/b/c').destination?.name).toBe('targets');
  });

  it('routes a new target to the first dead end and an existing one to where a client finds it', async () => {
    await addTargetsRouted(
      ws,
      [
        { file: payload('a/x1'), path: parseTargetPath('a/x1') },
        { file: payload('a/y'), path: parseTargetPath('a/y') },
        { file: payload('top'), path: parseTargetPath('top') },
      ],
      ctx,
    );
    const where = new Map(listTargets(ws).map((t) => [t.path, t.role]));
    expect(Object.fromEntries(where)).toEqual({ top: 'targets', 'a/y': 'a', 'a/x1': 'a1' });
  });

  it('refuses --role for a role whose chain does not cover the path, or that a client never reaches', async () => {
    expect(
      await codeOf(
        addTargetsRouted(ws, [{ file: payload('q'), path: parseTargetPath('a/q') }], ctx, { role: ref('a1') }),
      ),
    ).toBe('PATH_NOT_DELEGATED');
    expect(
      await codeOf(
        addTargetsRouted(ws, [{ file: payload('q'), path: parseTargetPath('a/q') }], ctx, { role: ref('c') }),
      ),
    ).toBe('PATH_NOT_DELEGATED');
    expect(
      await codeOf(
        addTargetsRouted(ws, [{ file: payload('q'), path: parseTargetPath('a/y') }], ctx, { role: ref('b') }),
      ),
    ).toBe('PATH_NOT_DELEGATED');
    expect(
      await codeOf(
        addTargetsRouted(ws, [{ file: payload('q'), path: parseTargetPath('a/q') }], ctx, { role: ref('nope') }),
      ),
    ).toBe('ROLE_INVALID');
  });

  it('refuses unsafe role names and patterns', async () => {
    // the name is parsed where it arrives (src/cli, `parseDelegatedRoleName`); the use case takes a RoleName
    for (const name of ['targets', '../x', 'A', 'a/b', '']) {
      expect(
        await codeOf(
          Promise.resolve().then(() =>
            addDelegation(
              ws,
              { name: role(name), keys: [memoryKey(5)], threshold: th(1), paths: ['x/*'], terminating: false },
              ctx,
            ),
          ),
        ),
      ).toBe('ROLE_INVALID');
    }
    expect(
      await codeOf(
        addDelegation(
          ws,
          { name: role('a'), keys: [memoryKey(5)], threshold: th(1), paths: ['x/*'], terminating: false },
          ctx,
        ),
      ),
    ).toBe('ROLE_INVALID');
    for (const p of ['/abs/*', '../*', 'a\\b', 'a//b', '']) expect(() => checkPathPattern(p)).toThrow();
    expect(() => checkPathPattern('pkgs/*/[a-f]?.whl')).not.toThrow();
    expect(
      await codeOf(
        addDelegation(
          ws,
          { name: role('k'), keys: [memoryKey(5)], threshold: th(2), paths: ['x/*'], terminating: false },
          ctx,
        ),
      ),
    ).toBe('THRESHOLD_INVALID');
  });

  it('removing a delegation keeps its snapshot entry (clients refuse a snapshot that drops one)', async () => {
    await removeDelegation(ws, 'c', ctx);
    const repo = ws.load();
    expect(repo.snapshot.signed.meta.has('c.json')).toBe(true);
    expect(repo.targets.signed.delegations?.roles?.map((r) => r.name)).toEqual(['a', 'b']);
    // re-created under the same name, it continues the version sequence
    await addDelegation(
      ws,
      { name: role('c'), keys: [memoryKey(3)], threshold: th(1), paths: ['c/*'], terminating: false },
      ctx,
    );
    expect(ws.load().snapshot.signed.meta.get('c.json')?.version).toBe(2);
  });
});

describe('succinct hash bins', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await fresh();
    await addBins(ws, { count: 256, prefix: 'bins', keys: [memoryKey(7)], threshold: th(1) }, ctx);
  });

  it('names bins with zero-padded hex and lists every one in snapshot', () => {
    const repo = ws.load();
    const s = repo.targets.signed.delegations?.succinctRoles;
    expect(s?.bitLength).toBe(8);
    expect(repo.snapshot.signed.meta.has('bins-00.json')).toBe(true);
    expect(repo.snapshot.signed.meta.has('bins-ff.json')).toBe(true);
    expect(repo.snapshot.signed.meta.size).toBe(257);
    expect(listDelegations(ws).map((e) => e.name)).toEqual(['targets', 'bins-*']);
  });

  it('adding one target re-signs exactly its bin, snapshot and timestamp', async () => {
    const opened: string[] = [];
    const r = await addTargetsRouted(
      ws,
      [{ file: payload('pkg/one.whl'), path: parseTargetPath('pkg/one.whl') }],
      memoryContext(undefined, opened),
    );
    // python-tuf: bin = first bit_length bits of sha256(path)
    const digest = createHash('sha256').update('pkg/one.whl').digest();
    const expected = `bins-${(digest[0] as number).toString(16).padStart(2, '0')}`;
    expect(r.roles.map((o) => o.role)).toEqual([expected, 'snapshot', 'timestamp']);
    expect(opened).toHaveLength(3);
  });

  it('refuses a bin count that is not a power of two in range, and named delegations beside bins', async () => {
    for (const count of [0, 1, 3, 100, 131072])
      expect(await codeOf(addBins(ws, { count, prefix: 'x', keys: [memoryKey(7)], threshold: th(1) }, ctx))).toBe(
        'USAGE',
      );
    expect(
      await codeOf(
        addDelegation(
          ws,
          { name: role('n'), keys: [memoryKey(5)], threshold: th(1), paths: ['n/*'], terminating: false },
          ctx,
        ),
      ),
    ).toBe('ROLE_INVALID');
  });
});

describe('client size limits', () => {
  it('refuses a targets role over 5,000,000 bytes before asking for any key, writing nothing', async () => {
    const ws = await fresh();
    const big = JSON.stringify({ blob: 'x'.repeat(CLIENT_LIMITS.targets) });
    const opened: string[] = [];
    const before = ws.load().timestamp.signed.version;
    const err = await addTargetsRouted(
      ws,
      [{ file: payload('big'), path: parseTargetPath('big'), custom: JSON.parse(big) }],
      memoryContext(undefined, opened),
    ).catch((e: unknown) => e);
    expect(isTufsignError(err, 'METADATA_TOO_LARGE')).toBe(true);
    expect((err as { details: { limit: number } }).details.limit).toBe(5_000_000);
    expect(opened).toEqual([]);
    expect(ws.load().timestamp.signed.version).toBe(before);
  });

  it('status and verify name a file near its limit; status summarizes bins', async () => {
    const ws = await fresh();
    await addBins(ws, { count: 4, prefix: 'b', keys: [memoryKey(7)], threshold: th(1) }, ctx);
    // about 85% of 5,000,000 bytes in one bin
    await addTargetsRouted(
      ws,
      [{ file: payload('near'), path: parseTargetPath('near'), custom: { blob: 'x'.repeat(4_250_000) } }],
      ctx,
    );
    const bin = listTargets(ws).find((t) => t.path === 'near')?.role as string;
    const status = repositoryStatus(ws, ctx.now);
    expect(status.nearLimit.map((f) => f.role)).toEqual([bin]);
    expect(status.roles.find((r) => r.role === 'b-*')).toMatchObject({ bins: 4, threshold: 1, validSignatures: 1 });
    const report = verifyRepository(directorySource(ws.dir), { at: ctx.now, requireTargetFiles: true });
    expect(report.ok).toBe(true);
    expect(report.nearLimit.map((f) => f.role)).toEqual([bin]);
  });

  it('refuses 65,536 bins: their snapshot is over 2,000,000 bytes', async () => {
    const ws = await fresh();
    const opened: string[] = [];
    const err = await addBins(
      ws,
      { count: 65_536, prefix: 'bins', keys: [memoryKey(7)], threshold: th(1) },
      memoryContext(undefined, opened),
    ).catch((e: unknown) => e);
    expect(isTufsignError(err, 'METADATA_TOO_LARGE')).toBe(true);
    expect((err as { details: { role: string } }).details.role).toBe('snapshot');
    expect(opened).toEqual([]);
  }, 60_000);
});
