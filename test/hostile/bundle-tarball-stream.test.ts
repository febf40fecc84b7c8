/**
 * A bundle given as one `.tar.gz` is read as it streams (ADR 0005, "Memory bound"; ADR 0017): every hostile
 * tarball is refused with the code and rule the whole-file reader gave (gzip faults first, then the strict tar
 * rules BAD-48 … BAD-52, then anything met while unpacking), and nothing of it is left in the temp folder.
 * The tars are written by Python's `tarfile` (an independent writer), each holding a real signed bundle whose
 * `targets/hello.txt` member is replaced by the hostile entry, so the declared-size cap is not what stops it.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildBundle, loadItems, type BundleEntry } from '../../src/bundle';
import { openBundle } from '../../src/bundle/archive';
import { SYSTEM_PYTHON } from '../helpers/cli';
import { buildTestRepo } from '../helpers/repo';
import { tempDir } from '../helpers/tmp';
import { publish } from './helpers';

const base = tempDir('tufsign-hostile-tarball-');
let n = 0;

interface Member {
  name: string;
  data?: Uint8Array;
  /** tarfile type constant name: REGTYPE, SYMTYPE, LNKTYPE, DIRTYPE, FIFOTYPE, GNUTYPE_LONGNAME … */
  type?: string;
  linkname?: string;
}

