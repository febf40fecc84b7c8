import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Targets } from '../../src/tuf/metadata';
import { buildRelease, buildReleaseFiles, type BuiltRelease } from '../../src/release/build';
import { checkReleaseVersion, parseVersion } from '../../src/release/version';
import { latestRelease, listReleases, releasedVersions } from '../../src/release/list';
import { expectCodeAsync, makeBundle, run, scratch, sha256sum, PY_BSPATCH } from './helpers';

const tmp = scratch();

function register(targets: Targets, r: BuiltRelease): void {
  targets.targets.set(r.archive.name, r.archive.targetFile);
  if (r.patch !== undefined) targets.targets.set(r.patch.name, r.patch.targetFile);
}

async function addRelease(
  targets: Targets,
  app: string,
  version: string,
  dir: string,
  t: number,
  extra: { required?: boolean } = {},
): Promise<BuiltRelease> {
  const prev = latestRelease(targets, app);
  const r = await buildRelease({
    app,
    version: checkReleaseVersion(version),
    dir,
    releaseTime: t,
    required: extra.required,
    existingVersions: releasedVersions(targets, app),
    previous:
      prev === undefined
        ? undefined
        : {
            version: prev.parsed,
            archiveBytes: archives.get(prev.archive!.path),
            targetFile: prev.archive!.targetFile,
          },
  });
  register(targets, r);
  archives.set(r.archive.name, r.archive.bytes);
  return r;
}
const archives = new Map<string, Buffer>();

