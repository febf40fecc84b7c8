import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { waitFlag, workspaceFlag } from '../../cli/flags';
import { renderDedupe, runTargetsDedupe } from '../../cli/targets-dedupe';
import type { DedupeResult } from '../../repository/targets-dedupe';

export default class TargetsDedupe extends BaseCommand<typeof TargetsDedupe> {
  static override summary =
    'Store each target once: in a workspace from before one-copy storage, turn the second hash-named copy (and release bundle copies) into hard links, after checking the bytes.';
  static override examples = [
    '<%= config.bin %> targets dedupe -w myrepo --dry-run',
    '<%= config.bin %> targets dedupe -w myrepo --json',
  ];
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    'dry-run': Flags.boolean({ description: 'Report what would be linked; change nothing.' }),
  };

  async run(): Promise<DedupeResult> {
    await this.lockWorkspace(this.flags.workspace);
    const result = runTargetsDedupe(this.flags.workspace, this.flags['dry-run']);
    this.log(renderDedupe(result));
    return result;
  }
}
