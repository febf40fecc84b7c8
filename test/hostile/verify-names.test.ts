/**
 * `verify` applies the write side's name rules (src/tuf/paths.ts) to what a
 * signer published: validly signed metadata with unsafe target paths, role
 * names or hash-bin prefixes fails, naming role, path and rule, and no file
 * is read for an unsafe path.
 */
import {
  Delegations,
  DelegatedRole,
  Metadata,
  MetaFile,
  SuccinctRoles,
  TargetFile,
  Targets,
} from '../../src/tuf/metadata';
import { parseTargetPath, targetPathProblem } from '../../src/tuf/paths';
import { verifyRepository, type RepositorySource } from '../../src/verify/verify';
import { testSigner } from '../helpers/keys';
import { buildTestRepo, LATER, NOW, signWith } from '../helpers/repo';
import { publish, text } from './helpers';
import { parseThreshold } from '../../src/tuf/threshold';

/** A source that records every path read, so a test can prove an unsafe path was never opened. */
function recordingSource(files: Record<string, Uint8Array>): RepositorySource & { reads: string[] } {
  const reads: string[] = [];
  return { reads, read: (p) => (reads.push(p), files[p]), describe: (p) => p };
}

// BAD-40 … BAD-45: each is a path `targets add` refuses.
const UNSAFE_PATHS: [string, string][] = [
  ['../x', 'BAD-40'],
  ['foo/../../x', 'BAD-40'],
  ['a/./b', 'BAD-40'],
  ['..', 'BAD-40'],
  ['/etc/passwd', 'BAD-41'],
  ['C:\\x', 'BAD-41'],
  ['C:..\\x', 'BAD-41'],
  ['\\\\server\\share', 'BAD-41'],
  ['a\\b', 'BAD-41/BAD-42'],
  ['a//b', 'BAD-42'],
  ['x/', 'BAD-42'],
  ['', 'BAD-42'],
  ['a\u0000b', 'BAD-43'],
  ['a\nb', 'BAD-43'],
  ['o\u0308.txt', 'BAD-44'],
  [`${'ab'.repeat(32)}.app.tar.gz`, 'BAD-45'],
];

