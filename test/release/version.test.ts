import { isTufsignError } from '../../src/errors';
import {
  archiveName,
  channelIncludes,
  channelOf,
  checkAppName,
  checkReleaseVersion,
  compareVersionStrings,
  parseTargetName,
  parseVersion,
  patchName,
} from '../../src/release/version';
import { expectCode } from './helpers';

describe('PEP 440 ordering', () => {
  // Each row is strictly smaller than the next (packaging.version order).
  const ascending = [
    '0.9',
    '1.0.dev0',
    '1.0.dev1',
    '1.0a1.dev1',
    '1.0a1',
    '1.0a1.post1',
    '1.0a2',
    '1.0b1',
    '1.0rc1.dev0',
    '1.0rc1',
    '1.0',
    '1.0+local',
    '1.0+local.2',
    '1.0+2',
    '1.0.post1.dev0',
    '1.0.post1',
    '1.0.1',
    '1.1',
    '1.10',
    '2.0rc1',
    '2.0',
    '1!0.1',
  ];
  test.each(ascending.slice(0, -1).map((v, i) => [v, ascending[i + 1]!]))('%s < %s', (a, b) => {
    expect(compareVersionStrings(a, b)).toBe(-1);
    expect(compareVersionStrings(b, a)).toBe(1);
  });

  test.each([
    ['1.0', '1.0.0'],
    ['1.0', '1'],
    ['1.0alpha1', '1.0a1'],
    ['1.0-rc-1', '1.0rc1'],
    ['1.0c1', '1.0rc1'],
    ['1.0-1', '1.0.post1'],
    ['v1.0', '1.0'],
    ['1.0.DEV', '1.0.dev0'],
  ])('%s == %s', (a, b) => expect(compareVersionStrings(a, b)).toBe(0));

  test.each([
    ['1.0alpha1', '1.0a1'],
    ['1.0-rc-1', '1.0rc1'],
    ['1.0-1', '1.0.post1'],
    ['v1.0', '1.0'],
    ['1.0+Local-Thing', '1.0+local.thing'],
    ['1!1.0', '1!1.0'],
  ])('normalizes %s to %s', (input, normalized) => expect(parseVersion(input).normalized).toBe(normalized));

  test.each(['', 'abc', '1.0-', '1..0', '1.0+', '1.0 beta', '../1.0', '1.0/x'])('%j is not PEP 440', (v) =>
    expectCode(() => parseVersion(v), 'VERSION_INVALID'),
  );

  test('release versions must be normalized', () => {
    expect(checkReleaseVersion('1.2.0rc1').normalized).toBe('1.2.0rc1');
    try {
      checkReleaseVersion('1.2.0-rc1');
      throw new Error('not refused');
    } catch (e) {
      expect(isTufsignError(e, 'VERSION_INVALID')).toBe(true);
      expect((e as { details?: { normalized?: string } }).details?.normalized).toBe('1.2.0rc1');
    }
  });
});

describe('channels (tufup client filters)', () => {
  test.each([
    ['1.0', 'final'],
    ['1.0.post1', 'final'],
    ['1.0.dev1', 'final'],
    ['1.0rc2', 'rc'],
    ['1.0b1', 'b'],
    ['1.0a1.dev0', 'a'],
  ])('%s is on %s', (v, ch) => expect(channelOf(parseVersion(v))).toBe(ch));

  test('pre=None keeps finals; a keeps a/b/rc; b keeps b/rc; rc keeps rc', () => {
    const inc = (ch: Parameters<typeof channelIncludes>[0], v: string): boolean => channelIncludes(ch, parseVersion(v));
    expect([inc('final', '1.0'), inc('final', '1.0rc1'), inc('final', '1.0a1')]).toEqual([true, false, false]);
    expect([inc('a', '1.0a1'), inc('a', '1.0b1'), inc('a', '1.0rc1'), inc('a', '1.0')]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect([inc('b', '1.0a1'), inc('b', '1.0b1'), inc('b', '1.0rc1')]).toEqual([false, true, true]);
    expect([inc('rc', '1.0a1'), inc('rc', '1.0b1'), inc('rc', '1.0rc1')]).toEqual([false, false, true]);
  });
});

describe('names', () => {
  test.each(['my_app', 'My-App2', 'a'])('app %s is fine', (n) => expect(() => checkAppName(n)).not.toThrow());
  test.each(['', 'my app', 'app.name', 'app/x', 'ä', '../x', 'x\n'])('app %j is refused', (n) =>
    expectCode(() => checkAppName(n), 'RELEASE_INVALID'),
  );

  test('file names round-trip through tufup’s filename regex', () => {
    for (const [app, v] of [
      ['my-app', '1.0'],
      ['my-app-1', '2'],
      ['a_b', '1!2.0rc1+local.1'],
    ] as const) {
      expect(parseTargetName(archiveName(app, v))).toMatchObject({ app, kind: 'archive', version: { normalized: v } });
      expect(parseTargetName(patchName(app, v))).toMatchObject({ app, kind: 'patch' });
    }
    expect(parseTargetName('notes.txt')).toBeUndefined();
    expect(parseTargetName('app-notaversion.tar.gz')).toBeUndefined();
  });
});
