/** Error text for people (ADR 0013): internal catalogue IDs removed wherever they stand; oclif's parse errors on one line. */
import { humanRule, renderErrorLine } from '../../../src/cli/envelope';
import { oclifMessage } from '../../../src/cli/base-command';

const ID = /\b(?:SPEC|BAD|VULN)-\d+|\bADR \d{4}/;

describe('humanRule', () => {
  it.each([
    ['BAD-47 a bundle holds regular files only', 'a bundle holds regular files only'],
    ['SPEC-10/BAD-24 threshold is a positive integer', 'threshold is a positive integer'],
    ['gzip archives; BAD-51 bounded uncompressed size', 'bounded uncompressed size'],
    ['key labels are unique on a token (BAD-56); tufsign never replaces a key', 'tufsign never replaces a key'],
    ['[SPEC-14/BAD-28 …] role names', 'role names'],
    ['ADR 0007: atomic writes', 'atomic writes'],
  ])('%s', (rule, words) => {
    const out = humanRule(rule);
    expect(out).not.toMatch(ID);
    expect(out).toContain(words);
  });

  it('keeps rules without IDs, and TAP numbers (public specs)', () => {
    expect(humanRule('no per-signature method (TAP 9)')).toBe('no per-signature method (TAP 9)');
    expect(humanRule('BAD-17')).toBe('');
    expect(humanRule(undefined)).toBe('');
  });
});

describe('renderErrorLine', () => {
  it('names the file once, and never nests brackets', () => {
    const line = renderErrorLine({
      code: 'USAGE',
      message: 'b/x does not carry root v1',
      file: 'b/x',
      rule: 'releases only move forward (tufup clients pick the highest version)',
    });
    expect(line.split('b/x').length - 1).toBe(1);
    expect(line).not.toMatch(/\([^()]*\([^()]*\)\)/);
    expect(line.split('\n')[0]).not.toMatch(ID);
  });
});

describe('oclifMessage', () => {
  it('joins one problem per line, drops the header and the help pointer', () => {
    const m = oclifMessage(
      'The following errors occurred:\n  Missing required flag key\n  Missing required flag paths\nSee more help with --help',
    );
    expect(m.message).not.toContain('\n');
    expect(m.message).not.toContain('::');
    expect(m.message).toMatch(/--key.*--paths/);
    expect(m.note).toBeUndefined();
  });

  it('a missing argument with a wrapped description is one problem; the note is kept apart', () => {
    const m = oclifMessage(
      'Missing 1 required arg:\nrole  Role to change: root, targets, or\n      a hash-bin prefix.\n\nNote: --add-key allows multiple values. Because of this you need to provide all arguments before providing that flag.\nAlternatively, you can use "--" to signify the end of the flags and the beginning of arguments.\nSee more help with --help',
    );
    expect(m.message).toContain('ROLE');
    expect(m.message).toContain('hash-bin prefix');
    expect(m.message).not.toMatch(/Note|Alternatively|:\s*:/);
    expect(m.note).toContain('--add-key');
  });

  it('"Parsing --flag" and its reason become one problem', () => {
    const m = oclifMessage(
      'Parsing --root-threshold \n\tExpected an integer but received: abc\nSee more help with --help',
    );
    expect(m.message).toContain('--root-threshold');
    expect(m.message).toContain('abc');
    expect(m.message).not.toContain('\n');
  });
});
