/**
 * Terminal-safe text, the one home of it: every string that comes from a file (request, metadata, key file,
 * bundle, target paths, file names on a USB stick) is shown through these functions. Control characters, ANSI
 * escape sequences, carriage returns, Unicode bidi overrides and invisible characters are made visible as
 * `\xNN` / `\u{NNNN}`, so a hostile label or path can neither hide the lines after it (`ESC[8m`), overwrite a
 * line (`\r`), nor reorder what the keyholder reads (U+202E). The character list is the one `targets add`
 * refuses in new paths (src/tuf/paths.ts, ADR 0019).
 *
 * - `safeText`: one field (a label, a path) — backslashes doubled, so an escape in the output is unambiguous.
 * - `terminalText`: whatever a command writes to stdout/stderr (BaseCommand.log/note, progress, prompts, error
 *   lines) — a last line of defence for text no renderer escaped; newlines (and tabs) of the output itself kept.
 * - `jsonText`: `--json` output — the same value, with those characters written as `\uXXXX` escapes.
 */
import { INVISIBLE_CHARS } from '../tuf/paths';

/** C0 controls, DEL, and the invisible/direction-changing list (C1 controls, bidi, zero-width, separators). */
const UNSAFE = new RegExp(`[\\u0000-\\u001f\\u007f${INVISIBLE_CHARS}]`, 'gu');
/** The same, except the newline and tab a command's own multi-line output is made of. */
const UNSAFE_IN_OUTPUT = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f${INVISIBLE_CHARS}]`, 'gu');
/** What JSON.stringify leaves raw inside strings but a terminal acts on (C0 is already escaped by JSON). */
const UNSAFE_IN_JSON = new RegExp(`[\\u007f${INVISIBLE_CHARS}]`, 'gu');

function visible(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/** The string with every unsafe character shown as an escape (backslashes doubled, so the escape is unambiguous). */
export function safeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(UNSAFE, visible);
}

/** True when `safeText` would change something: the string carried characters that act on the terminal. */
export function hasUnsafeText(s: string): boolean {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(s);
}

/** Text bound for a terminal: unsafe characters escaped, the output's own line breaks and tabs kept. */
export function terminalText(s: string): string {
  return s.replace(UNSAFE_IN_OUTPUT, visible);
}

/** `value` as pretty JSON (2 spaces) that parses back to the same value and shows no character a terminal acts on. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    UNSAFE_IN_JSON,
    (ch) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}
