import { createHash, createPublicKey } from 'node:crypto';
import { stringifyPretty } from '../../../src/tuf/json';
import { Key } from '../../../src/tuf/key';
import {
  Delegations,
  DelegatedRole,
  Metadata,
  MetaFile,
  Role,
  Signature,
  SuccinctRoles,
  TargetFile,
  Targets,
} from '../../../src/tuf/metadata';
import { verifyRepository, type RepositorySource } from '../../../src/verify/verify';
import { testKey, testSigner } from '../../helpers/keys';
import { buildTestRepo, LATER, NOW, signWith, type TestRepo } from '../../helpers/repo';
import { parseThreshold } from '../../../src/tuf/threshold';

function memorySource(files: Record<string, Uint8Array>): RepositorySource {
  return { read: (p) => files[p], describe: (p) => p };
}

const text = (md: Metadata): Buffer => Buffer.from(stringifyPretty(md.toJSON()));

async function layout(repo: TestRepo, extra: Record<string, Uint8Array> = {}): Promise<Record<string, Uint8Array>> {
  repo.root.signed.consistentSnapshot = true;
  repo.root.clearSignatures();
  await signWith(repo.root, repo.signers.root);
  const snapBytes = text(repo.snapshot);
  repo.timestamp.signed.snapshotMeta = new MetaFile(
    repo.snapshot.signed.version,
    snapBytes.length,
    new Map([['sha256', createHash('sha256').update(snapBytes).digest('hex')]]),
  );
  repo.timestamp.clearSignatures();
  await signWith(repo.timestamp, [repo.signers.timestamp]);
  const hello = Buffer.from('hello\n');
  const h = repo.targets.signed.targets.get('hello.txt')!.hashes;
  return {
    'metadata/1.root.json': text(repo.root),
    'metadata/timestamp.json': text(repo.timestamp),
    [`metadata/${repo.snapshot.signed.version}.snapshot.json`]: snapBytes,
    [`metadata/${repo.targets.signed.version}.targets.json`]: text(repo.targets),
    ...Object.fromEntries([...h.values()].map((d) => [`targets/${d}.hello.txt`, hello])),
    ...extra,
  };
}

