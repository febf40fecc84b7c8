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

const INTERNAL_ID = /^(?:(?:SPEC|BAD|VULN)-\d+|ADR \d{4})(?:\s*[/,]\s*(?:(?:SPEC|BAD|VULN)-\d+|ADR \d{4}))*[:;,]?\s*/;

/** The rule as people read it: internal catalogue IDs (SPEC-nn, BAD-nn, ADR nnnn) removed; '' when nothing is left. */
export function humanRule(rule: string | undefined): string {
  if (rule === undefined) return '';
  return rule.replace(INTERNAL_ID, '').trim();
}

export function renderErrorLine(payload: ErrorPayload): string {
  const where = [payload.file, payload.path].filter((x) => typeof x === 'string' && x !== '').join(' ');
  const rule = humanRule(payload.rule);
  // one line each, whatever the file named in the error held (ADR 0019)
  const line = (s: string): string => terminalText(s).replace(/[\n\t]/g, (c) => (c === '\n' ? '\\x0a' : '\\x09'));
  let out = `error ${payload.code}: ${line(where !== '' ? where + ': ' : '')}${line(payload.message)}${rule !== '' ? ` (${line(rule)})` : ''}\n`;
  if (payload.suggestion !== undefined) out += `  → ${line(payload.suggestion)}\n`;
  return out;
}
