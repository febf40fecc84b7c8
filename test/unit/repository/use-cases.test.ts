/**
 * The repository use cases called in-process on a temp workspace, without the built CLI: init, targets add and
 * remove, sign, refresh, status. Keys are TEST-ONLY ed25519 signers handed in through the SigningContext, the
 * clock is a parameter. Each result is checked by the client-side verifier over the files on disk, and each
 * refusal leaves the workspace byte for byte as it was.
 */
import { parseKeyRef, type ConfiguredKeyRef } from '../../../src/keystore/key-ref';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { TufsignError } from '../../../src/errors';
import type { Signer } from '../../../src/keystore/signer';
import type { SigningContext } from '../../../src/repository/context';
import { initRepository, type InitOptions } from '../../../src/repository/init';
import { refresh } from '../../../src/repository/refresh';
import { signRole } from '../../../src/repository/sign';
import { addTargets, removeTargets } from '../../../src/repository/targets';
import { addRelease, type AddReleaseOptions, type AddReleaseResult } from '../../../src/repository/release';
import { checkReleaseVersion } from '../../../src/release/version';
import { directorySource } from '../../../src/verify/sources';
import { repositoryStatus } from '../../../src/repository/status';
import { verifyRepository } from '../../../src/verify/verify';
import { Workspace } from '../../../src/repository/workspace';
import { metaFileFor } from '../../../src/repository/cascade';
import { Signature, type Metadata } from '../../../src/tuf/metadata';
import type { Key } from '../../../src/tuf/key';
import { testSigner } from '../../helpers/keys';
import { tempDir } from '../../helpers/tmp';
import { makeBundle } from '../../release/helpers';

const T0 = new Date('2026-03-01T00:00:00Z');
const ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
const signers = {
  root: testSigner('ed25519', 21),
  root2: testSigner('ed25519', 22),
  targets: testSigner('ed25519', 23),
  snapshot: testSigner('ed25519', 24),
  timestamp: testSigner('ed25519', 25),
};
const uriOf = (name: keyof typeof signers): string => `file:keys/${name}.pem`;
const ROOT_TMP = tempDir('tufsign-usecase-');
const newDir = (): string => join(mkdtempSync(join(ROOT_TMP, 'ws-')), 'repo');

/** A signing context whose "backend" is a table of test signers; `swap` hands back another key for one URI. */
function context(
  now: Date,
  available: (keyof typeof signers)[],
  swap: Partial<Record<string, Signer>> = {},
): SigningContext & { opened: string[] } {
  const opened: string[] = [];
  return {
    now,
    opened,
    openSigner({ uri }: ConfiguredKeyRef, _expected: Key): Promise<Signer> {
      opened.push(uri);
      const swapped = swap[uri];
      if (swapped !== undefined) return Promise.resolve(swapped);
      const name = available.find((n) => uriOf(n) === uri);
      if (name === undefined) return Promise.reject(new TufsignError('KEY_NOT_FOUND', `no key at ${uri}`));
      return Promise.resolve(signers[name]);
    },
  };
}

/** `publicOnly` keys are listed in root without a URI: their holder signs elsewhere, in a ceremony. */
function initOptions(
  dir: string,
  rootKeys: (keyof typeof signers)[] = ['root'],
  rootThreshold = 1,
  publicOnly: (keyof typeof signers)[] = [],
): InitOptions {
  const spec = (names: (keyof typeof signers)[], threshold = 1): InitOptions['roles']['root'] => ({
    keys: names.map((n) =>
      publicOnly.includes(n)
        ? { key: signers[n].publicKey, owner: n }
        : { key: signers[n].publicKey, ref: parseKeyRef(uriOf(n)), owner: n },
    ),
    threshold,
  });
  return {
    dir,
    name: 'use-case-test',
    consistentSnapshot: true,
    expiry: {},
    roles: {
      root: spec(rootKeys, rootThreshold),
      targets: spec(['targets']),
      snapshot: spec(['snapshot']),
      timestamp: spec(['timestamp']),
    },
  };
}

