import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { runTargetsList } from '../../cli/delegation';
import { renderTargetList } from '../../cli/delegation-render';
import { workspaceFlag, roleRefOption } from '../../cli/flags';
import type { ListedTarget } from '../../repository/targets-routing';

export default class TargetsList extends BaseCommand<typeof TargetsList> {
  static override summary = 'List targets with the role that signs each (every role, or one with --role).';
  static override examples = [
    '<%= config.bin %> targets list -w myrepo',
    '<%= config.bin %> targets list -w myrepo --role nightly --json',
  ];
  static override flags = {
    workspace: workspaceFlag,
    role: Flags.string({ description: 'Only this role (targets or a delegated role).' }),
  };

  async run(): Promise<{ targets: ListedTarget[] }> {
    const targets = runTargetsList(
      this.flags.workspace,
      this.flags.role === undefined ? undefined : roleRefOption(this.flags.role, '--role'),
    );
    this.log(renderTargetList(targets));
    return { targets };
  }
}
