/**
 * `delegate bins` with many bins reports its progress as counts, not one line per bin (#12): without a terminal
 * a few lines on stderr, the result alone on stdout, nothing but JSON under --json. The built CLI, file keys.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp';
import { ok } from './ceremony-helpers';

const COUNT = 1024;
const base = tempDir('tufsign-bins-progress-');

it(`delegate bins --count ${COUNT}: a few progress lines on stderr, the result alone on stdout`, () => {
  const ws = join(base, 'plain');
  ok(['init', ws, '--json']);
  ok(['key', 'generate', '--out', join(ws, 'keys', 'bins.pem'), '--json']);
  const r = ok(['delegate', 'bins', '--count', String(COUNT), '--key', 'file:keys/bins.pem', '-w', ws]);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  // every bin was signed and written …
  expect(readdirSync(join(ws, 'metadata')).filter((f) => /^1\.bins-[0-9a-f]{3}\.json$/.test(f))).toHaveLength(COUNT);
  // … but reported as one count per stage, not a line per bin
  expect(lines.filter((l) => /bins-[0-9a-f]{3} v1/.test(l))).toEqual([]);
  expect(lines.filter((l) => l.startsWith('sign: '))).toEqual([
    expect.stringMatching(new RegExp(`^sign: ${COUNT + 1} roles in [0-9.]+ s$`)),
  ]);
  expect(lines.filter((l) => /^write: \d+ files in [0-9.]+ s$/.test(l))).toHaveLength(1);
  // the named role above the bins still says which key signed it
  expect(lines).toContain('signing targets v2 with file:keys/targets-1.pem');
  expect(lines.length).toBeLessThan(10);
  // stdout is the result and how to publish it, nothing of the progress
  expect(r.stdout.trim().split('\n')).toEqual([
    `${COUNT} bins created; ${COUNT + 3} roles signed`,
    expect.stringContaining(`tufsign publish -w ${ws} DEST`),
  ]);
});

it('a bulk add into the bins: counted progress; under --json stdout is the JSON result and stderr stays empty', () => {
  const ws = join(base, 'plain');
  const list: string[] = [];
  for (let i = 0; i < 130; i++) {
    const f = join(base, `p${i}.whl`);
    writeFileSync(f, `package ${i}\n`);
    list.push(`${f}\tpkg/p${i}.whl`);
  }
  writeFileSync(join(base, 'list-a.txt'), list.slice(0, 100).join('\n') + '\n');
  writeFileSync(join(base, 'list-b.txt'), list.slice(100).join('\n') + '\n');
  const plain = ok(['targets', 'add', '--from-file', join(base, 'list-a.txt'), '-w', ws]);
  expect(plain.stderr).toMatch(/^targets: 100 targets in [0-9.]+ s$/m);
  // 100 targets over 1,024 bins touch more than 64 bins: counted, not listed
  expect(plain.stderr).toMatch(/^sign: \d+ roles in [0-9.]+ s$/m);
  expect(plain.stderr.split('\n').filter((l) => /^signing bins-/.test(l))).toEqual([]);
  const json = ok(['targets', 'add', '--from-file', join(base, 'list-b.txt'), '-w', ws, '--json']);
  expect(json.stderr).toBe('');
  expect(json.json.complete).toBe(true);
});
