/** TUF timestamps (`YYYY-MM-DDTHH:MM:SSZ`, SPEC-07) and durations like `90d`. No clock here: time is a parameter. */
import { TufsignError } from '../errors';

const EXPIRES = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

export function parseExpires(value: string, path = '$.signed.expires'): Date {
  const m = EXPIRES.exec(value);
  const bad = (): never => {
    throw new TufsignError('EXPIRY_INVALID', `expires "${value}" is not YYYY-MM-DDTHH:MM:SSZ`, {
      path,
      rule: 'SPEC-07/BAD-15 UTC, whole seconds, ending in Z',
    });
  };
  if (m === null) return bad();
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || formatExpires(date) !== value) return bad();
  return date;
}

/**
 * Read-only leniency for historical roots: RFC 3339 with fractional seconds
 * and/or an offset (go-tuf v0 wrote `2021-12-18T13:28:12.99008-06:00`).
 */
const LEGACY_EXPIRES = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function parseLegacyExpires(value: string, path = '$.signed.expires'): Date {
  const m = LEGACY_EXPIRES.exec(value);
  const date = m === null ? new Date(NaN) : new Date(value.replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(date.getTime())) {
    throw new TufsignError('EXPIRY_INVALID', `expires "${value}" is not an RFC 3339 time`, {
      path,
      rule: 'SPEC-07/BAD-15 (historical roots: RFC 3339)',
    });
  }
  return date;
}

export function formatExpires(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Truncate to whole seconds, as metadata stores them. */
export function truncateToSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400, y: 365 * 86400 };

/** Parse a period such as `90d`, `12h`, `1y`, `2w` into seconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^(\d{1,6})([smhdwy])$/.exec(text.trim());
  if (m === null || m[1] === undefined || m[2] === undefined) {
    throw new TufsignError('USAGE', `${what} "${text}" is not a period like 90d, 12h, 2w or 1y`, {
      rule: 'period = number + s|m|h|d|w|y',
    });
  }
  const seconds = Number(m[1]) * (UNIT_SECONDS[m[2]] ?? 0);
  if (seconds <= 0) throw new TufsignError('USAGE', `${what} must be positive`, { rule: 'period > 0' });
  return seconds;
}

declare const periodBrand: unique symbol;

/**
 * A period like `90d`, parsed once at the boundary where the text arrives (a flag): made only by `parsePeriod`
 * (a brand a literal cannot write). `text` is kept as written, for `tufsign.json`; `seconds` is what it means.
 */
export interface Period {
  readonly [periodBrand]: true;
  readonly text: string;
  readonly seconds: number;
}

/** Parse a period once; USAGE when it is not a positive number + s|m|h|d|w|y (as `parseDuration`). */
export function parsePeriod(text: string, what = 'duration'): Period {
  return { text, seconds: parseDuration(text, what) } as Period;
}

export function addSeconds(date: Date, seconds: number): Date {
  return truncateToSeconds(new Date(date.getTime() + seconds * 1000));
}

/** Parse a user-supplied instant for `--at`: a TUF timestamp or any ISO 8601 date. */
export function parseInstant(text: string): Date {
  const d = new Date(text);
  if (Number.isNaN(d.getTime()))
    throw new TufsignError('USAGE', `"${text}" is not a date/time`, { rule: 'ISO 8601, e.g. 2027-01-01T00:00:00Z' });
  return d;
}
