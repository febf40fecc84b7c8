import { Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { TufsignError } from '../errors';
import { parsePeriod, type Period } from '../tuf/time';
import { parseThresholdText, type Threshold } from '../tuf/threshold';
import { parseRoleRef, type RoleRef } from '../tuf/paths';

export const workspaceFlag = Flags.string({ char: 'w', description: 'Workspace directory.', default: '.' });

/** Value the bare `--wait` flag stands for (BaseCommand rewrites `--wait` without a number to this). */
export const WAIT_FOREVER = 'forever';

/** For commands that write a workspace: wait for another writer instead of failing with WORKSPACE_BUSY (ADR 0007). */
export const waitFlag = Flags.string({
  description:
    'If another tufsign run is changing the workspace, wait up to SECONDS for it (bare --wait: until it finishes) instead of failing with WORKSPACE_BUSY.',
  helpValue: '[SECONDS]',
});

/** `--wait` value → seconds to wait (undefined: do not wait). */
export function parseWait(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === WAIT_FOREVER) return Infinity;
  if (!/^[0-9]{1,7}$/.test(value))
    throw new TufsignError('USAGE', `--wait ${JSON.stringify(value)} is not a number of seconds`, {
      rule: '--wait [SECONDS]',
    });
  return Number(value);
}

/**
 * `--request-out PATH`: where a command writes a signing request. Its old name `--out` is still accepted, with a
 * deprecation warning (ADR 0013); one home for that rename.
 */
export function requestOutFlag(description: string) {
  return Flags.string({ description, aliases: ['out'], deprecateAliases: true });
}

/** `--bundle-out PATH`: where a command writes the upload bundle; `--bundle` still accepted, deprecated (ADR 0013). */
export function bundleOutFlag(description: string) {
  return Flags.string({ description, aliases: ['bundle'], deprecateAliases: true });
}

/** What `key rotate` and `root rotate` each say about the flags they share. */
export interface KeyChangeFlagText {
  addKey: string;
  removeKey: string;
  threshold: string;
  expires: string;
  requestOut: string;
  bundleOut: string;
  allowShortExpiry: string;
}

/** The flags `key rotate` and `root rotate` share (keys in, keys out, threshold, expiry, outputs), in help order. */
export function keyChangeFlags(text: KeyChangeFlagText) {
  return {
    'add-key': Flags.string({ description: text.addKey, multiple: true }),
    'remove-key': Flags.string({ description: text.removeKey, multiple: true }),
    threshold: thresholdFlag(text.threshold),
    expires: Flags.string({ description: text.expires }),
    'request-out': requestOutFlag(text.requestOut),
    'bundle-out': bundleOutFlag(text.bundleOut),
    'allow-short-expiry': Flags.boolean({ description: text.allowShortExpiry, default: false }),
  };
}

/** `--expires PERIOD` parsed once, here at the boundary, into the `Period` a use case takes (absent: none). */
export function expiresOption(text: string | undefined): { expires?: Period } {
  return text === undefined ? {} : { expires: parsePeriod(text, '--expires') };
}

/**
 * A threshold flag: text that `thresholdOption` parses (not `Flags.integer`, whose refusal is oclif's own message
 * and code, and which takes 2^53 or "-0"): a bad value is THRESHOLD_INVALID naming the flag.
 */
export function thresholdFlag(description: string, defaultValue?: string) {
  return defaultValue === undefined
    ? Flags.string({ description })
    : Flags.string({ description, default: defaultValue });
}

/** A threshold flag's text parsed once, here at the boundary, into the `Threshold` a use case takes. */
export function thresholdOption(text: string, flag = '--threshold'): Threshold {
  return parseThresholdText(text, flag);
}

/** A role name that refers to an existing role (an argument or a flag), parsed once here into the `RoleRef` a use case looks up. */
export function roleRefOption(text: string, where: string): RoleRef {
  return parseRoleRef(text, where);
}

/** `-w/--workspace` for commands that also accept the workspace as a positional DIR (kept as an alias). */
export const workspaceAliasFlag = Flags.string({
  char: 'w',
  description: 'Workspace directory (the positional DIR is the same thing).',
});

/** The workspace from `-w` or the positional alias; both given must name the same folder. */
export function workspaceFrom(
  flag: string | undefined,
  positional: string | undefined,
  fallback: string | undefined = '.',
): string {
  if (flag !== undefined && positional !== undefined && resolve(flag) !== resolve(positional)) {
    throw new TufsignError('USAGE', `two different workspaces given: -w ${flag} and ${positional}`, {
      suggestion: 'Give the workspace once, with -w.',
    });
  }
  const dir = flag ?? positional ?? fallback;
  if (dir === undefined) throw new TufsignError('USAGE', 'no workspace given', { suggestion: 'Name it with -w DIR.' });
  return dir;
}
