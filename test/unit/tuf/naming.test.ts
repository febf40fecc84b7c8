import { metadataFileName, rootFileName, targetFileNames } from '../../../src/tuf/naming';

describe('TUF file naming (src/tuf/naming.ts)', () => {
  it.each([
    ['root', 3, false, '3.root.json'], // root is always versioned (clients walk N.root.json)
    ['root', 3, true, '3.root.json'],
    ['targets', 7, true, '7.targets.json'],
    ['targets', 7, false, 'targets.json'],
    ['snapshot', 2, true, '2.snapshot.json'],
    ['bin-0', 4, true, '4.bin-0.json'],
    ['timestamp', 9, true, 'timestamp.json'], // never versioned
    ['timestamp', 9, false, 'timestamp.json'],
  ])('%s v%d (consistent %s) is %s', (role, version, consistent, name) => {
    expect(metadataFileName(role, version, consistent)).toBe(name);
  });

  it('every root version is kept as N.root.json', () => {
    expect([1, 2, 10].map(rootFileName)).toEqual(['1.root.json', '2.root.json', '10.root.json']);
  });

  it('targets are stored under one hash-prefixed name per hash, in their directory, when consistent', () => {
    const hashes = new Map([
      ['sha256', 'aa'],
      ['sha512', 'bb'],
    ]);
    expect(targetFileNames('app/v1/app.tar.gz', hashes, true)).toEqual([
      'app/v1/aa.app.tar.gz',
      'app/v1/bb.app.tar.gz',
    ]);
    expect(targetFileNames('app.tar.gz', hashes, true)).toEqual(['aa.app.tar.gz', 'bb.app.tar.gz']);
    expect(targetFileNames('app/v1/app.tar.gz', hashes, false)).toEqual(['app/v1/app.tar.gz']);
  });
});