/** Every file under `dir` with its sha256: the workspace as a value. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(dir.length + 1)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

function verified(dir: string, at: Date): { ok: boolean; failures: string[] } {
  const r = verifyRepository(directorySource(dir), { at, requireTargetFiles: true });
  return {
    ok: r.ok,
    failures: r.roles.flatMap((role) => role.checks.filter((c) => !c.ok).map((c) => `${role.role}: ${c.message}`)),
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof TufsignError ? e.code : `not a TufsignError: ${String(e)}`;
  }
  return 'no error';
}

async function freshWorkspace(): Promise<Workspace> {
  const dir = newDir();
  const r = await initRepository(initOptions(dir), context(T0, ['root', 'targets', 'snapshot', 'timestamp']));
  expect(r.complete).toBe(true);
  return Workspace.open(dir);
}

describe('repository use cases on a temp workspace', () => {
  it('init writes a repository the client-side verifier accepts, and records each key where it lives', async () => {
    const ws = await freshWorkspace();
    expect(verified(ws.dir, T0)).toEqual({ ok: true, failures: [] });
    const files = Object.keys(fingerprint(ws.dir));
    expect(files).toEqual(
      expect.arrayContaining([
        'metadata/1.root.json',
        'metadata/root.json',
        'metadata/1.targets.json',
        'metadata/1.snapshot.json',
        'metadata/timestamp.json',
        'tufsign.json',
      ]),
    );
    expect([...ws.config.keys.values()].map((k) => k.ref?.uri).sort()).toEqual(
      ['root', 'snapshot', 'targets', 'timestamp'].map((n) => `file:keys/${n}.pem`),
    );
    const status = repositoryStatus(ws, T0);
    expect(status.roles.map((r) => [r.role, r.version, r.validSignatures, r.threshold])).toEqual(
      ROLES.map((role) => [role, 1, 1, 1]),
    );
  });

  it('init refuses a folder that already holds a workspace, and changes nothing there', async () => {
    const ws = await freshWorkspace();
    const before = fingerprint(ws.dir);
    expect(
      await codeOf(initRepository(initOptions(ws.dir), context(T0, ['root', 'targets', 'snapshot', 'timestamp']))),
    ).toBe('WORKSPACE_EXISTS');
    expect(fingerprint(ws.dir)).toEqual(before);
  });

  it('init, the library entry, parses each threshold it is handed: 0, negative, 2^53, "2", 1.5 and more than the keys are THRESHOLD_INVALID, nothing written', async () => {
    const hostile: unknown[] = [0, -1, 2 ** 53, '2', 1.5, NaN, 2];
    for (const threshold of hostile) {
      for (const role of ['root', 'timestamp'] as const) {
        const dir = newDir();
        const options = initOptions(dir);
        options.roles[role].threshold = threshold as number;
        expect(await codeOf(initRepository(options, context(T0, ['root', 'targets', 'snapshot', 'timestamp'])))).toBe(
          'THRESHOLD_INVALID',
        );
        expect(existsSync(dir)).toBe(false);
      }
    }
  });

  it('init with a root key that is not here defers: root v1 comes back pending and no metadata is written', async () => {
    const dir = newDir();
    const r = await initRepository(
      { ...initOptions(dir, ['root', 'root2'], 2, ['root2']), deferIncomplete: true },
      context(T0, ['root', 'targets', 'snapshot', 'timestamp']),
    );
    expect(r.complete).toBe(false);
    expect(r.pending?.map((md) => md.signed.type)).toContain('root');
    expect(r.roles.find((x) => x.role === 'root')?.missing.map((m) => [m.keyid, m.owner])).toEqual([
      [signers.root2.publicKey.keyid(), 'root2'],
    ]);
    expect(Object.keys(fingerprint(dir)).filter((f) => f.startsWith('metadata/'))).toEqual([]);
  });

  it('targets add stores the bytes under hash-prefixed names and re-signs targets → snapshot → timestamp', async () => {
    const ws = await freshWorkspace();
    const file = join(ws.dir, '..', 'app.bin');
    writeFileSync(file, 'release bytes\n');
    const ctx = context(new Date(T0.getTime() + 60_000), ['targets', 'snapshot', 'timestamp']);
    const r = await addTargets(ws, [{ file, path: 'app/app.bin' }], ctx);
    expect(r.complete).toBe(true);
    expect(r.roles.map((x) => [x.role, x.version])).toEqual([
      ['targets', 2],
      ['snapshot', 2],
      ['timestamp', 2],
    ]);
    expect(ctx.opened).not.toContain(uriOf('root')); // online roles only: the root key is never asked for
    const sha256 = createHash('sha256').update('release bytes\n').digest('hex');
    expect(readFileSync(join(ws.targetsDir, 'app', `${sha256}.app.bin`), 'utf8')).toBe('release bytes\n');
    expect(verified(ws.dir, ctx.now)).toEqual({ ok: true, failures: [] });

    const removed = await removeTargets(ws, ['app/app.bin'], ctx);
    expect(removed.roles.map((x) => [x.role, x.version])).toEqual([
      ['targets', 3],
      ['snapshot', 3],
      ['timestamp', 3],
    ]);
    expect(ws.load().targets.signed.targets.has('app/app.bin')).toBe(false);
    expect(verified(ws.dir, ctx.now).ok).toBe(true);
  });

  it('targets add refuses an unsafe target path before reading anything, and changes nothing', async () => {
    const ws = await freshWorkspace();
    const before = fingerprint(ws.dir);
    const code = await codeOf(
      addTargets(ws, [{ file: '/nonexistent', path: '../escape' }], context(T0, ['targets', 'snapshot', 'timestamp'])),
    );
    expect(code).toBe('PATH_UNSAFE');
    expect(fingerprint(ws.dir)).toEqual(before);
  });

  it('a backend that signs with the wrong key is caught before anything is saved', async () => {
    const ws = await freshWorkspace();
    const before = fingerprint(ws.dir);
    const file = join(ws.dir, '..', 'x.txt');
    writeFileSync(file, 'x');
    const ctx = context(T0, ['targets', 'snapshot', 'timestamp'], { [uriOf('targets')]: signers.snapshot });
    expect(await codeOf(addTargets(ws, [{ file, path: 'x.txt' }], ctx))).toBe('SIGNATURE_INVALID');
    expect(fingerprint(ws.dir)).toEqual(before);
  });

  it('a missing online key refuses the whole operation with nothing written', async () => {
    const ws = await freshWorkspace();
    const before = fingerprint(ws.dir);
    const code = await codeOf(refresh(ws, context(T0, ['snapshot'])));
    expect(code).toBe('KEY_NOT_FOUND'); // the backend's refusal, unchanged
    expect(fingerprint(ws.dir)).toEqual(before);
  });

  it('refresh re-signs snapshot and timestamp with new versions and expiries from the clock it is given', async () => {
    const ws = await freshWorkspace();
    const later = new Date(T0.getTime() + 86_400_000);
    const before = ws.load();
    const r = await refresh(ws, context(later, ['snapshot', 'timestamp']));
    expect(r.roles.map((x) => [x.role, x.version])).toEqual([
      ['snapshot', 2],
      ['timestamp', 2],
    ]);
    const after = ws.load();
    expect(after.timestamp.signed.expires.getTime()).toBeGreaterThan(before.timestamp.signed.expires.getTime());
    expect(after.targets.signed.version).toBe(1);
    expect(verified(ws.dir, later).ok).toBe(true);
  });

  it('sign root --bump writes root v2 signed by the root key, and the verifier follows the rotation', async () => {
    const ws = await freshWorkspace();
    const r = await signRole(ws, 'root', { bump: true }, context(T0, ['root']));
    expect(r.roles.map((x) => [x.role, x.version, x.complete])).toEqual([['root', 2, true]]);
    expect(Object.keys(fingerprint(ws.dir))).toEqual(expect.arrayContaining(['metadata/2.root.json']));
    expect(verified(ws.dir, T0)).toEqual({ ok: true, failures: [] });
  });

  it('sign without --bump only adds missing signatures: same bytes when nothing is missing', async () => {
    const ws = await freshWorkspace();
    const before = fingerprint(ws.dir);
    const r = await signRole(ws, 'targets', {}, context(T0, ['targets']));
    expect(r.roles.map((x) => [x.role, x.version])).toEqual([['targets', 1]]);
    const after = fingerprint(ws.dir);
    for (const f of Object.keys(before).filter((p) => p.startsWith('metadata/'))) expect(after[f]).toBe(before[f]);
  });
});

/** Sign `md` afresh with one test signer and write it under its version (the test's stand-in for another tool). */
async function rewrite(ws: Workspace, md: Metadata, by: keyof typeof signers | undefined): Promise<Uint8Array> {
  md.clearSignatures();
  if (by !== undefined) {
    const { signature } = await signers[by].sign(md.signedBytes());
    md.addSignature(new Signature(signers[by].publicKey.keyid(), Buffer.from(signature).toString('hex')));
  }
  ws.writeMetadata(md, true);
  return readFileSync(join(ws.metadataDir, `${md.signed.version}.${md.signed.type}.json`));
}

