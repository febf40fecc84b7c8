/** Many files as one durable batch (src/io/batch-write.ts): all or nothing, modes kept, no temp files left. */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TufsignError } from '../../../src/errors';
import { writeFilesAtomic } from '../../../src/io/batch-write';
import { tempDir } from '../../helpers/tmp';

const base = tempDir('tufsign-batch-');
let n = 0;
const fresh = (): string => {
  const d = join(base, String(n++));
  mkdirSync(d);
  return d;
};

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

it('writes every file in new and existing folders, replaces old ones, and reports only the new paths', () => {
  const dir = fresh();
  writeFileSync(join(dir, 'old.txt'), 'old\n');
  const files = Array.from({ length: 300 }, (_, i) => ({
    path: join(dir, 'p', String(i % 7), `f${i}.txt`),
    data: `file ${i}\n`,
  }));
  files.push({ path: join(dir, 'old.txt'), data: 'new\n' });
  const key = { path: join(dir, 'keys', 'k.pem'), data: 'secret', mode: 0o600 };
  const progress: number[] = [];
  const created = writeFilesAtomic([...files, key], (done) => progress.push(done));
  expect(created).toHaveLength(301);
  expect(created).not.toContain(join(dir, 'old.txt'));
  expect(readFileSync(join(dir, 'p', '3', 'f10.txt'), 'utf8')).toBe('file 10\n');
  expect(readFileSync(join(dir, 'old.txt'), 'utf8')).toBe('new\n');
  expect(statSync(key.path).mode & 0o777).toBe(0o600);
  expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
  expect(walk(dir).filter((p) => p.endsWith('.tmp'))).toEqual([]);
  expect(progress[progress.length - 1]).toBe(302);
});

it('further names for the very same bytes are hard links to one stored copy (ADR 0017)', () => {
  const dir = fresh();
  const data = Buffer.from('one copy\n');
  writeFilesAtomic([
    { path: join(dir, 'aa.x.tar.gz'), data },
    { path: join(dir, 'bb.x.tar.gz'), data },
    { path: join(dir, 'other'), data: Buffer.from('one copy\n') },
  ]);
  expect(statSync(join(dir, 'aa.x.tar.gz')).ino).toBe(statSync(join(dir, 'bb.x.tar.gz')).ino);
  expect(statSync(join(dir, 'aa.x.tar.gz')).nlink).toBe(2);
  expect(statSync(join(dir, 'other')).nlink).toBe(1);
  expect(readFileSync(join(dir, 'bb.x.tar.gz'), 'utf8')).toBe('one copy\n');
});

it('a failure part-way leaves neither temp files nor any file the batch created, and keeps old files', () => {
  const dir = fresh();
  writeFileSync(join(dir, 'old.txt'), 'old\n');
  mkdirSync(join(dir, 'a'));
  writeFileSync(join(dir, 'blocker'), 'a file where a folder must go\n');
  const files = [
    ...Array.from({ length: 50 }, (_, i) => ({ path: join(dir, 'a', `f${i}`), data: `${i}` })),
    { path: join(dir, 'old.txt'), data: 'new\n' },
    { path: join(dir, 'blocker', 'x'), data: 'cannot be written' },
  ];
  let err: unknown;
  try {
    writeFilesAtomic(files);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(TufsignError);
  expect((err as TufsignError).code).toBe('IO_ERROR');
  expect(
    walk(dir)
      .map((p) => relative(dir, p))
      .sort(),
  ).toEqual(['blocker', 'old.txt']);
  expect(readFileSync(join(dir, 'old.txt'), 'utf8')).toBe('old\n');
});
