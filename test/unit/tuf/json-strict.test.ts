import { parseJson, stringifyPretty, MAX_DEPTH } from '../../../src/tuf/json';
import { TufsignError } from '../../../src/errors';

function codeOf(input: string | Uint8Array): string | undefined {
  try {
    parseJson(input, 'input.json');
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(TufsignError);
    const err = e as TufsignError;
    expect(err.file).toBe('input.json');
    expect(err.path).toMatch(/^\$/);
    expect(err.rule).toBeDefined();
    return err.code;
  }
}

describe('strict JSON parser', () => {
  it.each([
    ['BAD-01 truncated', '{"a": [1, 2', 'JSON_SYNTAX'],
    ['BAD-01 missing colon', '{"a" 1}', 'JSON_SYNTAX'],
    ['BAD-01 trailing comma', '{"a":1,}', 'JSON_SYNTAX'],
    ['BAD-02 trailing bytes', '{"a":1} x', 'JSON_SYNTAX'],
    ['BAD-02 second document', '{"a":1}{"b":2}', 'JSON_SYNTAX'],
    ['BAD-03 lone surrogate escape', '{"a":"\\ud800"}', 'JSON_STRING'],
    ['BAD-03 lone low surrogate', '{"a":"\\udc00x"}', 'JSON_STRING'],
    ['BAD-04 duplicate keys', '{"version":1,"version":2}', 'JSON_DUPLICATE_KEY'],
    ['BAD-04 nested duplicate', '{"signed":{"keys":{},"keys":{}}}', 'JSON_DUPLICATE_KEY'],
    ['BAD-05 fraction', '{"v":1.0}', 'JSON_NUMBER'],
    ['BAD-05 exponent', '{"v":1e2}', 'JSON_NUMBER'],
    ['BAD-05 negative zero', '{"v":-0}', 'JSON_NUMBER'],
    ['BAD-06 above 2^53-1', '{"version":9007199254740993}', 'JSON_NUMBER'],
    ['BAD-06 huge digit string', `{"v":${'9'.repeat(5000)}}`, 'JSON_NUMBER'],
    ['BAD-07 NaN', '{"v":NaN}', 'JSON_SYNTAX'],
    ['BAD-07 Infinity', '{"v":Infinity}', 'JSON_SYNTAX'],
    ['BAD-07 comment', '{"v":1 /* c */}', 'JSON_SYNTAX'],
    ['BAD-07 single quotes', "{'v':1}", 'JSON_SYNTAX'],
    ['BAD-07 leading zero', '{"v":01}', 'JSON_SYNTAX'],
    ['BAD-09 deep nesting', '['.repeat(10000) + ']'.repeat(10000), 'JSON_TOO_DEEP'],
    ['BAD-10 __proto__ key', '{"targets":{"__proto__":{"length":1}}}', 'JSON_FORBIDDEN_KEY'],
    ['raw control character', '{"a":"x\u0001"}', 'JSON_STRING'],
  ])('%s', (_name, input, code) => {
    expect(codeOf(input)).toBe(code);
  });

  it('BAD-03 refuses a UTF-8 BOM and invalid UTF-8', () => {
    expect(codeOf(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe('JSON_SYNTAX');
    expect(codeOf(Buffer.from([0x22, 0xc3, 0x28, 0x22]))).toBe('JSON_SYNTAX');
  });

  it('keeps constructor and prototype as plain data without polluting prototypes', () => {
    const v = parseJson('{"constructor":{"x":1},"prototype":2}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBeNull();
    expect(v['constructor']).toEqual(expect.objectContaining({ x: 1 }));
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('accepts nesting up to the limit', () => {
    expect(() => parseJson('['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH))).not.toThrow();
  });

  it('decodes escapes and surrogate pairs exactly', () => {
    expect(parseJson('"\\ud83d\\ude00\\n\\u00e9\\/"')).toBe('\u{1F600}\né/');
  });

  it('pretty output is ASCII-only, sorted by code point, and parses back to the same value', () => {
    const value = parseJson('{"\\uffff":1,"\\ud83d\\ude00":2,"a":"é"}');
    const text = stringifyPretty(value);
    expect(/^[\x00-\x7f]*$/.test(text)).toBe(true);
    expect(text.indexOf('\\uffff')).toBeLessThan(text.indexOf('\\ud83d'));
    expect(parseJson(text)).toEqual(value);
  });
});
