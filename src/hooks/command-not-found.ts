/**
 * Unknown commands: oclif's plugin-not-found asks "Did you mean …?" on a terminal. Where it cannot ask
 * (no terminal, or `--json`), the same suggestion comes from the plugin's own matcher as a one-line
 * error, or the JSON error envelope under `--json`. Exit code USAGE either way, as in docs/exit-codes.md.
 */
import { toConfiguredId, type Hook } from '@oclif/core';
import { ExitCode } from '../errors';
import { errorEnvelope, renderErrorLine, type ErrorPayload } from '../cli/envelope';
import { closestCommand } from '../cli/did-you-mean';

const hook: Hook.CommandNotFound = async function (opts) {
  const json = (opts.argv ?? []).includes('--json') || process.argv.includes('--json');
  const closest = await closestCommand(opts.config, opts.id);
  const typed = toConfiguredId(opts.id, opts.config);
  const suggested = closest === undefined ? undefined : toConfiguredId(closest, opts.config);
  const payload: ErrorPayload = {
    code: 'USAGE',
    message: `${typed} is not a ${opts.config.bin} command`,
    suggestion: `${suggested !== undefined ? `Did you mean \`${opts.config.bin} ${suggested}\`? ` : ''}Run \`${opts.config.bin} help\` for a list of commands.`,
    details: { command: typed, ...(suggested !== undefined ? { didYouMean: suggested } : {}) },
  };
  if (!json && process.stdin.isTTY === true && process.stderr.isTTY === true) {
    const { default: notFound } = await import('@oclif/plugin-not-found');
    try {
      return await notFound.call(this, opts);
    } catch (err) {
      // declined or timed out: the plugin already said it is not a command; exit as a usage error
      if ((err as { oclif?: { exit?: number } }).oclif?.exit === undefined) throw err;
      process.stderr.write(renderErrorLine(payload));
      return this.exit(ExitCode.USAGE);
    }
  }
  if (json) process.stdout.write(errorEnvelope(payload) + '\n');
  else process.stderr.write(renderErrorLine(payload));
  return this.exit(ExitCode.USAGE);
};

export default hook;
