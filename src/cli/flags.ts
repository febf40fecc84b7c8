import { Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { TufsignError } from '../errors';

export const workspaceFlag = Flags.string({ char: 'w', description: 'Workspace directory.', default: '.' });

/** `-w/--workspace` for commands that also accept the workspace as a positional DIR (kept as an alias). */
export const workspaceAliasFlag = Flags.string({ char: 'w', description: 'Workspace directory (the positional DIR is the same thing).' });

/** The workspace from `-w` or the positional alias; both given must name the same folder. */
export function workspaceFrom(flag: string | undefined, positional: string | undefined, fallback: string | undefined = '.'): string {
  if (flag !== undefined && positional !== undefined && resolve(flag) !== resolve(positional)) {
    throw new TufsignError('USAGE', `two different workspaces given: -w ${flag} and ${positional}`, { suggestion: 'Give the workspace once, with -w.' });
  }
  const dir = flag ?? positional ?? fallback;
  if (dir === undefined) throw new TufsignError('USAGE', 'no workspace given', { suggestion: 'Name it with -w DIR.' });
  return dir;
}