describe('verifyRepository', () => {
  it('passes a consistent repository and reports every role', async () => {
    const repo = await buildTestRepo();
    const r = verifyRepository(memorySource(await layout(repo)), { at: NOW, requireTargetFiles: true });
    expect(r.ok).toBe(true);
    expect(r.roles.map((x) => x.role)).toEqual(['root', 'timestamp', 'snapshot', 'targets']);
  });

  it('BAD-27 refuses a root that skips a version', async () => {
    const repo = await buildTestRepo();
    const files = await layout(repo);
    const next = Metadata.fromJSON(repo.root.toJSON()) as typeof repo.root;
    next.signed.version = 3;
    next.clearSignatures();
    await signWith(next, repo.signers.root);
    files['metadata/2.root.json'] = text(next);
    const r = verifyRepository(memorySource(files), { at: NOW, requireTargetFiles: true });
    expect(r.ok).toBe(false);
    expect(r.roles[0]!.checks.some((c) => c.code === 'ROLLBACK')).toBe(true);
  });

  it('BAD-31/BAD-33 a snapshot that drops a role or lowers a version against the previous one fails', async () => {
    const repo = await buildTestRepo();
    const prev = Metadata.fromJSON(repo.snapshot.toJSON());
    (prev.signed as any).meta.set('extra.json', new MetaFile(5));
    const files = await layout(repo);
    repo.snapshot.signed.version = 2;
    repo.snapshot.clearSignatures();
    await signWith(repo.snapshot, [repo.signers.snapshot]);
    const files2 = await layout(repo, { 'metadata/1.snapshot.json': text(prev) });
    delete files2['metadata/1.snapshot.json.unused'];
    void files;
    const r = verifyRepository(memorySource(files2), { at: NOW, requireTargetFiles: true });
    const snap = r.roles.find((x) => x.role === 'snapshot')!;
    expect(snap.checks.filter((c) => !c.ok).map((c) => c.code)).toEqual(['ROLLBACK']);
  });

  it('expiry is checked at the given time', async () => {
    const repo = await buildTestRepo();
    const r = verifyRepository(memorySource(await layout(repo)), {
      at: new Date(LATER.getTime() + 1000),
      requireTargetFiles: true,
    });
    expect(r.ok).toBe(false);
    expect(r.roles.every((x) => x.checks.some((c) => c.code === 'METADATA_EXPIRED'))).toBe(true);
  });

  it('walks delegations: thresholds of delegated roles and targets inside delegated paths (BAD-39)', async () => {
    const repo = await buildTestRepo();
    const delegate = testSigner('ed25519', 70);
    repo.targets.signed.delegations = new Delegations(new Map([[delegate.publicKey.keyid(), delegate.publicKey]]), [
      new DelegatedRole('apps', [delegate.publicKey.keyid()], parseThreshold(1), false, ['apps/*']),
    ]);
    repo.targets.clearSignatures();
    await signWith(repo.targets, [repo.signers.targets]);
    const apps = new Metadata(
      new Targets(
        1,
        LATER,
        new Map([
          ['apps/ok.bin', TargetFile.fromData(Buffer.from('ok'))],
          ['other/evil.bin', TargetFile.fromData(Buffer.from('evil'))],
        ]),
      ),
    );
    await signWith(apps, [delegate]);
    repo.snapshot.signed.meta.set('apps.json', new MetaFile(1));
    repo.snapshot.clearSignatures();
    await signWith(repo.snapshot, [repo.signers.snapshot]);
    const files = await layout(repo, { 'metadata/1.apps.json': text(apps) });
    const r = verifyRepository(memorySource(files), { at: NOW, requireTargetFiles: false });
    const appsReport = r.roles.find((x) => x.role === 'apps')!;
    expect(appsReport.checks.filter((c) => !c.ok).map((c) => c.code)).toEqual(['VERIFY_FAILED']);
    expect(r.targets.map((t) => t.path).sort()).toEqual(['apps/ok.bin', 'hello.txt']);
  });

  it('succinct hash bins: a target in the wrong bin is refused', async () => {
    const repo = await buildTestRepo();
    const binKey = testSigner('ed25519', 71);
    const succinct = new SuccinctRoles([binKey.publicKey.keyid()], parseThreshold(1), 1, 'bin');
    repo.targets.signed.delegations = new Delegations(
      new Map([[binKey.publicKey.keyid(), binKey.publicKey]]),
      undefined,
      succinct,
    );
    repo.targets.clearSignatures();
    await signWith(repo.targets, [repo.signers.targets]);
    const paths = ['a.bin', 'b.bin', 'c.bin', 'd.bin'];
    const bin0 = new Metadata(
      new Targets(1, LATER, new Map(paths.map((p) => [p, TargetFile.fromData(Buffer.from(p))]))),
    );
    await signWith(bin0, [binKey]);
    repo.snapshot.signed.meta.set('bin-0.json', new MetaFile(1));
    repo.snapshot.clearSignatures();
    await signWith(repo.snapshot, [repo.signers.snapshot]);
    const r = verifyRepository(memorySource(await layout(repo, { 'metadata/1.bin-0.json': text(bin0) })), {
      at: NOW,
      requireTargetFiles: false,
    });
    const wrongBin = paths.filter((p) => succinct.roleForTarget(p) !== 'bin-0');
    const failures = r.roles.find((x) => x.role === 'bin-0')!.checks.filter((c) => !c.ok);
    expect(failures).toHaveLength(wrongBin.length);
  });

  it('reads historical encodings: legacy keytype ecdsa-sha2-nistp256 with a hex public key', async () => {
    const priv = testKey('ecdsa-sha2-nistp256', 1);
    const point = createPublicKey(priv).export({ format: 'jwk' });
    const hex =
      '04' + Buffer.from(point.x!, 'base64url').toString('hex') + Buffer.from(point.y!, 'base64url').toString('hex');
    const legacy = Key.fromJSON(
      { keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', keyval: { public: hex } },
      '$',
    );
    const signer = testSigner('ecdsa-sha2-nistp256', 1);
    const data = Buffer.from('payload');
    const { signature } = await signer.sign(data);
    expect(legacy.verify(signature, data)).toBe(true);
    expect(legacy.samePublicKey(signer.publicKey)).toBe(true);
    void Role;
    void Signature;
  });
});
