/**
 * ADR 0019: what `targets add` refuses in a NEW target path beyond the filesystem rules (BAD-40 … BAD-45), and
 * what the read side still accepts. A path that reads differently from what is signed (C1 controls, bidi
 * overrides, zero-width and other invisible characters) is refused on add (BAD-65) but never makes a validly
 * signed repository fail: the spec and python-tuf allow any path, so `verify` names it and every display escapes
 * it. Names too long to store under consistent snapshots are refused on add (BAD-66).
 */
import fc from 'fast-check';
import { safeText } from '../../../src/cli/safe-text';
import {
  INVISIBLE_CHARS,
  MAX_TARGET_FILE_NAME_BYTES,
  MAX_TARGET_PATH_BYTES,
  newTargetPathProblem,
  parseNewTargetPath,
  parseTargetPath,
  targetPathProblem,
} from '../../../src/tuf/paths';

const READS_DIFFERENTLY: [string, string][] = [
  ['C1 NEL U+0085 (a line break to some terminals)', 'release\u0085notes.txt'],
  ['C1 CSI U+009B (an escape sequence to some terminals)', 'a\u009b2Jb.txt'],
  ['right-to-left override U+202E ("invoice‮fdp.exe" reads as "invoiceexe.pdf")', 'invoice\u202efdp.exe'],
  ['left-to-right override U+202D', 'a\u202db.txt'],
  ['right-to-left isolate U+2067 and pop U+2069', 'a\u2067b\u2069.txt'],
  ['right-to-left mark U+200F', 'a\u200f.txt'],
  ['Arabic letter mark U+061C', 'a\u061c.txt'],
  ['zero-width space U+200B (two paths that look the same)', 'app\u200b.tar.gz'],
  ['zero-width joiner U+200D', 'a\u200db.txt'],
  ['word joiner U+2060', 'a\u2060b.txt'],
  ['BOM / zero-width no-break space U+FEFF', '\ufeffsetup.exe'],
  ['soft hyphen U+00AD', 'set\u00adup.exe'],
  ['line separator U+2028', 'a\u2028b.txt'],
  ['paragraph separator U+2029', 'a\u2029b.txt'],
  ['interlinear annotation U+FFF9', 'a\ufff9b.txt'],
  ['in a folder segment', 'dir\u202e/x.txt'],
];

