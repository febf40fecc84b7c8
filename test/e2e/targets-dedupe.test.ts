/**
 * `targets dedupe` (ADR 0017): a workspace from before one-copy storage holds a two-hash target as two full
 * copies (its sha256 and sha512 names) and its release bundle folders as more copies. The command keeps one
 * copy and links every other name to it — only after checking each file's bytes against the hash in its name,
 * never between files whose bytes differ — atomically, so a run killed part-way is finished by the next.
 * The old workspace is python-tuf's repository (test/fixtures/import/python-tuf) imported, with its second
 * name turned back into a separate copy, as tufsign wrote it before ADR 0017.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';
import { linkIdenticalCopy } from '../../src/io/link-copies';
import { dedupeTargets } from '../../src/repository/targets-dedupe';
import { Workspace } from '../../src/repository/workspace';

const base = tempDir('tufsign-dedupe-');
const ws = join(base, 'ws');
const rel = join(ws, 'targets', 'releases');
const bundleRel = join(ws, 'bundles', 'notes-1.0', 'targets', 'releases');
let sha256Name: string;
let sha512Name: string;
let original: Buffer;

/** Make `path` a file of its own again (a separate inode holding the same bytes), as before ADR 0017. */
function unlinkToCopy(path: string): void {
  copyFileSync(path, `${path}.copy`);
  renameSync(`${path}.copy`, path);
}
const ino = (p: string): number => statSync(p).ino;

beforeAll(() => {
  const src = join(base, 'src');
  cpSync(join(ROOT, 'test', 'fixtures', 'import', 'python-tuf'), src, { recursive: true });
  const r = runCli(['init', ws, '--import', src, '--format', 'python-tuf', '--json']);
  expect(r.status).toBe(0);
  const names = readdirSync(rel).filter((n) => n.endsWith('.notes-1.0.txt'));
  sha256Name = names.find((n) => n.length === 64 + '.notes-1.0.txt'.length) ?? '';
  sha512Name = names.find((n) => n.length === 128 + '.notes-1.0.txt'.length) ?? '';
  original = readFileSync(join(rel, sha256Name));
  // the old layout: two copies in targets/, and an old bundle folder with two more
  unlinkToCopy(join(rel, sha512Name));
  mkdirSync(bundleRel, { recursive: true });
  for (const n of [sha256Name, sha512Name]) copyFileSync(join(rel, n), join(bundleRel, n));
});

describe('targets dedupe on an old workspace', () => {
  it('--dry-run reports the three extra copies and changes nothing', () => {
    const r = runCli(['targets', 'dedupe', '-w', ws, '--dry-run', '--json']);
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({ dryRun: true, checked: 4, linked: 3, alreadyLinked: 0, mismatched: [] });
    const inodes = [
      join(rel, sha256Name),
      join(rel, sha512Name),
      join(bundleRel, sha256Name),
      join(bundleRel, sha512Name),
    ];
    expect(new Set(inodes.map(ino)).size).toBe(4);
  });

  it('links every name to the workspace copy clients request; the bytes are unchanged; verify passes; a re-run does nothing', () => {
    const r = runCli(['targets', 'dedupe', '-w', ws, '--json']);
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({ dryRun: false, checked: 4, linked: 3, mismatched: [], unsupported: [] });
    expect(r.json().bytesFreed).toBe(3 * original.length);
    const kept = statSync(join(rel, sha256Name));
    expect(kept.nlink).toBe(4);
    for (const p of [join(rel, sha512Name), join(bundleRel, sha256Name), join(bundleRel, sha512Name)]) {
      expect(ino(p)).toBe(kept.ino);
      expect(readFileSync(p)).toEqual(original);
    }
    expect(runCli(['verify', ws]).status).toBe(0);
    const again = runCli(['targets', 'dedupe', '-w', ws, '--json']);
    expect(again.json()).toMatchObject({ checked: 4, linked: 0, alreadyLinked: 3, bytesFreed: 0 });
  });

  it('finishes what a killed run left: its temp link removed, the copies it had not reached linked', () => {
    // a kill between the link and the rename leaves `.NAME.RANDOM.tmp` (a link to the kept copy) beside the copy
    unlinkToCopy(join(rel, sha512Name));
    unlinkToCopy(join(bundleRel, sha512Name));
    const leftover = join(rel, `.${sha512Name}.0123456789ab.tmp`);
    linkSync(join(rel, sha256Name), leftover);
    const r = dedupeTargets(Workspace.open(ws));
    expect(r).toMatchObject({ linked: 2, alreadyLinked: 1, leftoversRemoved: 1, mismatched: [] });
    expect(readdirSync(rel).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(statSync(join(rel, sha256Name)).nlink).toBe(4);
    expect(runCli(['verify', ws]).status).toBe(0);
  });
});

describe('never links files whose bytes differ', () => {
  const dir = join(base, 'hostile');
  const write = (name: string, data: string): void => writeFileSync(join(dir, 'targets', name), data);
  const h = (alg: string, data: string): string => createHash(alg).update(data).digest('hex');

  it('names whose bytes do not match their hash are left alone and reported, even when equal; two versions of one name stay apart', () => {
    mkdirSync(join(dir, 'targets'), { recursive: true });
    writeFileSync(join(dir, 'tufsign.json'), readFileSync(join(ws, 'tufsign.json')));
    // a.txt: the sha512 name holds other bytes of the same length (a forged or corrupted copy)
    write(`${h('sha256', 'good-bytes')}.a.txt`, 'good-bytes');
    write(`${h('sha512', 'good-bytes')}.a.txt`, 'evil-bytes');
    // b.txt: two versions, each correctly named: same target name, different content
    write(`${h('sha256', 'version 1')}.b.txt`, 'version 1');
    write(`${h('sha512', 'version 2')}.b.txt`, 'version 2');
    // c.txt: both names hold the same bytes, but not the bytes either name claims: equal is not enough
    write(`${h('sha256', 'claimed')}.c.txt`, 'swapped');
    write(`${h('sha512', 'claimed')}.c.txt`, 'swapped');
    const r = dedupeTargets(Workspace.open(dir));
    expect(r.linked).toBe(0);
    expect(r.mismatched.sort()).toEqual(
      [
        `targets/${h('sha512', 'good-bytes')}.a.txt`,
        `targets/${h('sha256', 'claimed')}.c.txt`,
        `targets/${h('sha512', 'claimed')}.c.txt`,
      ].sort(),
    );
    for (const n of readdirSync(join(dir, 'targets'))) expect(statSync(join(dir, 'targets', n)).nlink).toBe(1);
    expect(readFileSync(join(dir, 'targets', `${h('sha512', 'good-bytes')}.a.txt`), 'utf8')).toBe('evil-bytes');
  });

  it('linkIdenticalCopy compares bytes, whatever the names say, and never follows a symbolic link', () => {
    const a = join(dir, 'x1');
    const b = join(dir, 'x2');
    writeFileSync(a, 'same length A');
    writeFileSync(b, 'same length B');
    expect(linkIdenticalCopy(a, b)).toBe('differs');
    expect(readFileSync(b, 'utf8')).toBe('same length B');
    unlinkSync(b);
    symlinkSync(a, b);
    expect(linkIdenticalCopy(a, b)).toBe('differs');
    unlinkSync(b);
    writeFileSync(b, 'same length A');
    expect(linkIdenticalCopy(a, b)).toBe('linked');
    expect(ino(b)).toBe(ino(a));
    expect(linkIdenticalCopy(a, b)).toBe('already-linked');
  });
});