describe('verify refuses unsafe names in signed metadata (same rules as the write side)', () => {
  it.each(UNSAFE_PATHS)(
    'target path %j (%s) fails with PATH_UNSAFE, naming the role and never read',
    async (path, rule) => {
      expect(() => parseTargetPath(path)).toThrow(expect.objectContaining({ code: 'PATH_UNSAFE' }));
      const repo = await buildTestRepo();
      repo.targets.signed.targets.set(path, TargetFile.fromData(Buffer.from('evil')));
      const src = recordingSource(await publish(repo));
      const r = verifyRepository(src, { at: NOW, requireTargetFiles: true });
      expect(r.ok).toBe(false);
      const failures = r.roles.find((x) => x.role === 'targets')!.checks.filter((c) => !c.ok);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ code: 'PATH_UNSAFE' });
      expect(failures[0]!.rule).toContain(rule);
      expect(failures[0]!.message).toContain(JSON.stringify(path));
      expect(failures[0]!.message).toContain('targets');
      expect(targetPathProblem(path)?.rule).toBe(failures[0]!.rule);
      // The safe target is still checked; nothing was read for the unsafe one.
      expect(r.targets.map((t) => t.path)).toEqual(['hello.txt']);
      expect(src.reads.filter((p) => p.startsWith('targets/'))).toEqual(['targets/hello.txt']);
    },
  );

  it('BAD-44 two targets that collide after case folding fail with PATH_COLLISION', async () => {
    const repo = await buildTestRepo();
    repo.targets.signed.targets.set('Hello.txt', TargetFile.fromData(Buffer.from('hello\n')));
    const r = verifyRepository(recordingSource(await publish(repo, { 'targets/Hello.txt': Buffer.from('hello\n') })), {
      at: NOW,
      requireTargetFiles: true,
    });
    const failures = r.roles.find((x) => x.role === 'targets')!.checks.filter((c) => !c.ok);
    expect(failures.map((c) => c.code)).toEqual(['PATH_COLLISION']);
  });

  it('an unsafe target path inside a delegated role names that role', async () => {
    const repo = await buildTestRepo();
    const delegate = testSigner('ed25519', 70);
    repo.targets.signed.delegations = new Delegations(new Map([[delegate.publicKey.keyid(), delegate.publicKey]]), [
      new DelegatedRole('apps', [delegate.publicKey.keyid()], parseThreshold(1), false, ['*']),
    ]);
    const apps = new Metadata(
      new Targets(1, LATER, new Map([['../../escape', TargetFile.fromData(Buffer.from('x'))]])),
    );
    await signWith(apps, [delegate]);
    repo.snapshot.signed.meta.set('apps.json', new MetaFile(1));
    const r = verifyRepository(recordingSource(await publish(repo, { 'metadata/apps.json': text(apps) })), {
      at: NOW,
      requireTargetFiles: true,
    });
    const failures = r.roles.find((x) => x.role === 'apps')!.checks.filter((c) => !c.ok);
    expect(failures).toMatchObject([{ code: 'PATH_UNSAFE', rule: expect.stringContaining('BAD-40') }]);
    expect(failures[0]!.message).toContain('in apps');
  });

  it.each(['Apps', 'apps_v2', 'a'.repeat(65), '-apps'])(
    'delegated role name %j (BAD-38) fails with ROLE_INVALID and its file is never read',
    async (name) => {
      const repo = await buildTestRepo();
      const delegate = testSigner('ed25519', 70);
      repo.targets.signed.delegations = new Delegations(new Map([[delegate.publicKey.keyid(), delegate.publicKey]]), [
        new DelegatedRole(name, [delegate.publicKey.keyid()], parseThreshold(1), false, ['*']),
      ]);
      const role = new Metadata(new Targets(1, LATER, new Map()));
      await signWith(role, [delegate]);
      repo.snapshot.signed.meta.set(`${name}.json`, new MetaFile(1));
      const src = recordingSource(await publish(repo, { [`metadata/${name}.json`]: text(role) }));
      const r = verifyRepository(src, { at: NOW, requireTargetFiles: true });
      expect(r.ok).toBe(false);
      const inTargets = r.roles.find((x) => x.role === 'targets')!.checks.filter((c) => !c.ok);
      expect(inTargets).toMatchObject([{ code: 'ROLE_INVALID', rule: expect.stringContaining('BAD-38') }]);
      expect(inTargets[0]!.message).toContain(JSON.stringify(name));
      const inSnapshot = r.roles.find((x) => x.role === 'snapshot')!.checks.filter((c) => !c.ok);
      expect(inSnapshot.map((c) => c.code)).toEqual(['ROLE_INVALID']);
      expect(src.reads).not.toContain(`metadata/${name}.json`);
    },
  );

  it('a hash-bin prefix that makes unsafe bin names fails with ROLE_INVALID; no bin is read', async () => {
    const repo = await buildTestRepo();
    const binKey = testSigner('ed25519', 71);
    repo.targets.signed.delegations = new Delegations(
      new Map([[binKey.publicKey.keyid(), binKey.publicKey]]),
      undefined,
      new SuccinctRoles([binKey.publicKey.keyid()], parseThreshold(1), 1, 'Bins'),
    );
    const bin = new Metadata(new Targets(1, LATER, new Map()));
    await signWith(bin, [binKey]);
    repo.snapshot.signed.meta.set('Bins-0.json', new MetaFile(1));
    const src = recordingSource(await publish(repo, { 'metadata/Bins-0.json': text(bin) }));
    const r = verifyRepository(src, { at: NOW, requireTargetFiles: true });
    const failures = r.roles.find((x) => x.role === 'targets')!.checks.filter((c) => !c.ok);
    expect(failures).toMatchObject([{ code: 'ROLE_INVALID', rule: expect.stringContaining('BAD-38') }]);
    expect(failures[0]!.message).toContain('"Bins"');
    expect(src.reads).not.toContain('metadata/Bins-0.json');
  });

  it('a well-named delegation and hash bins still verify', async () => {
    const repo = await buildTestRepo();
    const binKey = testSigner('ed25519', 71);
    repo.targets.signed.delegations = new Delegations(
      new Map([[binKey.publicKey.keyid(), binKey.publicKey]]),
      undefined,
      new SuccinctRoles([binKey.publicKey.keyid()], parseThreshold(1), 4, 'pypi-bins'),
    );
    const bin = new Metadata(new Targets(1, LATER, new Map()));
    await signWith(bin, [binKey]);
    repo.snapshot.signed.meta.set('pypi-bins-0.json', new MetaFile(1));
    const r = verifyRepository(recordingSource(await publish(repo, { 'metadata/pypi-bins-0.json': text(bin) })), {
      at: NOW,
      requireTargetFiles: true,
    });
    expect(r.roles.filter((x) => !x.ok)).toEqual([]);
    expect(r.ok).toBe(true);
  });
});
