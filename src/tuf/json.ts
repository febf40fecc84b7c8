/**
 * A strict JSON parser for metadata and every other file tufsign reads.
 *
 * `JSON.parse` silently keeps the last of duplicate keys, turns big integers
 * into approximations and accepts lone surrogates; any of those would let two
 * tools see different content under the same signature. This parser refuses:
 * duplicate keys (BAD-04), fractions/exponents/-0 (BAD-05), integers past
 * 2^53-1 (BAD-06), NaN/comments/single quotes (BAD-07), deep nesting (BAD-09),
 * `__proto__` keys (BAD-10), a BOM, invalid UTF-8 and lone surrogates (BAD-03),
 * and trailing bytes (BAD-02). Objects are null-prototype, so `constructor` or
 * `prototype` keys are plain data.
 */
import { hasLoneSurrogate, sortedKeys } from './canonical-json';
import { TufsignError, type ErrorCode } from '../errors';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export const MAX_DEPTH = 100;

export function newObject(): JsonObject {
  return Object.create(null) as JsonObject;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Parser {
  private pos = 0;
  /** keys and indexes from the document to the value being parsed: the error path is built only on failure */
  private readonly stack: (string | number)[] = [];
  constructor(
    private readonly text: string,
    private readonly file: string | undefined,
  ) {}

  fail(code: ErrorCode, message: string, rule: string): never {
    const { line, column } = this.location();
    let path = '$';
    for (const k of this.stack) path = jsonPathJoin(path, k);
    throw new TufsignError(code, `${message} (line ${line}, column ${column})`, {
      file: this.file,
      path,
      rule,
      suggestion: 'Fix or replace the file; tufsign never guesses at malformed JSON.',
    });
  }

  private location(): { line: number; column: number } {
    let line = 1;
    let column = 1;
    for (let i = 0; i < this.pos && i < this.text.length; i++) {
      if (this.text[i] === '\n') {
        line++;
        column = 1;
      } else column++;
    }
    return { line, column };
  }

  parseDocument(): JsonValue {
    this.skipWs();
    const value = this.parseValue(0);
    this.skipWs();
    if (this.pos !== this.text.length) {
      this.fail('JSON_SYNTAX', 'unexpected data after the JSON document', 'BAD-02 one JSON document per file');
    }
    return value;
  }

  private skipWs(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  private parseValue(depth: number): JsonValue {
    if (depth > MAX_DEPTH)
      this.fail('JSON_TOO_DEEP', `nesting deeper than ${MAX_DEPTH} levels`, 'BAD-09 bounded nesting');
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.parseObject(depth);
      case '[':
        return this.parseArray(depth);
      case '"':
        return this.parseString();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.parseNumber();
        if (c === undefined) this.fail('JSON_SYNTAX', 'unexpected end of input', 'BAD-01 well-formed JSON');
        return this.fail('JSON_SYNTAX', `unexpected character ${JSON.stringify(c)}`, 'BAD-01/BAD-07 well-formed JSON');
    }
  }

  private literal<T>(word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return value;
    }
    return this.fail('JSON_SYNTAX', 'invalid literal', 'BAD-07 well-formed JSON');
  }

  private parseNumber(): number {
    // -?(0|[1-9][0-9]*), scanned in place: a 16,384-entry snapshot has as many numbers
    const text = this.text;
    const start = this.pos;
    let i = start;
    if (text.charCodeAt(i) === 0x2d) i++;
    const first = text.charCodeAt(i);
    if (first === 0x30) i++;
    else if (first >= 0x31 && first <= 0x39) {
      i++;
      for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(i)) i++;
    } else this.fail('JSON_SYNTAX', 'invalid number', 'BAD-01 well-formed JSON');
    const next = text.charCodeAt(i);
    if (next === 0x2e || next === 0x65 || next === 0x45) {
      this.fail('JSON_NUMBER', 'fractions and exponents are not allowed', 'BAD-05 canonical JSON has integers only');
    }
    const digits = text.slice(start, i);
    this.pos = i;
    if (digits === '-0')
      this.fail('JSON_NUMBER', '-0 is not a canonical integer', 'BAD-05 canonical JSON has integers only');
    const value = Number(digits);
    if (digits.replace('-', '').length > 16 || !Number.isSafeInteger(value)) {
      this.fail('JSON_NUMBER', `integer ${digits.slice(0, 30)} is outside ±(2^53-1)`, 'BAD-06 integers must be exact');
    }
    return value;
  }

  private parseString(): string {
    this.pos++; // opening quote
    const text = this.text;
    let out = '';
    // runs of plain characters are copied as one slice
    let run = this.pos;
    for (;;) {
      const c = text.charCodeAt(this.pos);
      if (Number.isNaN(c)) this.fail('JSON_SYNTAX', 'unterminated string', 'BAD-01 well-formed JSON');
      if (c === 0x22) {
        out += text.slice(run, this.pos);
        this.pos++;
        break;
      }
      if (c < 0x20) this.fail('JSON_STRING', 'raw control character in a string', 'BAD-01 well-formed JSON');
      if (c === 0x5c) {
        out += text.slice(run, this.pos);
        const e = text[this.pos + 1];
        this.pos += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = text.slice(this.pos, this.pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex))
              this.fail('JSON_SYNTAX', 'invalid \\u escape', 'BAD-01 well-formed JSON');
            this.pos += 4;
            out += String.fromCharCode(parseInt(hex, 16));
            break;
          }
          default:
            this.fail('JSON_SYNTAX', 'invalid escape', 'BAD-01 well-formed JSON');
        }
        run = this.pos;
        continue;
      }
      this.pos++;
    }
    if (hasLoneSurrogate(out))
      this.fail('JSON_STRING', 'string contains a lone surrogate', 'BAD-03 valid Unicode only');
    return out;
  }

  private parseArray(depth: number): JsonValue[] {
    this.pos++;
    const out: JsonValue[] = [];
    this.skipWs();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      this.stack.push(out.length);
      out.push(this.parseValue(depth + 1));
      this.stack.pop();
      this.skipWs();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ']') return out;
      if (c !== ',') this.fail('JSON_SYNTAX', 'expected , or ] in array', 'BAD-01 well-formed JSON');
    }
  }

  private parseObject(depth: number): JsonObject {
    this.pos++;
    const out = newObject();
    this.skipWs();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] !== '"')
        this.fail('JSON_SYNTAX', 'expected a string key', 'BAD-01/BAD-07 well-formed JSON');
      const key = this.parseString();
      this.stack.push(key);
      if (key === '__proto__')
        this.fail('JSON_FORBIDDEN_KEY', 'the key "__proto__" is not allowed', 'BAD-10 no prototype keys');
      // `out` has no prototype: `in` sees exactly the keys parsed so far
      if (key in out)
        this.fail('JSON_DUPLICATE_KEY', `duplicate key ${JSON.stringify(key)}`, 'BAD-04 no duplicate keys');
      this.skipWs();
      if (this.text[this.pos] !== ':') this.fail('JSON_SYNTAX', 'expected :', 'BAD-01 well-formed JSON');
      this.pos++;
      this.skipWs();
      out[key] = this.parseValue(depth + 1);
      this.skipWs();
      const c = this.text[this.pos];
      this.pos++;
      if (c === '}') {
        this.stack.pop();
        return out;
      }
      if (c !== ',') this.fail('JSON_SYNTAX', 'expected , or } in object', 'BAD-01 well-formed JSON');
      this.stack.pop();
    }
  }
}