/** A tar written by Python's tarfile (PAX format), members in the given order. */
function pyTar(members: Member[]): Buffer {
  const spec = JSON.stringify(
    members.map((m) => ({
      name: m.name,
      data: Buffer.from(m.data ?? []).toString('base64'),
      type: m.type ?? 'REGTYPE',
      linkname: m.linkname ?? '',
    })),
  );
  const script = `import base64, io, json, sys, tarfile
buf = io.BytesIO()
t = tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT)
for m in json.load(sys.stdin):
    data = base64.b64decode(m['data'])
    ti = tarfile.TarInfo(m['name']); ti.type = getattr(tarfile, m['type']); ti.size = len(data)
    ti.linkname = m['linkname']; ti.mode = 0o644
    t.addfile(ti, io.BytesIO(data))
t.close()
sys.stdout.buffer.write(buf.getvalue())`;
  const r = spawnSync(SYSTEM_PYTHON, ['-c', script], { input: spec, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return r.stdout;
}

/** The files of a real signed bundle, BUNDLE.json first (as tufsign writes them). */
let files: BundleEntry[] = [];
beforeAll(async () => {
  const published = await publish(await buildTestRepo());
  const { entries } = buildBundle({
    repository: 'hostile',
    base: {},
    files: Object.entries(published).map(([path, data]) => ({ path, data, new: true })),
  });
  files = loadItems(entries).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
});

/** The bundle's members with `targets/hello.txt` replaced by `hostile` (several members, or none). */
function withHostile(hostile: Member[]): Member[] {
  return files.flatMap((f) => (f.path === 'targets/hello.txt' ? hostile : [{ name: `./${f.path}`, data: f.data }]));
}

const write = (gz: Uint8Array): string => {
  const p = join(base, `t${n++}.tar.gz`);
  writeFileSync(p, gz);
  return p;
};

/** Fix the checksum of the ustar header at `at` after editing it. */
function fixChecksum(tar: Buffer, at: number): void {
  tar.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += tar[at + i]!;
  tar.write(`${sum.toString(8).padStart(6, '0')}\0`, at + 148, 'ascii');
}

/** Offset of the header of the member named `name` in a tar without pax headers. */
function headerOf(tar: Buffer, name: string): number {
  for (let at = 0; at + 512 <= tar.length;) {
    const got = tar
      .subarray(at, at + 100)
      .toString('latin1')
      .replace(/\0.*$/s, '');
    const size = parseInt(tar.subarray(at + 124, at + 136).toString('latin1'), 8) || 0;
    if (got === name) return at;
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${name} not in tar`);
}

/**
 * The bundle's tar gzipped by Python's `gzip` module, then `after` appended: the hostile ends of a gzip file that
 * Node's own gunzip accepts (zero padding, a second member, an empty member first) or names only as a bad header.
 */
function pyGzipWith(after: 'zeros' | 'member' | 'empty-first' | 'text'): Buffer {
  const tar = pyTar(withHostile([{ name: './targets/hello.txt', data: Buffer.from('hello\n') }]));
  const script = `import gzip, sys
tar = sys.stdin.buffer.read()
kind = sys.argv[1]
gz = gzip.compress(tar, mtime=0)
out = {'zeros': gz + bytes(512), 'member': gz + gzip.compress(bytes(1024), mtime=0),
       'empty-first': gzip.compress(b'', mtime=0) + gz, 'text': gz + b'not gzip'}[kind]
sys.stdout.buffer.write(out)`;
  const r = spawnSync(SYSTEM_PYTHON, ['-c', script, after], { input: tar, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return r.stdout;
}

const tempLeftovers = (): string[] => readdirSync(tmpdir()).filter((d) => d.startsWith('tufsign-bundle-'));

const cases: [string, () => Buffer, string, string][] = [
  [
    'a ../ entry',
    () => gzipSync(pyTar(withHostile([{ name: './../x', data: Buffer.from('x') }]))),
    'PATH_UNSAFE',
    'BAD-48',
  ],
  [
    'an absolute entry',
    () => gzipSync(pyTar(withHostile([{ name: '/tmp/x', data: Buffer.from('x') }]))),
    'ARCHIVE_INVALID',
    'BAD-48',
  ],
  [
    'an entry outside ./',
    () => gzipSync(pyTar(withHostile([{ name: 'x', data: Buffer.from('x') }]))),
    'ARCHIVE_INVALID',
    'BAD-48',
  ],
  [
    'a symlink',
    () => gzipSync(pyTar(withHostile([{ name: './targets/hello.txt', type: 'SYMTYPE', linkname: '/etc/passwd' }]))),
    'ARCHIVE_INVALID',
    'BAD-49',
  ],
  [
    'a hard link',
    () => gzipSync(pyTar(withHostile([{ name: './targets/hello.txt', type: 'LNKTYPE', linkname: './BUNDLE.json' }]))),
    'ARCHIVE_INVALID',
    'BAD-49',
  ],
  [
    'a FIFO',
    () => gzipSync(pyTar(withHostile([{ name: './targets/hello.txt', type: 'FIFOTYPE' }]))),
    'ARCHIVE_INVALID',
    'BAD-49',
  ],
  [
    'a GNU long name',
    () =>
      gzipSync(pyTar(withHostile([{ name: './targets/hello.txt', type: 'GNUTYPE_LONGNAME', data: Buffer.from('x') }]))),
    'ARCHIVE_INVALID',
    'BAD-49',
  ],
  [
    'a duplicate entry',
    () => gzipSync(pyTar(withHostile([{ name: './metadata/1.root.json', data: Buffer.from('{}') }]))),
    'ARCHIVE_INVALID',
    'BAD-52',
  ],
  [
    'a member whose size runs past the archive',
    () => {
      const tar = pyTar(withHostile([{ name: './targets/hello.txt', data: Buffer.from('hello\n') }]));
      const at = headerOf(tar, './targets/hello.txt');
      tar.write('00077777777\0', at + 124, 'ascii');
      fixChecksum(tar, at);
      return gzipSync(tar);
    },
    'ARCHIVE_INVALID',
    'BAD-51',
  ],
  [
    'a bad header checksum',
    () => {
      const tar = pyTar(withHostile([{ name: './targets/hello.txt', data: Buffer.from('hello\n') }]));
      const at = headerOf(tar, './targets/hello.txt') + 100;
      tar[at] = tar[at]! ^ 1;
      return gzipSync(tar);
    },
    'ARCHIVE_INVALID',
    'BAD-51',
  ],
  [
    'data after the end-of-archive marker',
    () => {
      const tar = pyTar(withHostile([{ name: './targets/hello.txt', data: Buffer.from('hello\n') }]));
      tar[tar.length - 1] = 0x41;
      return gzipSync(tar);
    },
    'ARCHIVE_INVALID',
    'BAD-51',
  ],
  [
    'a tar without its end-of-archive marker',
    () => {
      const tar = pyTar(withHostile([{ name: './targets/hello.txt', data: Buffer.from('hello\n') }]));
      return gzipSync(tar.subarray(0, headerOf(tar, './targets/hello.txt') + 1024));
    },
    'ARCHIVE_INVALID',
    'BAD-51',
  ],
  [
    'a truncated gzip stream',
    () => {
      const gz = gzipSync(pyTar(withHostile([{ name: './targets/hello.txt', data: Buffer.from('hello\n') }])));
      return gz.subarray(0, gz.length - 30);
    },
    'ARCHIVE_INVALID',
    'gzip',
  ],
  [
    'a truncated gzip stream whose tar also breaks a rule (the gzip fault is reported, as when read whole)',
    () => {
      const gz = gzipSync(pyTar(withHostile([{ name: './../x', data: Buffer.from('x') }])));
      return gz.subarray(0, gz.length - 6);
    },
    'ARCHIVE_INVALID',
    'gzip',
  ],
  [
    'a corrupted gzip trailer (CRC)',
    () => {
      const gz = gzipSync(pyTar(withHostile([{ name: './targets/hello.txt', data: Buffer.from('hello\n') }])));
      gz[gz.length - 8] = gz[gz.length - 8]! ^ 0xff;
      return gz;
    },
    'ARCHIVE_INVALID',
    'gzip',
  ],
  [
    'garbage after the gzip stream',
    () => {
      const gz = gzipSync(pyTar(withHostile([{ name: './targets/hello.txt', data: Buffer.from('hello\n') }])));
      return Buffer.concat([gz, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x41, 0x41, 0x41])]);
    },
    'ARCHIVE_INVALID',
    'gzip',
  ],
  // BAD-67: one gzip member and nothing after it (Node's gunzip alone accepted the first three)
  ['512 zero bytes after the gzip stream', () => pyGzipWith('zeros'), 'ARCHIVE_INVALID', 'BAD-67'],
  [
    'a second gzip member (1,024 zero bytes: more end-of-archive blocks)',
    () => pyGzipWith('member'),
    'ARCHIVE_INVALID',
    'BAD-67',
  ],
  ['an empty gzip member before the real one', () => pyGzipWith('empty-first'), 'ARCHIVE_INVALID', 'BAD-67'],
  ['text after the gzip stream', () => pyGzipWith('text'), 'ARCHIVE_INVALID', 'BAD-67'],
  [
    'a file, then a file beneath it',
    () =>
      gzipSync(
        pyTar(
          withHostile([
            { name: './targets/hello.txt', data: Buffer.from('h') },
            { name: './targets/hello.txt/x', data: Buffer.from('x') },
          ]),
        ),
      ),
    // read whole, this was a raw EEXIST from the unpacking; the strict reader now refuses it by rule
    'ARCHIVE_INVALID',
    'BAD-52',
  ],
  [
    'a file where a folder was implied',
    () =>
      gzipSync(
        pyTar(
          withHostile([
            { name: './targets/hello.txt/x', data: Buffer.from('x') },
            { name: './targets/hello.txt', data: Buffer.from('h') },
          ]),
        ),
      ),
    'ARCHIVE_INVALID',
    'BAD-52',
  ],
];

describe('hostile bundle tarballs, read as they stream', () => {
  it.each(cases)('%s is refused with the reader’s code and rule, leaving nothing', async (_what, make, code, rule) => {
    const before = tempLeftovers();
    const p = write(make());
    const err = await openBundle(p).then(
      (b) => {
        b.close();
        return undefined;
      },
      (e: unknown) => e as { code?: string; rule?: string },
    );
    expect(err).toBeDefined();
    expect({ code: err?.code, rule: err?.rule ?? '' }).toEqual({ code, rule: expect.stringContaining(rule) });
    expect(tempLeftovers()).toEqual(before);
  });

  it('the same bundle written cleanly by tarfile opens, with exactly its files', async () => {
    const p = write(gzipSync(pyTar(withHostile([{ name: './targets/hello.txt', data: Buffer.from('hello\n') }]))));
    const b = await openBundle(p);
    try {
      for (const f of files) expect(readFileSync(join(b.dir, f.path))).toEqual(Buffer.from(f.data));
    } finally {
      b.close();
    }
  });
});
