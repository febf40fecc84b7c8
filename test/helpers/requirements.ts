import { existsSync } from 'node:fs';

/**
 * Under CI=true a missing component fails the test run; on a developer laptop
 * the tier is skipped with a message.
 */
export function requireComponent(name: string, present: boolean): boolean {
  if (present) return true;
  if (process.env['CI'] === 'true') throw new Error(`required test component missing under CI: ${name}`);
  console.warn(`skipping tests that need ${name} (not installed)`);
  return false;
}

export const hasFile = (p: string): boolean => existsSync(p);
