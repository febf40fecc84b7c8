/** The one place that reads the wall clock; everything below takes time as a parameter. */
import { TufsignError } from '../errors';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * `TUFSIGN_NOW` pins the clock for every command (tests, rehearsals, reproducible runs): an ISO 8601 instant
 * such as 2027-01-01T00:00:00Z. A value that is not a date is refused rather than silently ignored.
 */
export function clockFromEnv(env: NodeJS.ProcessEnv): Clock {
  const pinned = env['TUFSIGN_NOW'];
  if (pinned !== undefined && pinned !== '') {
    const d = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(pinned)
      ? new Date(pinned)
      : new Date(NaN);
    if (Number.isNaN(d.getTime())) {
      throw new TufsignError('USAGE', `TUFSIGN_NOW="${pinned}" is not an ISO 8601 date`, {
        rule: 'TUFSIGN_NOW=YYYY-MM-DDTHH:MM:SSZ',
        suggestion: 'Unset TUFSIGN_NOW to use the system clock, or give an instant like 2027-01-01T00:00:00Z.',
      });
    }
    return { now: () => new Date(d.getTime()) };
  }
  return systemClock;
}
