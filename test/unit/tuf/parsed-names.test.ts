/**
 * Parse, don't re-check (ADR 0016): target paths and role names become `TargetPath` / `RoleName` only through their
 * parsers, which refuse every hostile form with a coded error naming the rule. The brand cannot be written by hand.
 */
import {
  checkNoCollisions,
  parseDelegatedRoleName,
  parseRoleName,
  parseRoleRef,
  parseTargetPath,
  type RoleName,
  type TargetPath,
} from '../../../src/tuf/paths';
import { buildBundle } from '../../../src/bundle/manifest';

const HEX64 = 'ab'.repeat(32);

describe('parseTargetPath', () => {
  const hostile: [string, string][] = [
    ['', 'BAD-42'],
    ['..', 'BAD-40'],
    ['.', 'BAD-40'],
    ['../etc/passwd', 'BAD-40'],
    ['a/../../x', 'BAD-40'],
    ['a/./b', 'BAD-40'],
    ['/etc/passwd', 'BAD-41'],
    ['C:x', 'BAD-41'],
    ['c:/windows/x', 'BAD-41'],
    ['C:\\x', 'BAD-41/BAD-42'],
    ['\\\\server\\share', 'BAD-41/BAD-42'],
    ['a\\b', 'BAD-41/BAD-42'],
    ['..\\x', 'BAD-41/BAD-42'],
    ['a//b', 'BAD-42'],
    ['a/', 'BAD-42'],
    ['a\0b', 'BAD-43'],
    ['a\0/../../x', 'BAD-43'],
    ['a\nb', 'BAD-43'],
    ['a\rb', 'BAD-43'],
    ['a\x1bb', 'BAD-43'],
    ['a\x7fb', 'BAD-43'],
    ['o\u0308.txt', 'BAD-44'], // NFD ö
    ['A\u030a/x', 'BAD-44'], // NFD Å
    [`${HEX64}.app.tar.gz`, 'BAD-45'],
    [`dir/${HEX64}.x`, 'BAD-45'],
  ];
  it.each(hostile)('refuses %j (%s) with PATH_UNSAFE, naming the path and the rule', (path, rule) => {
    let caught: unknown;
    try {
      parseTargetPath(path);
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'PATH_UNSAFE', path });
    expect((caught as { rule: string }).rule.startsWith(rule)).toBe(true);
  });

  it('names the caller’s field in the message', () => {
    expect(() => parseTargetPath('../x', 'path pattern')).toThrow(/^path pattern "\.\.\/x"/);
  });

  it('accepts plain relative paths and returns them unchanged', () => {
    for (const p of [
      'app-1.0.tar.gz',
      'a/b/c.txt',
      '\u00f6.txt', // NFC ö
      '..a/b..', // dots inside a name are no segment
      '%2e%2e/x', // percent signs are literal characters, never decoded
      '\uff0fetc\uff0fpasswd', // fullwidth solidus is an ordinary character, not a separator
      `${HEX64.slice(1)}.x`, // 63 hex digits: not a hash prefix
      'x'.repeat(4096), // length is bounded by the clients' metadata limits, not here
    ]) {
      const parsed: TargetPath = parseTargetPath(p);
      expect(parsed).toBe(p);
    }
  });

  it('a string is not a TargetPath without the parser', () => {
    // @ts-expect-error -- the brand is a unique symbol: only parseTargetPath makes one
    const forged: TargetPath = '../x';
    expect(typeof forged).toBe('string');
  });

  it('paths that merge on a case-folding or normalising filesystem are refused together (BAD-44)', () => {
    for (const pair of [
      ['A.txt', 'a.txt'],
      ['stra\u00dfe', 'strasse'],
      ['\ufb01le', 'file'], // ligature ﬁ
      ['x/\u2126', 'x/\u03c9'], // Ohm sign vs omega
    ])
      expect(() => checkNoCollisions(pair)).toThrow(expect.objectContaining({ code: 'PATH_COLLISION' }));
    expect(() => checkNoCollisions(['a.txt', 'b.txt'])).not.toThrow();
  });
});