describe('sign without --bump when another role records the bytes it changes (ADR 0013)', () => {
  /**
   * targets v1 published without its signature (its key was elsewhere, as after a threshold change), under a
   * snapshot v2 that lists targets.json by version only, or (as go-tuf's do) with its length and hashes.
   */
  async function unsignedTargets(withHashes: boolean): Promise<Workspace> {
    const ws = await freshWorkspace();
    const repo = ws.load();
    const targetsBytes = await rewrite(ws, repo.targets, undefined);
    repo.snapshot.signed.version = 2;
    repo.snapshot.signed.meta.set('targets.json', metaFileFor(targetsBytes, 1, withHashes));
    const snapshotBytes = await rewrite(ws, repo.snapshot, 'snapshot');
    repo.timestamp.signed.version = 2;
    repo.timestamp.signed.snapshotMeta = metaFileFor(snapshotBytes, 2, true);
    repo.timestamp.clearSignatures();
    const { signature } = await signers.timestamp.sign(repo.timestamp.signedBytes());
    repo.timestamp.addSignature(
      new Signature(signers.timestamp.publicKey.keyid(), Buffer.from(signature).toString('hex')),
    );
    ws.writeMetadata(repo.timestamp, true);
    expect(verified(ws.dir, T0).failures).toEqual([expect.stringMatching(/^targets: signatures: 0\/1/)]);
    return ws;
  }

  it('snapshot records targets by version only: targets gets its signature, snapshot and timestamp stay', async () => {
    const ws = await unsignedTargets(false);
    const before = fingerprint(ws.dir);
    const r = await signRole(ws, 'targets', {}, context(T0, ['targets', 'snapshot', 'timestamp']));
    expect(r.roles.map((x) => [x.role, x.version])).toEqual([['targets', 1]]);
    const after = fingerprint(ws.dir);
    expect(Object.keys(after).filter((f) => after[f] !== before[f])).toEqual(['metadata/1.targets.json']);
    expect(verified(ws.dir, T0)).toEqual({ ok: true, failures: [] });
  });

  it('snapshot records targets by hash: a new snapshot names the signed bytes, and a new timestamp names it', async () => {
    const ws = await unsignedTargets(true);
    const r = await signRole(ws, 'targets', {}, context(T0, ['targets', 'snapshot', 'timestamp']));
    expect(r.roles.map((x) => [x.role, x.version])).toEqual([
      ['targets', 1],
      ['snapshot', 3],
      ['timestamp', 3],
    ]);
    const targetsBytes = readFileSync(join(ws.metadataDir, '1.targets.json'));
    const meta = ws.load().snapshot.signed.meta.get('targets.json');
    expect(meta?.length).toBe(targetsBytes.length);
    expect(meta?.hashes?.get('sha256')).toBe(createHash('sha256').update(targetsBytes).digest('hex'));
    expect(verified(ws.dir, T0)).toEqual({ ok: true, failures: [] });
  });

  it('snapshot records targets by hash and its key is not here: refused, nothing written', async () => {
    const ws = await unsignedTargets(true);
    const before = fingerprint(ws.dir);
    expect(await codeOf(signRole(ws, 'targets', {}, context(T0, ['targets', 'timestamp'])))).toBe('KEY_NOT_FOUND');
    expect(fingerprint(ws.dir)).toEqual(before);
  });
});

