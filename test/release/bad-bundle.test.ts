import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { buildRelease } from '../../src/release/build';
import { checkReleaseVersion } from '../../src/release/version';
import { scanBundle } from '../../src/release/scan';
import type { ErrorCode } from '../../src/errors';
import { expectCode, expectCodeAsync, run, scratch } from './helpers';

const tmp = scratch();

function bundleWith(setup: (dir: string) => void): string {
  const d = tmp();
  writeFileSync(join(d, 'ok.txt'), 'fine\n');
  mkdirSync(join(d, 'sub'));
  setup(d);
  return d;
}

const cases: [string, (d: string) => void, ErrorCode][] = [
  ['symlink to a file (BAD-47)', (d) => symlinkSync('ok.txt', join(d, 'link')), 'RELEASE_FILE_TYPE'],
  ['symlink to a folder (BAD-47)', (d) => symlinkSync('sub', join(d, 'sub/link')), 'RELEASE_FILE_TYPE'],
  ['dangling symlink (BAD-47)', (d) => symlinkSync('nowhere', join(d, 'dangling')), 'RELEASE_FILE_TYPE'],
  [
    'chained symlink escaping the bundle (BAD-47)',
    (d) => {
      symlinkSync('/etc/passwd', join(d, 'l1'));
      symlinkSync('l1', join(d, 'l2'));
    },
    'RELEASE_FILE_TYPE',
  ],
  ['hard link (BAD-47)', (d) => linkSync(join(d, 'ok.txt'), join(d, 'sub/hard.txt')), 'RELEASE_FILE_TYPE'],
  ['FIFO (BAD-47)', (d) => run('mkfifo', [join(d, 'sub/pipe')]), 'RELEASE_FILE_TYPE'],
  ['newline in a name (BAD-43)', (d) => writeFileSync(join(d, 'bad\nname'), 'x'), 'PATH_UNSAFE'],
  ['control character in a name (BAD-43)', (d) => writeFileSync(join(d, 'bell\u0007'), 'x'), 'PATH_UNSAFE'],
  ['backslash in a name (BAD-42)', (d) => writeFileSync(join(d, 'dir\\..\\x'), 'x'), 'PATH_UNSAFE'],
  ['invalid UTF-8 name (BAD-43)', (d) => writeFileSync(Buffer.from(join(d, 'bad-\xff'), 'latin1'), 'x'), 'PATH_UNSAFE'],
  [
    'case collision A.txt / a.txt (BAD-44)',
    (d) => {
      writeFileSync(join(d, 'A.txt'), '1');
      writeFileSync(join(d, 'a.txt'), '2');
    },
    'PATH_COLLISION',
  ],
  [
    'case collision across folders (BAD-44)',
    (d) => {
      mkdirSync(join(d, 'Lib'));
      writeFileSync(join(d, 'Lib/x'), '1');
      writeFileSync(join(d, 'sub/x'), '1');
      mkdirSync(join(d, 'lib'));
    },
    'PATH_COLLISION',
  ],
  [
    'ß / ss collision (BAD-44)',
    (d) => {
      writeFileSync(join(d, 'straße'), '1');
      writeFileSync(join(d, 'strasse'), '2');
    },
    'PATH_COLLISION',
  ],
  [
    'NFD name next to its NFC twin (BAD-44)',
    (d) => {
      writeFileSync(join(d, 'caf\u00e9'), '1');
      writeFileSync(join(d, 'cafe\u0301'), '2');
    },
    'PATH_UNSAFE',
  ],
];

describe('bad bundles are refused before anything is built', () => {
  test.each(cases)('%s', async (_name, setup, code) => {
    const dir = bundleWith(setup);
    expectCode(() => scanBundle(dir), code);
    await expectCodeAsync(
      () => buildRelease({ app: 'x', version: checkReleaseVersion('1.0'), dir, releaseTime: 0 }),
      code,
    );
  });

  test('a Unix socket is refused', async () => {
    const dir = bundleWith(() => undefined);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, 'sock'), resolve));
    try {
      expectCode(() => scanBundle(dir), 'RELEASE_FILE_TYPE');
    } finally {
      server.close();
    }
  });

  test('a missing folder or a file instead of a folder', () => {
    expectCode(() => scanBundle('/nonexistent/tufsign/bundle'), 'RELEASE_INVALID');
    const d = bundleWith(() => undefined);
    expectCode(() => scanBundle(join(d, 'ok.txt')), 'RELEASE_INVALID');
  });
});
