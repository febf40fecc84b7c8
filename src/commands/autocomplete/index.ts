import { BaseCommand } from '../../cli/base-command';
import { autocompleteArgs, autocompleteFlags, runAutocomplete, type AutocompleteResult } from '../../cli/autocomplete';

export default class Autocomplete extends BaseCommand<typeof Autocomplete> {
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

  async run(): Promise<AutocompleteResult> {
    return runAutocomplete(this.config, this.argv, this.args, this.flags, this.jsonEnabled());
  }
}