describe('add-release use case on a temp workspace', () => {
  // async: a version refused by checkReleaseVersion (the cli boundary's parse) is a rejection, as from the CLI
  const release = async (
    ws: Workspace,
    version: string,
    dir: string,
    extra: Partial<AddReleaseOptions> = {},
  ): Promise<AddReleaseResult> =>
    addRelease(
      ws,
      {
        app: 'demo_app',
        version: checkReleaseVersion(version),
        dir,
        env: { SOURCE_DATE_EPOCH: '1700000000' },
        ...extra,
      },
      {
        ...context(T0, ['targets', 'snapshot', 'timestamp']),
        tool: 'tufsign test',
        openAnySigner: () => Promise.reject(new TufsignError('KEY_NOT_FOUND', 'not used here')),
      },
    );

  it('with the online key files absent, writes a signing request (and stages the archive) but publishes no metadata', async () => {
    const ws = await freshWorkspace();
    const before = fingerprint(ws.dir);
    const r = await release(ws, '1.0', makeBundle(mkdtempSync(join(ROOT_TMP, 'b-')), 'v1'));
    expect(r.request?.request).toMatch(/\.tufsign-request\.json$/);
    const after = fingerprint(ws.dir);
    const added = Object.keys(after).filter((f) => !(f in before));
    expect(added.filter((f) => !f.startsWith('targets/'))).toEqual([expect.stringMatching(/tufsign-request\.json$/)]);
    expect(added.filter((f) => f.startsWith('targets/')).every((f) => f.endsWith('.demo_app-1.0.tar.gz'))).toBe(true);
    expect(ws.load().targets.signed.targets.size).toBe(0);
    for (const f of Object.keys(before)) expect(after[f]).toBe(before[f]);
  });

  it('publishes an archive, then a patch from it; versions are checked once and only move forward', async () => {
    const ws = await freshWorkspace();
    // the key-availability rule looks for file: keys on disk; the signers themselves come from the context
    mkdirSync(join(ws.dir, 'keys'));
    for (const n of ['targets', 'snapshot', 'timestamp'])
      writeFileSync(join(ws.dir, 'keys', `${n}.pem`), 'placeholder');
    const v1 = makeBundle(mkdtempSync(join(ROOT_TMP, 'b1-')), 'v1');
    const v2 = makeBundle(mkdtempSync(join(ROOT_TMP, 'b2-')), 'v2');
    const r1 = await release(ws, '1.0', v1);
    expect([r1.archive.path, r1.patch]).toEqual(['demo_app-1.0.tar.gz', null]);
    const r2 = await release(ws, '1.1rc1', v2);
    expect([r2.archive.path, r2.patch?.path, r2.patch?.from]).toEqual([
      'demo_app-1.1rc1.tar.gz',
      'demo_app-1.1rc1.patch',
      '1.0',
    ]);
    expect(verified(ws.dir, T0)).toEqual({ ok: true, failures: [] });

    const before = fingerprint(ws.dir);
    expect(await codeOf(release(ws, '1.1a1', v2))).toBe('RELEASE_NOT_NEWER'); // below 1.1rc1 in PEP 440 order
    expect(await codeOf(release(ws, '1.1-rc.2', v2))).toBe('VERSION_INVALID'); // valid PEP 440, not in normalized form
    expect(fingerprint(ws.dir)).toEqual(before);
  });

  // BAD-46 with a patch: the folder is streamed once (archive, and the tar copy the patch engine reads), so a file
  // that changes between the scan and its read must stop the build with nothing committed, and a re-run must work.
  it('a folder that changes while a patched release streams (grows, shrinks, is replaced): RELEASE_FILE_CHANGED, nothing committed, re-run works', async () => {
    const ws = await freshWorkspace();
    mkdirSync(join(ws.dir, 'keys'));
    for (const n of ['targets', 'snapshot', 'timestamp'])
      writeFileSync(join(ws.dir, 'keys', `${n}.pem`), 'placeholder');
    await release(ws, '1.0', makeBundle(mkdtempSync(join(ROOT_TMP, 'c1-')), 'v1'));
    const v2 = makeBundle(mkdtempSync(join(ROOT_TMP, 'c2-')), 'v3');
    const data = join(v2, 'lib', 'data.bin');
    const original = readFileSync(data);
    const changes: Record<string, () => void> = {
      grows: () => appendFileSync(data, 'more'),
      shrinks: () => truncateSync(data, original.length - 100),
      replaced: () => {
        writeFileSync(`${data}.new`, original); // same size and bytes, another file
        renameSync(`${data}.new`, data);
      },
    };
    const before = fingerprint(ws.dir);
    for (const [what, change] of Object.entries(changes)) {
      let changed = false;
      const code = await codeOf(
        release(ws, '2.0', v2, {
          // 'compress' at 0 comes once the scan is done, before the first file is read
          onProgress: (p) => {
            if (p.stage === 'compress' && p.done === 0 && !changed) {
              changed = true;
              change();
            }
          },
        }),
      );
      expect([what, changed, code]).toEqual([what, true, 'RELEASE_FILE_CHANGED']);
      expect(fingerprint(ws.dir)).toEqual(before); // no archive, patch, scratch tar or metadata left
      writeFileSync(data, original);
    }
    const r = await release(ws, '2.0', v2);
    expect([r.archive.path, r.patch?.path, r.patch?.from]).toEqual([
      'demo_app-2.0.tar.gz',
      'demo_app-2.0.patch',
      '1.0',
    ]);
    expect(verified(ws.dir, T0)).toEqual({ ok: true, failures: [] });
  });
});
