/**
 * Role names that refer to an existing role (`sign ROLE`, `--role`, `--from`, `delegate remove ROLE`, `key rotate
 * ROLE`, `status --check --role`) are parsed once in src/cli into a `RoleRef` (ADR 0016): a hostile name is refused
 * with ROLE_INVALID before the workspace is opened — the workspace here does not exist, so any other code (or a
 * created folder) would mean the name reached a use case first.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp';
import { errorCode, tufsign } from './ceremony-helpers';

jest.setTimeout(180_000);

const ws = join(tempDir('tufsign-role-refs-'), 'absent');
// the full table (NUL included, which argv cannot carry) is test/unit/tuf/parsed-names.test.ts
const HOSTILE = ['../x', 'a/b', 'a\\b', 'x'.repeat(300), 'Root', 'TARGETS', 'a\nb', '%2e%2e', 'o\u0308', '..'];
const code = (args: string[]): string | undefined => errorCode(tufsign([...args, '-w', ws, '--json']));

const COMMANDS: ((role: string) => string[])[] = [
  (r) => ['sign', r],
  (r) => ['key', 'rotate', r],
  (r) => ['delegate', 'remove', r],
  (r) => ['delegate', 'add', 'proj', '--key', 'file:keys/k.pem', '--paths', 'p/*', '--from', r],
  (r) => ['delegate', 'bins', '--count', '4', '--key', 'file:keys/k.pem', '--from', r],
  (r) => ['targets', 'add', 'file.txt', '--role', r],
  (r) => ['targets', 'remove', 'file.txt', '--role', r],
  (r) => ['targets', 'list', '--role', r],
  (r) => ['status', '--check', '--role', r],
  (r) => ['add-release', 'app', '1.0', 'dist', '--role', r],
];

describe('role references at the CLI boundary', () => {
  it('every referring argument and flag refuses each hostile name with ROLE_INVALID before the workspace is opened', () => {
    // every command meets one hostile name, every name one command
    for (const [i, command] of COMMANDS.entries())
      for (const name of [HOSTILE[i] as string])
        expect([command(name).join(' '), code(command(name))]).toEqual([command(name).join(' '), 'ROLE_INVALID']);
    expect(existsSync(ws)).toBe(false);
  });

  it('an empty role name is refused with a coded error, never looked up', () => {
    for (const command of [COMMANDS[0], COMMANDS[5]]) {
      const c = code((command as (r: string) => string[])(''));
      expect(['ROLE_INVALID', 'USAGE']).toContain(c);
    }
    expect(existsSync(ws)).toBe(false);
  });
});