/** `$.a.b` for identifier-like keys, `$["odd key"]` otherwise. */
export function jsonPathJoin(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/** Decode UTF-8 strictly (no BOM, no invalid sequences). */
export function decodeUtf8(bytes: Uint8Array, file?: string): string {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new TufsignError('JSON_SYNTAX', 'file starts with a UTF-8 byte-order mark', {
      file,
      path: '$',
      rule: 'BAD-03 plain UTF-8 without BOM',
    });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (cause) {
    throw new TufsignError('JSON_SYNTAX', 'file is not valid UTF-8', {
      file,
      path: '$',
      rule: 'BAD-03 valid UTF-8 only',
      cause,
    });
  }
}

/** Parse JSON text or UTF-8 bytes strictly. `file` is used in error messages. */
export function parseJson(input: string | Uint8Array, file?: string): JsonValue {
  const text = typeof input === 'string' ? input : decodeUtf8(input, file);
  return new Parser(text, file).parseDocument();
}

const NON_ASCII = /[\u007f-\uffff]/;

/** Printable ASCII without `"` or `\`: written between quotes as it is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function escapeForFile(s: string): string {
  if (PLAIN.test(s)) return '"' + s + '"';
  // ASCII-only output: no editor or transfer can mangle the bytes.
  const json = JSON.stringify(s);
  if (!NON_ASCII.test(json)) return json;
  return json.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * Human-readable, deterministic on-disk form: keys sorted by code point,
 * two-space indent, ASCII only, trailing newline. Clients re-canonicalize the
 * parsed object before verifying, so this is safe to pretty-print.
 */
export function stringifyPretty(value: unknown): string {
  // One list of pieces joined once: a 16,384-entry snapshot is written without a string per nested object.
  const out: string[] = [];
  const write = (v: unknown, indent: string): void => {
    if (v === null || typeof v === 'boolean') {
      out.push(String(v));
      return;
    }
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v))
        throw new TufsignError('JSON_NUMBER', `cannot write non-integer ${v}`, {
          rule: 'canonical JSON has integers only',
        });
      out.push(String(v));
      return;
    }
    if (typeof v === 'string') {
      out.push(escapeForFile(v));
      return;
    }
    const inner = indent + '  ';
    if (Array.isArray(v)) {
      if (v.length === 0) {
        out.push('[]');
        return;
      }
      out.push('[\n');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out.push(',\n');
        out.push(inner);
        write(v[i], inner);
      }
      out.push('\n', indent, ']');
      return;
    }
    if (typeof v === 'object') {
      const obj = v as Record<string, unknown>;
      const keys = sortedKeys(Object.keys(obj).filter((k) => obj[k] !== undefined));
      if (keys.length === 0) {
        out.push('{}');
        return;
      }
      out.push('{\n');
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        if (i > 0) out.push(',\n');
        out.push(inner, escapeForFile(k), ': ');
        write(obj[k], inner);
      }
      out.push('\n', indent, '}');
      return;
    }
    throw new TufsignError('INTERNAL', `cannot write a ${typeof v} as JSON`);
  };
  write(value, '');
  out.push('\n');
  return out.join('');
}