describe('three-release history 1.0 → 1.1 → 2.0rc1', () => {
  test('patches chain, channels are listed, and a client one version behind can patch', async () => {
    const targets = new Targets(1, new Date('2030-01-01T00:00:00Z'));
    targets.targets.set(
      'unrelated.txt',
      (await buildRelease({ app: 'other', version: checkReleaseVersion('1'), dir: makeBundle(tmp()), releaseTime: 1 }))
        .archive.targetFile,
    );
    const r10 = await addRelease(targets, 'example_app', '1.0', makeBundle(tmp(), 'v1'), 1_700_000_000);
    const r11 = await addRelease(targets, 'example_app', '1.1', makeBundle(tmp(), 'v2'), 1_700_000_100, {
      required: true,
    });
    const r20 = await addRelease(targets, 'example_app', '2.0rc1', makeBundle(tmp(), 'v3'), 1_700_000_200);
    expect(r10.patch).toBeUndefined();
    expect(r10.patchSkipped).toMatch(/first release/);
    expect(r11.patch?.fromVersion).toBe('1.0');
    expect(r20.patch?.fromVersion).toBe('1.1');

    const list = listReleases(targets, 'example_app');
    expect(list.map((r) => [r.version, r.channel, r.archive?.required, r.patch !== undefined])).toEqual([
      ['1.0', 'final', false, false],
      ['1.1', 'final', true, true],
      ['2.0rc1', 'rc', false, true],
    ]);
    expect(list[2]!.patch).toMatchObject({
      tarSize: r20.tar.size,
      tarHash: r20.tar.sha256,
      length: r20.patch!.bytes.length,
    });
    expect(latestRelease(targets, 'example_app')?.version).toBe('2.0rc1');
    // Non-release targets (unrelated.txt) are not releases.
    expect(listReleases(targets).map((r) => r.app)).toEqual(['example_app', 'example_app', 'example_app']);

    // A client on 1.0 applies both patches in order (as tufup does) and checks the last tar_hash.
    const d = tmp();
    writeFileSync(join(d, 'tar10'), r10.tar.bytes);
    writeFileSync(join(d, 'p11'), r11.patch!.bytes);
    writeFileSync(join(d, 'p20'), r20.patch!.bytes);
    run('bspatch', [join(d, 'tar10'), join(d, 'tar11'), join(d, 'p11')]);
    run('python3', ['-c', PY_BSPATCH, join(d, 'tar11'), join(d, 'p20'), join(d, 'tar20')]);
    expect(sha256sum(readFileSync(join(d, 'tar20')))).toBe(list[2]!.patch!.tarHash);

    // Not newer than what is released: refused.
    for (const v of ['1.1', '2.0rc1', '2.0a1', '1.0.post1']) {
      await expectCodeAsync(
        () => addRelease(targets, 'example_app', v, makeBundle(tmp(), 'v3'), 1_700_000_300),
        'RELEASE_NOT_NEWER',
      );
    }
    // The final 2.0 is newer than 2.0rc1.
    const r2 = await addRelease(targets, 'example_app', '2.0', makeBundle(tmp(), 'v3'), 1_700_000_300);
    expect(r2.patch?.fromVersion).toBe('2.0rc1');
  });

  test('a patch no smaller than 0.8 of the archive is skipped', async () => {
    const a = tmp();
    const b = tmp();
    writeFileSync(join(a, 'blob'), randomBytes(200_000));
    writeFileSync(join(b, 'blob'), randomBytes(200_000));
    const r1 = await buildRelease({ app: 'x', version: checkReleaseVersion('1.0'), dir: a, releaseTime: 1 });
    const r2 = await buildRelease({
      app: 'x',
      version: checkReleaseVersion('1.1'),
      dir: b,
      releaseTime: 2,
      previous: { version: parseVersion('1.0'), tarBytes: r1.tar.bytes },
    });
    expect(r2.patch).toBeUndefined();
    expect(r2.patchSkipped).toMatch(/0\.8/);
    const r3 = await buildRelease({
      app: 'x',
      version: checkReleaseVersion('1.2'),
      dir: b,
      releaseTime: 3,
      previous: { version: parseVersion('1.1'), tarBytes: r2.tar.bytes },
      noPatch: true,
    });
    expect(r3.patchSkipped).toMatch(/no-patch/);
  });

  test('the previous archive must match its signed target info', async () => {
    const r1 = await buildRelease({
      app: 'x',
      version: checkReleaseVersion('1.0'),
      dir: makeBundle(tmp()),
      releaseTime: 1,
    });
    const tampered = Buffer.from(r1.archive.bytes);
    tampered[tampered.length - 1]! ^= 1;
    await expectCodeAsync(
      () =>
        buildRelease({
          app: 'x',
          version: checkReleaseVersion('1.1'),
          dir: makeBundle(tmp(), 'v2'),
          releaseTime: 2,
          previous: { version: parseVersion('1.0'), archiveBytes: tampered, targetFile: r1.archive.targetFile },
        }),
      'ARCHIVE_INVALID',
    );
    await expectCodeAsync(
      () =>
        buildRelease({
          app: 'x',
          version: checkReleaseVersion('1.1'),
          dir: makeBundle(tmp(), 'v2'),
          releaseTime: 2,
          previous: { version: parseVersion('1.0'), archivePath: '/nonexistent.tar.gz' },
        }),
      'TARGET_NOT_FOUND',
    );
    // The new archive streams while the previous one is checked: when the check fails, nothing is left of it.
    const staging = join(tmp(), 'staging');
    mkdirSync(staging);
    const tamperedPath = join(tmp(), 'x-1.0.tar.gz');
    writeFileSync(tamperedPath, tampered);
    await expectCodeAsync(
      () =>
        buildReleaseFiles({
          app: 'x',
          version: checkReleaseVersion('1.1'),
          dir: makeBundle(tmp(), 'v2'),
          releaseTime: 2,
          previous: { version: parseVersion('1.0'), archivePath: tamperedPath, targetFile: r1.archive.targetFile },
          outDir: staging,
        }),
      'ARCHIVE_INVALID',
    );
    expect(readdirSync(staging)).toEqual([]);
    await expectCodeAsync(
      () => buildRelease({ app: 'x y', version: checkReleaseVersion('1.1'), dir: makeBundle(tmp()), releaseTime: 2 }),
      'RELEASE_INVALID',
    );
    await expectCodeAsync(
      () =>
        buildRelease({ app: 'x', version: checkReleaseVersion('1.1-beta'), dir: makeBundle(tmp()), releaseTime: 2 }),
      'VERSION_INVALID',
    );
  });
});
