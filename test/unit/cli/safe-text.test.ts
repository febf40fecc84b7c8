/** Attack: terminal escapes in strings from files. Whatever a file holds, safeText's output acts on no terminal. */
import fc from 'fast-check';
import { errorEnvelope, renderErrorLine } from '../../../src/cli/envelope';
import { hasUnsafeText, jsonText, safeText, terminalText } from '../../../src/cli/safe-text';

// Characters a terminal acts on, or that reorder/hide what is read.
const ACTIVE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/u;

describe('attack: terminal escapes in displayed strings', () => {
  it.each([
    ['ANSI conceal (hides the lines after it)', 'alice\u001b[8m', 'alice\\x1b[8m'],
    ['carriage return (overwrites the line)', 'ok\rEVIL', 'ok\\x0dEVIL'],
    ['right-to-left override (reorders text)', 'gpj.\u202eexe', 'gpj.\\u{202e}exe'],
    ['OSC title sequence with BEL', '\u001b]0;x\u0007', '\\x1b]0;x\\x07'],
    ['C1 CSI', '\u009b31m', '\\x9b31m'],
    ['zero-width joiner', 'bo\u200db', 'bo\\u{200d}b'],
    ['newline (a label never spans lines)', 'a\nb', 'a\\x0ab'],
    ['a literal backslash stays unambiguous', 'a\\x1b', 'a\\\\x1b'],
  ])('%s', (_name, input, shown) => {
    expect(safeText(input)).toBe(shown);
    expect(ACTIVE.test(safeText(input))).toBe(false);
  });

  it('plain text, including non-Latin scripts and emoji, is unchanged', () => {
    for (const s of ['alice (YubiKey 5C)', 'Jürgen Müller', 'Σωκράτης', '山田太郎', 'release 🚀']) {
      expect(safeText(s)).toBe(s);
      expect(hasUnsafeText(s)).toBe(false);
    }
  });

  it('property: no output of safeText contains a character a terminal acts on', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (s) => {
        expect(ACTIVE.test(safeText(s))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('attack: terminal escapes in whole command output (the last line of defence, ADR 0019)', () => {
  const HOSTILE = 'docs/invoice\u202efdp.exe\u0085\u200b\u001b[8m\r';

  it("terminalText keeps the output's own lines and tabs and escapes everything else", () => {
    const out = terminalText(`PATH\tROLE\n${HOSTILE}\ttargets\n`);
    expect(out).toBe('PATH\tROLE\ndocs/invoice\\u{202e}fdp.exe\\x85\\u{200b}\\x1b[8m\\x0d\ttargets\n');
  });

  it('property: terminalText output has no active character but newline and tab', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (s) => {
        expect(ACTIVE.test(terminalText(s).replace(/[\n\t]/g, ''))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('property: jsonText parses back to the same value and shows no active character', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary', maxLength: 32 }), (v, s) => {
        const value = { v, s, [s]: s };
        const text = jsonText(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(ACTIVE.test(text.replace(/\n/g, ''))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('an error naming a hostile path is one line on stderr and one escaped JSON envelope', () => {
    const payload = {
      code: 'PATH_UNSAFE' as const,
      message: `target path ${JSON.stringify(HOSTILE)}: nope\nsecond line`,
      path: HOSTILE,
      rule: 'BAD-65 x\u202e',
      suggestion: 'try\u2028again',
    };
    const line = renderErrorLine(payload);
    expect(line.split('\n').filter((l) => l !== '')).toHaveLength(2); // the error and its suggestion
    expect(ACTIVE.test(line.replace(/\n/g, ''))).toBe(false);
    expect(line).toContain('invoice\\u{202e}fdp.exe');
    const env = errorEnvelope(payload);
    expect(ACTIVE.test(env.replace(/\n/g, ''))).toBe(false);
    expect(JSON.parse(env).error.path).toBe(HOSTILE);
  });
});
