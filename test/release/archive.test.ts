import { chmodSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { gunzipBounded, gzipDeterministic } from '../../src/release/gzip';
import { buildRelease, buildTar, releaseTimeFrom, verifyRelease } from '../../src/release/build';
import { checkReleaseVersion } from '../../src/release/version';
import { readTar, tarRegions, TarStreamReader, type TarMemberDigest } from '../../src/release/tar';
import { expectCode, makeBundle, run, scratch, sha256sum } from './helpers';

const EPOCH = 1_700_000_000;
// Pinned: the archive for makeBundle('v1') at SOURCE_DATE_EPOCH=1700000000 (Node 20 zlib, level 6).
const GOLDEN_ARCHIVE_SHA256 = 'fb0cbade1f09f28ac0c9ee65cd800e2159eb1241a0c7711bf43f9880131ebd91';
const GOLDEN_TAR_SHA256 = '9486fd5426af2c99e7468af8e8583c7781e51b9c21364a000e71581120311534';

const tmp = scratch();

/** The streaming reader over `tar` cut into pieces of random sizes (1 byte … 2 KiB). */
function streamRead(tar: Uint8Array): TarMemberDigest[] {
  const reader = new TarStreamReader();
  for (let at = 0; at < tar.length;) {
    const n = 1 + Math.floor(Math.random() * 2048);
    reader.push(tar.subarray(at, at + n));
    at += n;
  }
  return reader.end();
}
function bundle(variant: 'v1' | 'v2' = 'v1', mtime?: number): string {
  return makeBundle(tmp(), variant, mtime);
}

describe('deterministic archive', () => {
  test('golden bytes for a fixed folder and SOURCE_DATE_EPOCH', async () => {
    const dir = bundle();
    const time = releaseTimeFrom({ SOURCE_DATE_EPOCH: String(EPOCH) }, new Date(0));
    expect(time).toBe(EPOCH);
    const r = await buildRelease({ app: 'example_app', version: checkReleaseVersion('1.0'), dir, releaseTime: time });
    expect(r.archive.name).toBe('example_app-1.0.tar.gz');
    expect(r.tar.size % 10240).toBe(0);
    expect(r.tar.sha256).toBe(GOLDEN_TAR_SHA256);
    expect(sha256sum(r.archive.bytes)).toBe(GOLDEN_ARCHIVE_SHA256);
    // gzip header: no FNAME, MTIME 0, OS 255
    expect([...r.archive.bytes.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    expect(r.archive.targetFile.length).toBe(r.archive.bytes.length);
    expect(r.archive.targetFile.hashes.get('sha256')).toBe(GOLDEN_ARCHIVE_SHA256);
    // one hash, one file name per target with consistent snapshots (ADR 0017)
    expect([...r.archive.targetFile.hashes.keys()]).toEqual(['sha256']);
    expect(JSON.parse(JSON.stringify(r.archive.targetFile.custom))).toEqual({ user: null, tufup: { required: false } });
    expect(r.patch).toBeUndefined();
  });

  test('same bytes whatever the file times, permission bits and umask', async () => {
    const a = bundle('v1', 1_000_000_000);
    const b = bundle('v1', 1_600_000_000);
    chmodSync(join(b, 'app.py'), 0o600);
    chmodSync(join(b, 'run.sh'), 0o700);
    chmodSync(join(b, 'lib'), 0o700);
    utimesSync(join(b, 'lib'), 5, 5);
    const old = process.umask(0o077);
    let ra, rb;
    try {
      ra = await buildRelease({ app: 'x', version: checkReleaseVersion('1.0'), dir: a, releaseTime: EPOCH });
      rb = await buildRelease({
        app: 'x',
        version: checkReleaseVersion('1.0'),
        dir: b,
        releaseTime: EPOCH,
        meta: { note: 'meta does not change bytes' },
      });
    } finally {
      process.umask(old);
    }
    expect(Buffer.compare(ra.archive.bytes, rb.archive.bytes)).toBe(0);
    expect(JSON.parse(JSON.stringify(rb.archive.targetFile.custom))).toEqual({
      user: { note: 'meta does not change bytes' },
      tufup: { required: false },
    });
  });

  test('identical to CPython tarfile (PAX_FORMAT, arcname ".") with the same normalisation', () => {
    const dir = bundle();
    const { tar } = buildTar(dir, EPOCH);
    const py = `
import io, sys, tarfile
def norm(ti):
    ti.uid = ti.gid = 0; ti.uname = ti.gname = ''; ti.mtime = ${EPOCH}
    ti.mode = 0o755 if ti.isdir() or ti.mode & 0o111 else 0o644
    return ti
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:
    t.add(sys.argv[1], arcname='.', filter=norm)
sys.stdout.buffer.write(buf.getvalue())`;
    const ref = run('python3', ['-c', py, dir]);
    expect(sha256sum(tar)).toBe(sha256sum(ref));
  });

  test('GNU tar lists it and Python tarfile reads it', async () => {
    const dir = bundle();
    const r = await buildRelease({ app: 'x', version: checkReleaseVersion('1.0'), dir, releaseTime: EPOCH });
    const out = tmp();
    const file = join(out, r.archive.name);
    writeFileSync(file, r.archive.bytes);
    const listing = run('tar', ['-tvf', file]).toString('utf8');
    expect(listing).toContain('./lib/core.py');
    expect(listing).toMatch(/-rwxr-xr-x 0\/0 .* \.\/run\.sh/);
    expect(listing).toContain('./données/été.txt');
    expect(listing).toContain('x'.repeat(90) + '.txt');
    const py = `
import sys, tarfile
with tarfile.open(sys.argv[1], 'r:gz') as t:
    for m in t.getmembers():
        print(m.name, m.type.decode(), oct(m.mode), m.uid, m.gid, repr(m.uname), m.mtime, m.size)
        if m.isfile(): assert len(t.extractfile(m).read()) == m.size`;
    const lines = run('python3', ['-c', py, file]).toString('utf8').trim().split('\n');
    expect(lines[0]).toBe(`. 5 0o755 0 0 '' ${EPOCH} 0`);
    expect(lines).toContain(`./run.sh 0 0o755 0 0 '' ${EPOCH} 19`);
    expect(lines).toContain(`./app.py 0 0o644 0 0 '' ${EPOCH} 15`);
    expect(lines.some((l) => l.startsWith('./données/été.txt 0 0o644'))).toBe(true);
    // CPython sorts each folder's entries: "a" (and its contents) before "a.txt".
    const names = lines.map((l) => l.split(' ')[0]);
    expect(names.indexOf('./a/b.txt')).toBeLessThan(names.indexOf('./a.txt'));
  });

  test('verifyRelease: identical rebuild, then a changed file is found', async () => {
    const dir = bundle();
    const r = await buildRelease({ app: 'x', version: checkReleaseVersion('1.0'), dir, releaseTime: EPOCH });
    const ok = await verifyRelease({ dir, archiveBytes: r.archive.bytes });
    expect(ok).toMatchObject({ identical: true, tarIdentical: true, releaseTime: EPOCH, differences: [] });
    writeFileSync(join(dir, 'app.py'), 'tampered\n');
    mkdirSync(join(dir, 'extra'));
    const bad = await verifyRelease({ dir, archiveBytes: r.archive.bytes });
    expect(bad.identical).toBe(false);
    expect(bad.differences).toEqual(
      expect.arrayContaining([
        { path: 'app.py', what: 'content' },
        { path: 'extra', what: 'missing-in-archive' },
      ]),
    );
  });

  test('verifyRelease from the archive file (read in pieces): every kind of difference, and a bad archive', async () => {
    const dir = bundle();
    const r = await buildRelease({ app: 'x', version: checkReleaseVersion('1.0'), dir, releaseTime: EPOCH });
    const archivePath = join(tmp(), 'x-1.0.tar.gz');
    writeFileSync(archivePath, r.archive.bytes);
    const ok = await verifyRelease({ dir, archivePath, threads: 1 });
    expect(ok).toMatchObject({ identical: true, tarIdentical: true, releaseTime: EPOCH, differences: [] });
    expect(ok.published.sha256).toBe(sha256sum(r.archive.bytes));
    expect(ok.rebuilt).toMatchObject({ sha256: ok.published.sha256, tarSha256: r.tar.sha256, tarSize: r.tar.size });
    chmodSync(join(dir, 'app.py'), 0o755);
    writeFileSync(join(dir, 'run.sh'), 'same length, other');
    rmSync(join(dir, 'a.txt'));
    rmSync(join(dir, 'a'), { recursive: true });
    writeFileSync(join(dir, 'a'), 'now a file');
    const bad = await verifyRelease({ dir, archivePath, threads: 2 });
    expect(bad).toMatchObject({ identical: false, tarIdentical: false });
    expect(bad.differences).toEqual(
      expect.arrayContaining([
        { path: 'app.py', what: 'mode' },
        { path: 'run.sh', what: 'content' },
        { path: 'a.txt', what: 'missing-in-folder' },
        { path: 'a', what: 'type' },
        { path: 'a/b.txt', what: 'missing-in-folder' },
      ]),
    );
    const truncated = join(tmp(), 'cut.tar.gz');
    writeFileSync(truncated, r.archive.bytes.subarray(0, r.archive.bytes.length - 20));
    await expect(verifyRelease({ dir, archivePath: truncated })).rejects.toMatchObject({ code: 'ARCHIVE_INVALID' });
    await expect(verifyRelease({ dir, archivePath: join(tmp(), 'none.tar.gz') })).rejects.toMatchObject({
      code: 'IO_ERROR',
    });
  });

  test('multi-block gzip (parallel, 4 MiB blocks) is one valid, deterministic stream', async () => {
    const data = Buffer.concat([Buffer.alloc(3 << 20, 7), randomBytes(3 << 20), Buffer.from('text '.repeat(700_000))]);
    const a = await gzipDeterministic(data);
    const b = await gzipDeterministic(Buffer.from(data));
    expect(Buffer.compare(a, b)).toBe(0);
    expect(sha256sum(run('gzip', ['-dc'], a))).toBe(sha256sum(data));
    expect(
      sha256sum(
        run(
          'python3',
          ['-c', 'import gzip, sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))'],
          a,
        ),
      ),
    ).toBe(sha256sum(data));
    expect(a.length).toBeLessThan(data.length * 0.55);
  });

  test('SOURCE_DATE_EPOCH must be whole seconds', () => {
    expect(releaseTimeFrom({}, new Date(5_000))).toBe(5);
    expectCode(() => releaseTimeFrom({ SOURCE_DATE_EPOCH: '1.5' }, new Date(0)), 'RELEASE_INVALID');
    expectCode(() => releaseTimeFrom({ SOURCE_DATE_EPOCH: '-1' }, new Date(0)), 'RELEASE_INVALID');
  });
});

describe('reading archives strictly (BAD-48 … BAD-52)', () => {
  function pyTar(script: string): Buffer {
    return run('python3', [
      '-c',
      `import io, tarfile\nbuf = io.BytesIO()\nt = tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT)\ndef add(name, data=b'', type=tarfile.REGTYPE, **kw):\n    ti = tarfile.TarInfo(name); ti.type = type; ti.size = len(data)\n    for k, v in kw.items(): setattr(ti, k, v)\n    t.addfile(ti, io.BytesIO(data))\n${script}\nt.close()\nimport sys; sys.stdout.buffer.write(buf.getvalue())`,
    ]);
  }

  test('a tufsign tar reads back with its entries', () => {
    const dir = bundle();
    const { tar } = buildTar(dir, EPOCH);
    const entries = readTar(tar);
    expect(entries[0]).toMatchObject({ path: '', type: 'dir', mtime: EPOCH });
    expect(entries.find((e) => e.path === 'app.py')).toMatchObject({ type: 'file', size: 15, mode: 0o644 });
    expect(tarRegions(tar)?.length).toBe(entries.filter((e) => e.type === 'file' && e.size > 0).length);
    // The streaming reader finds the same members, each file's data hashed.
    expect(streamRead(tar)).toEqual(
      entries.map(({ offset, ...e }) => ({
        ...e,
        sha256: e.type === 'file' ? sha256sum(tar.subarray(offset, offset + e.size)) : '',
      })),
    );
  });

  test('tarRegions reads numeric fields as other tar writers format them, and gives up on one that is not octal', () => {
    const { tar } = buildTar(bundle(), EPOCH);
    const regions = tarRegions(tar)!;
    const at = regions[0]!.offset - 512;
    const size = regions[0]!.size;
    // The first file's size field rewritten (12 bytes at 124), its header checksum recomputed.
    const withSize = (field: Buffer): Buffer => {
      const t = Buffer.from(tar);
      field.copy(t, at + 124);
      t.fill(0x20, at + 148, at + 156);
      let sum = 0;
      for (let i = at; i < at + 512; i++) sum += t[i]!;
      t.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
      return t;
    };
    const text = (s: string): Buffer => Buffer.from(s.padEnd(12, '\0'), 'latin1');
    const oct = size.toString(8);
    expect(tarRegions(withSize(text(oct.padStart(11, '0'))))).toEqual(regions);
    expect(tarRegions(withSize(text(`   ${oct}\0  `)))).toEqual(regions); // leading spaces, trailing NUL and spaces
    expect(tarRegions(withSize(text(`${oct} `)))).toEqual(regions);
    const base256 = Buffer.alloc(12);
    base256[0] = 0x80;
    base256.writeUIntBE(size, 6, 6);
    expect(tarRegions(withSize(base256))).toEqual(regions);
    expect(tarRegions(withSize(text(`${oct}8`)))).toBeUndefined();
    expect(tarRegions(withSize(text(`1\0${oct}`)))).toBeUndefined(); // a NUL inside the digits
    expect(tarRegions(withSize(Buffer.from([0x81, ...Buffer.alloc(11)])))).toBeUndefined(); // negative base-256
    // A bad checksum: not a tar it can follow.
    const bad = Buffer.from(tar);
    bad[at + 1] = bad[at + 1]! ^ 1;
    expect(tarRegions(bad)).toBeUndefined();
  });

  test.each([
    ['absolute path', "add('/etc/passwd', b'x')", 'ARCHIVE_INVALID'],
    ['../ path', "add('./../x', b'x')", 'PATH_UNSAFE'],
    ['symlink', "add('./l', type=tarfile.SYMTYPE, linkname='../../etc')", 'ARCHIVE_INVALID'],
    ['hard link', "add('./h', type=tarfile.LNKTYPE, linkname='./a')", 'ARCHIVE_INVALID'],
    ['FIFO', "add('./f', type=tarfile.FIFOTYPE)", 'ARCHIVE_INVALID'],
    ['char device', "add('./c', type=tarfile.CHRTYPE)", 'ARCHIVE_INVALID'],
    [
      'all-digit pax path',
      "t.pax_headers = {}\nti = tarfile.TarInfo('./x'); ti.pax_headers = {'path': '12345'}; t.addfile(ti, io.BytesIO(b''))",
      'ARCHIVE_INVALID',
    ],
    ['duplicate entries', "add('./a', b'1')\nadd('./a', b'2')", 'ARCHIVE_INVALID'],
    ['a file beneath a file', "add('./a', b'1')\nadd('./a/b', b'2')", 'ARCHIVE_INVALID'],
    ['a file where a folder was implied', "add('./a/b', b'1')\nadd('./a', b'2')", 'ARCHIVE_INVALID'],
    ['a folder entry over a file', "add('./a', b'1')\nadd('./a', type=tarfile.DIRTYPE)", 'ARCHIVE_INVALID'],
  ])('%s is refused (whole, and streamed in pieces)', (_what, script, code) => {
    const tar = pyTar(script);
    expectCode(() => readTar(tar), code as 'ARCHIVE_INVALID');
    expectCode(() => streamRead(tar), code as 'ARCHIVE_INVALID');
  });

  test('streamed: a pax header over 1 MiB, data after the end marker and a missing end marker are refused', () => {
    const huge = pyTar(
      "ti = tarfile.TarInfo('./x'); ti.pax_headers = {'comment': 'c' * (1 << 20)}; t.addfile(ti, io.BytesIO(b''))",
    );
    expectCode(() => streamRead(huge), 'ARCHIVE_INVALID');
    expectCode(() => readTar(huge), 'ARCHIVE_INVALID');
    const tar = pyTar("add('./a', b'x' * 100)");
    const trailing = Buffer.from(tar);
    trailing[trailing.length - 1] = 1;
    expectCode(() => streamRead(trailing), 'ARCHIVE_INVALID');
    expectCode(() => streamRead(tar.subarray(0, 1024)), 'ARCHIVE_INVALID');
  });

  test('a declared size past the end is refused', () => {
    const tar = pyTar("add('./a', b'x' * 100)");
    expectCode(() => readTar(tar.subarray(0, 512 + 50)), 'ARCHIVE_INVALID');
    expectCode(() => streamRead(tar.subarray(0, 512 + 50)), 'ARCHIVE_INVALID');
    // An oversized size field with a fixed checksum.
    const bad = Buffer.from(tar);
    bad.write('77777777777\0', 124, 'ascii');
    bad.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += bad[i]!;
    bad.write(sum.toString(8).padStart(6, '0') + '\0', 148, 'ascii');
    expectCode(() => readTar(bad), 'ARCHIVE_INVALID');
    expectCode(() => streamRead(bad), 'ARCHIVE_INVALID');
  });

  test('a zip bomb is stopped at the output cap', () => {
    const bomb = gzipSync(Buffer.alloc(8 << 20));
    expectCode(() => gunzipBounded(bomb, 1 << 20), 'ARCHIVE_INVALID');
    expect(gunzipBounded(bomb, 16 << 20).length).toBe(8 << 20);
  });
});
