/**
 * Terminal-safe text: every string that comes from a file (request,
 * metadata, key file, bundle, file names on a USB stick) goes through
 * `safeText` before it reaches a terminal or a prompt. Control characters,
 * ANSI escape sequences, carriage returns, Unicode bidi overrides and
 * invisible characters are made visible as `\xNN` / `\u{NNNN}`, so a hostile
 * label can neither hide the lines after it (`ESC[8m`), overwrite a line
 * (`\r`), nor reorder what the keyholder reads (U+202E).
 */

/** C0 controls, DEL, C1 controls; bidi embeddings/overrides/isolates and marks; zero-width and separator characters. */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\u206a-\u206f\ufeff\ufff9-\ufffb]/gu;

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
