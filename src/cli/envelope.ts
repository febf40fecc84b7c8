/**
 * The two JSON shapes every command prints under `--json` (docs/json-output.md):
 * success is one JSON object of the command's result (never an array, never an `error` key);
 * failure is `{"error": {code, message, file?, path?, rule?, suggestion?, details?}}`.
 * People get the same error as one line on stderr, without internal rule IDs.
 */
import { TufsignError, type ErrorCode } from '../errors';
import { jsonText, terminalText } from './safe-text';

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  file?: string;
  path?: string;
  rule?: string;
  suggestion?: string;
  details?: Record<string, unknown>;
}

export function payloadOf(err: TufsignError): ErrorPayload {
  const payload: ErrorPayload = { code: err.code, message: err.message };
  if (err.file !== undefined) payload.file = err.file;
  if (err.path !== undefined) payload.path = err.path;
  if (err.rule !== undefined) payload.rule = err.rule;
  if (err.suggestion !== undefined) payload.suggestion = err.suggestion;
  if (err.details !== undefined) payload.details = err.details;
  return payload;
}

export function errorEnvelope(payload: ErrorPayload): string {
  return jsonText({ error: payload });
}

const ID = String.raw`(?:(?:SPEC|BAD|VULN)-\d+|ADR \d{4})`;
const IDS = String.raw`${ID}(?:\s*(?:[/,]|…)\s*${ID})*`;
/** "(BAD-56)" or "[SPEC-14/BAD-28]" anywhere: the whole bracket goes */
const BRACKETED_IDS = new RegExp(String.raw`\s*[([]${IDS}(?:\s*…)?[)\]]`, 'g');
/** "BAD-51 bounded …", "SPEC-10/BAD-24: threshold …": the IDs and their separator go, the words stay */
const LEADING_IDS = new RegExp(String.raw`(^|[\s;([])${IDS}[:;,]?\s*`, 'g');

/**
 * The rule as people read it: internal catalogue IDs (SPEC-nn, BAD-nn, VULN-nn, ADR nnnn) removed wherever
 * they stand; '' when nothing is left. `--json` keeps the full rule.
 */
export function humanRule(rule: string | undefined): string {
  if (rule === undefined) return '';
  return rule
    .replace(BRACKETED_IDS, '')
    .replace(LEADING_IDS, '$1')
    .replace(/\(\s*\)/g, '')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

export function renderErrorLine(payload: ErrorPayload): string {
  // the file once: many messages already name it
  const file = payload.file !== undefined && payload.file !== '' && !payload.message.includes(payload.file);
  const where = [file ? payload.file : undefined, payload.path]
    .filter((x) => typeof x === 'string' && x !== '')
    .join(' ');
  const rule = humanRule(payload.rule);
  // one line each, whatever the file named in the error held (ADR 0019)
  const line = (s: string): string => terminalText(s).replace(/[\n\t]/g, (c) => (c === '\n' ? '\\x0a' : '\\x09'));
  // a rule with brackets of its own is set off by a dash, so brackets never nest: "(a (b))"
  const ruleText = rule === '' ? '' : /[()]/.test(rule) ? ` — ${line(rule)}` : ` (${line(rule)})`;
  let out = `error ${payload.code}: ${line(where !== '' ? where + ': ' : '')}${line(payload.message)}${ruleText}\n`;
  if (payload.suggestion !== undefined) out += `  → ${line(payload.suggestion)}\n`;
  return out;
}
