import { Command } from '@oclif/core';
import { autocompleteArgs, autocompleteFlags, runAutocomplete } from '../../cli/autocomplete';

export default class Autocomplete extends Command {
  static override description = 'Display autocomplete installation instructions.';
  static override args = autocompleteArgs;
  static override flags = autocompleteFlags;
  static override examples = [
    '<%= config.bin %> autocomplete',
    '<%= config.bin %> autocomplete bash',
    '<%= config.bin %> autocomplete zsh',
    '<%= config.bin %> autocomplete powershell',
    '<%= config.bin %> autocomplete --refresh-cache',
  ];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Autocomplete);
    await runAutocomplete(this.config, this.argv, args, flags);
  }
}