describe('new target paths: characters that make a path read differently (ADR 0019, BAD-65)', () => {
  it.each(READS_DIFFERENTLY)('%s: refused on add with PATH_UNSAFE, accepted in signed metadata', (_name, path) => {
    expect(() => parseNewTargetPath(path)).toThrow(
      expect.objectContaining({ code: 'PATH_UNSAFE', rule: expect.stringContaining('BAD-65') }),
    );
    // the read side (verify, import, remove) keeps accepting a validly signed repository that has one
    expect(targetPathProblem(path)).toBeUndefined();
    expect(parseTargetPath(path)).toBe(path);
    // and the display shows it escaped, never raw
    expect(safeText(path)).not.toBe(path);
    expect(safeText(path)).toMatch(/\\(x[0-9a-f]{2}|u\{[0-9a-f]+\})/);
  });

  it('the refusal names the code point and its position', () => {
    expect(newTargetPathProblem('ab\u202ec')?.why).toContain('U+202E at character 3');
    // position counts characters, not UTF-16 units: the emoji before it is one character
    expect(newTargetPathProblem('🚀\u200b')?.why).toContain('U+200B at character 2');
  });

  it('one list: every character add refuses is escaped by the display layer, and the other way round', () => {
    const cls = new RegExp(`^[${INVISIBLE_CHARS}]$`, 'u');
    const disagree: string[] = [];
    let refusedCount = 0;
    for (let cp = 0x80; cp <= 0xffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      const refused = newTargetPathProblem(`a${ch}b`)?.rule.includes('BAD-65') === true;
      const escaped = safeText(ch) !== ch;
      if (refused) refusedCount++;
      if (refused !== cls.test(ch) || escaped !== refused) disagree.push(`U+${cp.toString(16)}`);
    }
    expect(disagree).toEqual([]);
    expect(refusedCount).toBeGreaterThan(60);
  });

  it('NUL, C0 controls and DEL are refused on both sides (BAD-43), as before', () => {
    for (const p of ['a\u0000b', 'a\u001bb', 'a\rb', 'a\u007fb']) {
      expect(targetPathProblem(p)?.rule).toContain('BAD-43');
      expect(newTargetPathProblem(p)?.rule).toContain('BAD-43');
    }
  });

  it('a lone surrogate is refused on add (it would be stored as U+FFFD, not as signed)', () => {
    for (const p of ['a\ud800b', 'a\udc00', '\ud83d']) {
      expect(newTargetPathProblem(p)?.rule).toContain('BAD-43');
    }
    expect(newTargetPathProblem('a\ud83d\ude80b')).toBeUndefined();
  });

  it('mixed-script lookalikes are accepted and shown as they are (decision: ADR 0019)', () => {
    // Cyrillic а (U+0430) and Greek ο (U+03BF) in Latin words: visible letters with different bytes,
    // told apart by the hashes and length every review shows, and by --json
    for (const p of ['p\u0430ypal/setup.exe', 'micr\u03bfsoft.msi', 'Київ/звіт.pdf', '山田/報告.txt', 'ελληνικά.txt']) {
      expect(newTargetPathProblem(p)).toBeUndefined();
      expect(safeText(p)).toBe(p);
    }
  });

  it('plain names in any script, with emoji, pass', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'Z', '0', '-', '_', '.', 'é', 'ß', '山', 'Ж', 'ع', 'א', '🚀'), {
          minLength: 1,
          maxLength: 40,
        }),
        (chars) => {
          const p = `dir/${chars.join('')}x`;
          expect(newTargetPathProblem(p)?.rule ?? '').not.toMatch(/BAD-6[56]/);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('new target paths: names too long to store (BAD-66)', () => {
  const x = (n: number): string => 'x'.repeat(n);

  it(`a file name of ${MAX_TARGET_FILE_NAME_BYTES} bytes passes, one more is refused (the stored copy adds a hash prefix)`, () => {
    expect(newTargetPathProblem(x(MAX_TARGET_FILE_NAME_BYTES))).toBeUndefined();
    expect(newTargetPathProblem(x(MAX_TARGET_FILE_NAME_BYTES + 1))?.rule).toContain('BAD-66');
    // 64 hex + "." + name + temp suffix ".<12 hex>.tmp" and the leading "." fit in 255 bytes
    expect(1 + 64 + 1 + MAX_TARGET_FILE_NAME_BYTES + 1 + 12 + 4).toBe(255);
  });

  it('bytes are counted in UTF-8, not characters', () => {
    const n = Math.floor(MAX_TARGET_FILE_NAME_BYTES / 3);
    expect(newTargetPathProblem('山'.repeat(n))).toBeUndefined();
    expect(newTargetPathProblem('山'.repeat(n + 1))?.why).toContain(`${(n + 1) * 3} bytes`);
  });

  it('folder names up to 255 bytes, the whole path up to the limit', () => {
    expect(newTargetPathProblem(`${x(255)}/a`)).toBeUndefined();
    expect(newTargetPathProblem(`${x(256)}/a`)?.rule).toContain('BAD-66');
    const deep = Array.from({ length: 200 }, () => 'abcd').join('/');
    expect(Buffer.byteLength(deep)).toBeLessThanOrEqual(MAX_TARGET_PATH_BYTES);
    expect(newTargetPathProblem(deep)).toBeUndefined();
    expect(newTargetPathProblem(`${deep}/${x(100)}`)?.why).toMatch(/bytes long/);
  });

  it('a huge path is refused quickly and without echoing megabytes into the reason', () => {
    const huge = x(4 * 1024 * 1024);
    const p = newTargetPathProblem(huge);
    expect(p?.rule).toContain('BAD-66');
    expect(p!.why.length).toBeLessThan(200);
    // the read side does not refuse length: an existing repository is not ours to judge on that
    expect(targetPathProblem(huge)).toBeUndefined();
  });
});
