import { join } from 'node:path';
import { Args, Flags, ux, type Command, type Config } from '@oclif/core';

/**
 * `tufsign autocomplete`, the autocomplete plugin's own command with two changes: its cache builder
 * (`autocomplete:create`) runs parsed, the way oclif runs every command (the plugin calls it without parsing,
 * which oclif reports in development and test runs as "Command create did not parse its arguments"); and it is
 * a tufsign command, so `--json` gives one object and a bad shell name the USAGE error envelope (ADR 0013).
 */
export const autocompleteArgs = {
  shell: Args.string({ description: 'Shell type', options: ['zsh', 'bash', 'powershell'], required: false }),
};
export const autocompleteFlags = {
  'refresh-cache': Flags.boolean({ char: 'r', description: 'Refresh cache (ignores displaying instructions)' }),
};

export interface AutocompleteResult {
  shell: string;
  /** the line to add to the shell's start-up file (bash, zsh) */
  setup: string;
  /** where the completion functions were written */
  cacheDir: string;
}

type Runnable = new (argv: string[], config: Config) => Command & { run(): Promise<unknown> };
interface PluginIndex {
  determineShell(shell: string): string;
  printShellInstructions(shell: string): void;
}

export async function runAutocomplete(
  config: Config,
  argv: string[],
  args: { shell?: string | undefined },
  flags: { 'refresh-cache': boolean },
  json: boolean,
): Promise<AutocompleteResult> {
  const plugin = config.plugins.get('@oclif/plugin-autocomplete');
  if (plugin === undefined) throw new Error('the @oclif/plugin-autocomplete plugin is not installed');
  const Create = (await plugin.findCommand('autocomplete:create', { must: true })) as unknown as Runnable;
  const Index = (await plugin.findCommand('autocomplete', { must: true })) as unknown as Runnable;
  class ParsedCreate extends Create {
    override async run(): Promise<unknown> {
      await this.parse(ParsedCreate as unknown as Command.Class, []);
      return super.run();
    }
  }
  const index = new Index(argv, config) as unknown as PluginIndex;
  const shell = args.shell ?? index.determineShell(config.shell);
  if (!json) ux.action.start('Building the autocomplete cache');
  await (ParsedCreate as unknown as Command.Class).run([], config);
  if (!json) ux.action.stop();
  if (!flags['refresh-cache'] && !json) index.printShellInstructions(shell);
  const rc = shell === 'zsh' ? '~/.zshrc' : shell === 'bash' ? '~/.bashrc' : '$PROFILE';
  return {
    shell,
    setup:
      shell === 'powershell'
        ? `Add-Content -Path $PROFILE -Value (Invoke-Expression -Command "${config.bin} autocomplete script powershell")`
        : `printf "$(${config.bin} autocomplete script ${shell})" >> ${rc}`,
    cacheDir: join(config.cacheDir, 'autocomplete'),
  };
}
