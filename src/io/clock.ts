/** The one place that reads the wall clock; everything below takes time as a parameter. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** `TUFSIGN_NOW` pins the clock (reproducible runs, tests, SOURCE_DATE_EPOCH-style builds). */
export function clockFromEnv(env: NodeJS.ProcessEnv): Clock {
  const pinned = env['TUFSIGN_NOW'];
  if (pinned !== undefined && pinned !== '') {
    const d = new Date(pinned);
    if (!Number.isNaN(d.getTime())) return { now: () => new Date(d.getTime()) };
  }
  return systemClock;
}
