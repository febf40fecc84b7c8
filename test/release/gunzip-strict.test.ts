/**
 * The strict gzip reader (ADR 0009, BAD-67) against Node's own gunzip, which decodes a second member as more of
 * the same stream and drops trailing zero bytes: one member and nothing after it, fed whole and in pieces of 1, 7
 * and 65,536 bytes (a fault is found wherever the piece boundaries fall).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import { TufsignError } from '../../src/errors';
import { archiveTarDigest, expandArchiveTo, expandTarGz } from '../../src/release/archive-stream';
import { createStrictGunzip, gunzipStrictSync } from '../../src/release/gunzip-strict';
import { gunzipBounded, gunzipSha256, gunzipShared } from '../../src/release/gzip';
import { TarStreamReader } from '../../src/release/tar';

const data = Buffer.from('tufsign '.repeat(200_000));
const gz = gzipSync(data);

async function streamed(buf: Buffer, piece: number): Promise<Buffer | TufsignError> {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += piece) parts.push(buf.subarray(i, i + piece));
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const z = createStrictGunzip({ file: 'app.tar.gz', chunkSize: 1 << 14 });
    z.on('data', (d: Buffer) => out.push(d));
    z.on('end', () => resolve(Buffer.concat(out)));
    z.on('error', (e) => resolve(e as TufsignError));
    Readable.from(parts).pipe(z);
  });
}

function synced(buf: Buffer): Buffer | TufsignError {
  try {
    return gunzipStrictSync(buf, 1 << 30, 'app.tar.gz');
  } catch (e) {
    return e as TufsignError;
  }
}

const outcome = (r: Buffer | TufsignError): string =>
  r instanceof TufsignError ? `${r.code} ${String(r.rule)}` : `ok ${r.length}`;

const ONE = 'ARCHIVE_INVALID BAD-67 one gzip member, nothing after it';
const FORMAT = 'ARCHIVE_INVALID gzip archives (RFC 1952)';
const cases: [string, Buffer, string, boolean][] = [
  // name, file, expected outcome, whether Node's gunzip accepts it
  ['one member', gz, `ok ${data.length}`, true],
  ['16 zero bytes after it', Buffer.concat([gz, Buffer.alloc(16)]), ONE, true],
  ['one zero byte after it', Buffer.concat([gz, Buffer.alloc(1)]), ONE, true],
  ['a second member', Buffer.concat([gz, gzipSync(Buffer.from('evil'))]), ONE, true],
  ['an empty member, then the real one', Buffer.concat([gzipSync(Buffer.alloc(0)), gz]), ONE, true],
  ['text after it', Buffer.concat([gz, Buffer.from('GARBAGE')]), ONE, false],
  ['the trailer cut short', gz.subarray(0, gz.length - 3), FORMAT, false],
  ['the body cut short', gz.subarray(0, 200), FORMAT, false],
  ['a trailer of zeros', Buffer.concat([gz.subarray(0, gz.length - 8), Buffer.alloc(8)]), FORMAT, false],
  ['not gzip at all', Buffer.from('plain text, not gzip'), FORMAT, false],
  ['empty file', Buffer.alloc(0), FORMAT, false],
];

describe.each(cases)('%s', (_name, file, expected, nodeAccepts) => {
  it('Node alone accepts what is marked so (the reason for this reader)', () => {
    let accepted = true;
    try {
      gunzipSync(file);
    } catch {
      accepted = false;
    }
    expect(accepted).toBe(nodeAccepts);
  });

  it.each([1, 7, 65_536])('streamed in pieces of %i bytes', async (piece) => {
    const r = await streamed(file, piece);
    expect(outcome(r)).toBe(expected);
    if (!(r instanceof TufsignError)) expect(r.equals(data)).toBe(true);
    else expect(r.file).toBe('app.tar.gz');
  });

  it('whole, in memory', () => {
    expect(outcome(synced(file))).toBe(expected);
  });
});

it('the error says where the extra data starts, and whether it is a second member', async () => {
  const second = await streamed(Buffer.concat([gz, gzipSync(Buffer.from('evil'))]), 65_536);
  expect(second instanceof TufsignError && second.message).toMatch(
    new RegExp(`second gzip member starts at byte ${gz.length}`),
  );
  const zeros = synced(Buffer.concat([gz, Buffer.alloc(4)]));
  expect(zeros instanceof TufsignError && zeros.message).toMatch(new RegExp(`from byte ${gz.length}`));
});

it('header fields are parsed (name, comment, extra, header CRC), not skipped by guess', () => {
  // FLG = FHCRC|FEXTRA|FNAME|FCOMMENT, made by hand around zlib's own deflate body
  const body = gz.subarray(10);
  const extra = Buffer.from([4, 0, 0x41, 0x42, 0, 0]);
  const head = Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 0x1e, 0, 0, 0, 0, 0, 255]),
    extra,
    Buffer.from('name\0comment\0'),
  ]);
  const hcrc = Buffer.alloc(2);
  hcrc.writeUInt16LE(crc32(head) & 0xffff);
  expect(outcome(synced(Buffer.concat([head, hcrc, body])))).toBe(`ok ${data.length}`);
  hcrc.writeUInt16LE((crc32(head) + 1) & 0xffff);
  expect(outcome(synced(Buffer.concat([head, hcrc, body])))).toBe(FORMAT);
});

it('a bomb stops when the reader stops: destroying the stream stops the inflater', async () => {
  const bomb = gzipSync(Buffer.alloc(256 << 20));
  const z = createStrictGunzip({ chunkSize: 1 << 20 });
  let seen = 0;
  await new Promise<void>((resolve) => {
    z.on('data', (d: Buffer) => {
      seen += d.length;
      if (seen > 4 << 20) {
        z.destroy();
        resolve();
      }
    });
    z.end(bomb);
  });
  await new Promise((r) => setTimeout(r, 50));
  expect(seen).toBeLessThan(16 << 20);
});

describe('every reader of a .tar.gz uses it', () => {
  // a real tar (as tufsign writes them), gzipped, then a second member appended: Node's gunzip would expand both
  const tar = Buffer.concat([Buffer.from('x'.repeat(512)), Buffer.alloc(1024)]);
  const twoMembers = Buffer.concat([gzipSync(tar), gzipSync(Buffer.alloc(1024))]);
  const dir = mkdtempSync(join(tmpdir(), 'tufsign-gunzip-strict-'));
  const path = join(dir, 'app-1.0.tar.gz');
  writeFileSync(path, twoMembers);
  const refusal = async (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => 'accepted',
      (e: unknown) => (e instanceof TufsignError ? `${e.code} ${String(e.rule)}` : String(e)),
    );

  it.each([
    [
      'gunzipBounded (bundle tarballs read whole, the built archive re-read)',
      () => Promise.resolve().then(() => gunzipBounded(twoMembers, 1 << 20, path)),
    ],
    ['gunzipShared (the previous archive for the patch workers)', () => gunzipShared(twoMembers, 1 << 20, path)],
    ['gunzipSha256', () => gunzipSha256(twoMembers, 1 << 20, path)],
    ['archiveTarDigest (release verify’s published archive)', () => archiveTarDigest(path, 1 << 20)],
    [
      'expandArchiveTo (the previous archive expanded to a file)',
      () => expandArchiveTo({ path, tarPath: join(dir, 'prev.tar'), maxTarBytes: 1 << 20 }),
    ],
    [
      'expandTarGz (bundle verify and publish of a .tar.gz)',
      () =>
        expandTarGz(Readable.from([twoMembers]), { maxTarBytes: 1 << 20, reader: new TarStreamReader(), file: path }),
    ],
  ])('%s refuses a second member with BAD-67', async (_name, read) => {
    expect(await refusal(read())).toMatch(/^ARCHIVE_INVALID .*BAD-67/);
  });

  it('expandArchiveTo checks the signed length and sha256 before it expands anything; a missing archive is TARGET_NOT_FOUND', async () => {
    const good = gzipSync(tar);
    const file = join(dir, 'prev-1.0.tar.gz');
    writeFileSync(file, good);
    const tarPath = join(dir, 'prev-expanded.tar');
    const want = { length: good.length, sha256: createHash('sha256').update(good).digest('hex') };
    const expand = (p: string, w: typeof want): Promise<void> =>
      expandArchiveTo({ path: p, tarPath, maxTarBytes: 1 << 20, want: w });
    expect(await refusal(expand(file, { ...want, sha256: '0'.repeat(64) }))).toMatch(/^ARCHIVE_INVALID /);
    expect(await refusal(expand(file, { ...want, length: want.length + 1 }))).toMatch(/^ARCHIVE_INVALID /);
    expect(existsSync(tarPath)).toBe(false); // refused before the scratch tar was created
    expect(await refusal(expand(join(dir, 'missing-1.0.tar.gz'), want))).toMatch(/^TARGET_NOT_FOUND /);
    await expand(file, want);
    expect(readFileSync(tarPath)).toEqual(tar);
  });
});
