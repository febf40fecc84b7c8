/** One reader for files that hold a secret (PIN files, passphrase files): src/io/fs.ts readSecretFile. */
import { execFileSync } from 'node:child_process';
import { chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TufsignError } from '../../../src/errors';
import { readSecretFile } from '../../../src/io/fs';
import { readPinFile } from '../../../src/keystore/pkcs11/pin';
import { tempDir } from '../../helpers/tmp';

const dir = tempDir('tufsign-secret-');
const MISSING = { code: 'IO_ERROR' as const, suggestion: 'check the path' };
let n = 0;
function secretFile(content: string | Buffer, mode = 0o600): string {
  const p = join(dir, `s${n++}`);
  writeFileSync(p, content, { mode });
  chmodSync(p, mode);
  return p;
}
function code(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof TufsignError ? e.code : `not a TufsignError: ${String(e)}`;
  }
}

describe('readSecretFile', () => {
  it('returns the secret without one trailing newline (LF or CRLF), and only one', () => {
    expect(readSecretFile(secretFile('hunter2\n'), 'passphrase file', 64, MISSING).toString()).toBe('hunter2');
    expect(readSecretFile(secretFile('hunter2\r\n'), 'passphrase file', 64, MISSING).toString()).toBe('hunter2');
    expect(readSecretFile(secretFile('a b\n\n'), 'passphrase file', 64, MISSING).toString()).toBe('a b\n');
    expect(readSecretFile(secretFile(Buffer.alloc(64, 0x41)), 'passphrase file', 64, MISSING).length).toBe(64);
  });

  it.each([
    ['larger than the bound', () => secretFile(Buffer.alloc(65, 0x41)), 'KEY_FILE_INVALID'],
    ['readable by the group', () => secretFile('x', 0o640), 'KEY_FILE_PERMISSIONS'],
    [
      'a symbolic link to a 0600 file',
      () => {
        const link = join(dir, `l${n++}`);
        symlinkSync(secretFile('x'), link);
        return link;
      },
      'KEY_FILE_INVALID',
    ],
    [
      'a FIFO (never opened, so never blocks)',
      () => {
        const p = join(dir, `f${n++}`);
        execFileSync('mkfifo', ['-m', '600', p]);
        return p;
      },
      'KEY_FILE_INVALID',
    ],
    ['missing', () => join(dir, 'absent'), 'IO_ERROR'],
  ])('refuses a secret file that is %s', (_name, make, expected) => {
    expect(code(() => readSecretFile(make(), 'passphrase file', 64, MISSING))).toBe(expected);
  });

  it('PIN files keep their own rules on top: at most 256 bytes, never empty', () => {
    expect(readPinFile(secretFile('123456\n')).toString()).toBe('123456');
    expect(code(() => readPinFile(secretFile('\n')))).toBe('KEY_FILE_INVALID');
    expect(code(() => readPinFile(secretFile(Buffer.alloc(257, 0x31))))).toBe('KEY_FILE_INVALID');
  });
});
