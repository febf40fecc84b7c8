/** Attack: terminal escapes in strings from files. Whatever a file holds, safeText's output acts on no terminal. */
import fc from 'fast-check';
import { hasUnsafeText, safeText } from '../../../src/cli/safe-text';

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
