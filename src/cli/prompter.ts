/** Prompts on stderr, only when a person is there: no TTY means no prompt, ever. */
import { TufsignError } from '../errors';
import { terminalText } from './safe-text';

export interface Prompter {
  readonly interactive: boolean;
  secret(message: string): Promise<string>;
  confirm(message: string, defaultValue?: boolean): Promise<boolean>;
  input(message: string, defaultValue?: string): Promise<string>;
  select<T extends string>(message: string, choices: { value: T; name: string }[]): Promise<T>;
}

export function isInteractive(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

function noTty(message: string): never {
  throw new TufsignError('NO_TTY', `cannot ask "${message}" without a terminal`, {
    rule: 'no prompts without a TTY',
    suggestion: 'Pass the value as a flag or environment variable, or use --yes for unattended runs.',
  });
}

export function createPrompter(interactive = isInteractive()): Prompter {
  const context = { input: process.stdin, output: process.stderr };
  return {
    interactive,
    async secret(message) {
      if (!interactive) noTty(message);
      const { password } = await import('@inquirer/prompts');
      return password({ message: terminalText(message), mask: false }, context);
    },
    async confirm(message, defaultValue = false) {
      if (!interactive) noTty(message);
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message: terminalText(message), default: defaultValue }, context);
    },
    async input(message, defaultValue) {
      if (!interactive) noTty(message);
      const { input } = await import('@inquirer/prompts');
      const shown = terminalText(message);
      return input(
        defaultValue === undefined ? { message: shown } : { message: shown, default: defaultValue },
        context,
      );
    },
    async select(message, choices) {
      if (!interactive) noTty(message);
      const { select } = await import('@inquirer/prompts');
      return select(
        { message: terminalText(message), choices: choices.map((c) => ({ ...c, name: terminalText(c.name) })) },
        context,
      );
    },
  };
}