describe('parseRoleName / parseDelegatedRoleName', () => {
  const hostile = [
    '',
    '..',
    '.',
    'a/b',
    '../targets',
    'a\\b',
    'a\0',
    'a\n',
    'A',
    'Targets',
    'r\u00f6le',
    'ro\u0308le',
    '\uff41', // fullwidth a
    'a%2fb',
    'a?b',
    'a#b',
    '-a',
    'a-',
    'a.json',
    ' a',
    'x'.repeat(65),
  ];
  it.each(hostile)('refuses %j with ROLE_INVALID (BAD-38)', (name) => {
    expect(() => parseRoleName(name)).toThrow(
      expect.objectContaining({ code: 'ROLE_INVALID', rule: 'BAD-38 portable role names' }),
    );
    expect(() => parseDelegatedRoleName(name)).toThrow(expect.objectContaining({ code: 'ROLE_INVALID' }));
  });

  it('accepts portable names up to 64 characters', () => {
    for (const n of ['a', 'projects', 'bins-0f', 'a-b-c', '0', 'x'.repeat(64)]) {
      const parsed: RoleName = parseDelegatedRoleName(n);
      expect(parsed).toBe(n);
      expect(parseRoleName(n)).toBe(n);
    }
  });

  it('a delegated role never takes a top-level name (BAD-36), though each is a valid role name', () => {
    for (const n of ['root', 'targets', 'snapshot', 'timestamp']) {
      expect(parseRoleName(n)).toBe(n);
      expect(() => parseDelegatedRoleName(n)).toThrow(
        expect.objectContaining({ code: 'ROLE_INVALID', rule: 'BAD-36 delegated role names' }),
      );
    }
  });

  it('a string is not a RoleName without the parser', () => {
    // @ts-expect-error -- only the parsers make one
    const forged: RoleName = 'targets';
    expect(forged).toBe('targets');
  });
});

describe('bundle file paths use the same rules (one path-safety module)', () => {
  const build = (path: string) => () =>
    buildBundle({ repository: 'r', base: {}, files: [{ path, data: Buffer.from('x'), new: true }] });
  it.each([
    'metadata/../x',
    'targets/../../etc/passwd',
    'targets/a\\b',
    'targets/a\u0001b',
    'targets/a\0b',
    'targets//a',
    'metadata/',
    '/metadata/x',
    'other/x',
    'metadata',
  ])('refuses %j with BUNDLE_INVALID', (path) => {
    expect(build(path)).toThrow(expect.objectContaining({ code: 'BUNDLE_INVALID' }));
  });
  it('accepts metadata and target files', () => {
    expect(build('metadata/1.root.json')).not.toThrow();
    expect(build(`targets/${HEX64}.app-1.0.tar.gz`)).not.toThrow();
  });
});

describe('parseRoleRef', () => {
  const codeOf = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return undefined;
  };
  it('refuses every name that could escape, collide or not be one file name, with ROLE_INVALID', () => {
    const hostile = [
      '',
      '.',
      '..',
      '../x',
      'a/b',
      'a\\b',
      'a\0b',
      'a\nb',
      '%2e',
      'a?b',
      'a#b',
      'o\u0308',
      'x'.repeat(201),
    ];
    for (const name of [...hostile, 'Root', 'TARGETS', 'sNapshot', 'timeStamp'])
      expect([name, codeOf(() => parseRoleRef(name))]).toEqual([name, 'ROLE_INVALID']);
  });

  it('takes the top-level names and any delegated name that passes the file-name floor (an imported one too)', () => {
    for (const name of ['root', 'targets', 'snapshot', 'timestamp', 'nightly', 'Team_A.v2', 'x'.repeat(200), 'ünï'])
      expect(parseRoleRef(name)).toBe(name);
  });
});
