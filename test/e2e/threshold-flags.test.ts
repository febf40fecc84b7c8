/**
 * Threshold flags and a new role's name through the built CLI: each is parsed once in src/cli, so a hostile value
 * is refused with its own code (THRESHOLD_INVALID, ROLE_INVALID) before a key is read, and nothing is written; the
 * rule relative to the keys ("no more than the keys") still refuses at the use case with the same code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp';
import { errorCode, ok, tufsign } from './ceremony-helpers';

jest.setTimeout(180_000);

const base = tempDir('tufsign-threshold-flags-');
const ws = join(base, 'repo');
// the full table of refused texts is test/unit/tuf/threshold.test.ts; here, that each flag reaches the parser
const HOSTILE = ['0', '-1', '9007199254740992', '1.5', '2e0', '０'];
const code = (args: string[]): string | undefined => errorCode(tufsign([...args, '--json']));

describe('threshold flags', () => {
  it('init refuses each hostile --ROLE-threshold before it generates or writes anything', () => {
    for (const [i, value] of HOSTILE.entries()) {
      for (const role of [i % 2 === 0 ? 'root' : 'timestamp']) {
        const dir = join(base, `init-${role}-${i}`);
        expect([value, code(['init', dir, `--${role}-threshold=${value}`, '--yes'])]).toEqual([
          value,
          'THRESHOLD_INVALID',
        ]);
        expect(existsSync(dir)).toBe(false);
      }
    }
  });

  describe('on a workspace', () => {
    beforeAll(() => {
      ok(['init', ws, '--yes', '--offline', 'none']);
    });

    it('delegate add, delegate bins, key rotate and root rotate refuse each hostile --threshold, writing nothing', () => {
      const before = readFileSync(join(ws, 'metadata', 'timestamp.json'));
      const key = 'file:keys/targets-1.pem';
      const commands = [
        ['delegate', 'add', 'proj', '--key', key, '--paths', 'p/*'],
        ['delegate', 'bins', '--count', '4', '--key', key],
        ['key', 'rotate', 'snapshot'],
        ['root', 'rotate'],
      ];
      // every command meets two of the hostile values, each value two commands
      for (const [i, command] of commands.entries())
        for (const value of [HOSTILE[i] as string, HOSTILE[i + 2] as string])
          expect([value, code([...command, `--threshold=${value}`, '-w', ws])]).toEqual([value, 'THRESHOLD_INVALID']);
      // a valid threshold above the role's keys: refused where the keys are known, same code
      expect(code(['delegate', 'add', 'proj', '--key', key, '--paths', 'p/*', '--threshold', '2', '-w', ws])).toBe(
        'THRESHOLD_INVALID',
      );
      expect(code(['key', 'rotate', 'snapshot', '--threshold', '2', '-w', ws])).toBe('THRESHOLD_INVALID');
      expect(code(['root', 'rotate', '--threshold', '2', '-w', ws])).toBe('THRESHOLD_INVALID');
      expect(readFileSync(join(ws, 'metadata', 'timestamp.json'))).toEqual(before);
    });

    it('delegate add refuses an unsafe or top-level ROLE name before reading a key', () => {
      for (const name of ['targets', '..', 'x'.repeat(65)])
        expect([
          name,
          code(['delegate', 'add', name, '--key', 'file:nowhere.pem', '--paths', 'p/*', '-w', ws]),
        ]).toEqual([name, 'ROLE_INVALID']);
    });
  });
});
