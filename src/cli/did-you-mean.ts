/**
 * "Did you mean …?" from oclif's plugin-not-found matcher (its `closest`, Levenshtein over command ids), for
 * the not-found hook and for a command whose optional argument shares a word with its subcommands
 * (`tufsign ceremony strat` is the guided `ceremony` given a request file named "strat").
 */
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { toConfiguredId, type Interfaces } from '@oclif/core';

type Config = Interfaces.Config;
import { TufsignError } from '../errors';
import { pathKind } from '../io/fs';

type Closest = (target: string, possibilities: string[]) => string;

/** The plugin's matcher, or undefined where the plugin is not shipped (the standalone air-gap build, ADR 0012). */
async function pluginMatcher(): Promise<Closest | undefined> {
  try {
    const entry = require.resolve('@oclif/plugin-not-found');
    const utils = (await import(pathToFileURL(join(dirname(entry), 'utils.js')).href)) as {
      default: { closest: Closest };
    };
    return utils.default.closest;
  } catch {
    return undefined;
  }
}

/** The visible command id closest to `id` (as oclif stores ids, `key:list`), or undefined. */
export async function closestCommand(
  config: Config,
  id: string,
  among?: readonly string[],
): Promise<string | undefined> {
  const ids = among ?? config.commands.filter((c) => c.hidden !== true).flatMap((c) => [c.id, ...c.aliases]);
  if (ids.length === 0) return undefined;
  const closest = (await pluginMatcher())?.(id, [...ids]) ?? '';
  return closest === '' ? undefined : closest;
}

/**
 * `word`, given where a file is expected by a command that also has subcommands, is refused as a usage error
 * when it is no path at all (no `/`, no `.`, nothing there) — with the closest subcommand as the suggestion.
 */
export async function refuseMistypedSubcommand(config: Config, commandId: string, word: string): Promise<void> {
  if (/[./\\]/.test(word) || pathKind(word) !== 'missing') return;
  const subcommands = config.commands
    .filter((c) => c.hidden !== true && c.id.startsWith(`${commandId}:`))
    .map((c) => c.id.slice(commandId.length + 1).split(':')[0] ?? '')
    .filter((w, i, all) => w !== '' && all.indexOf(w) === i);
  const closest = await closestCommand(config, word, subcommands);
  const typed = toConfiguredId(`${commandId}:${word}`, config);
  const suggested = closest === undefined ? undefined : toConfiguredId(`${commandId}:${closest}`, config);
  throw new TufsignError('USAGE', `${typed} is not a ${config.bin} command, and ${word} is not a file`, {
    suggestion: `${suggested !== undefined ? `Did you mean \`${config.bin} ${suggested}\`? ` : ''}Run \`${config.bin} help ${toConfiguredId(commandId, config)}\` for its commands.`,
    details: { command: typed, ...(suggested !== undefined ? { didYouMean: suggested } : {}) },
  });
}
