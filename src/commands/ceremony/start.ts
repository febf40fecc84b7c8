import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonyContext, renderRequest } from '../../cli/ceremony';
import { waitFlag, workspaceFlag } from '../../cli/flags';
import { startCeremony } from '../../repository/ceremony/start';
import type { RequestWritten } from '../../repository/requests';
import { Workspace } from '../../repository/workspace';
import type { TopLevelRole } from '../../tuf/metadata';

export default class CeremonyStart extends BaseCommand<typeof CeremonyStart> {
  static override summary = 'Start a signing request for the next version of root and/or targets.';
  static override description =
    'Prepares the next version (same content, new version and expiry), signs it with the keys configured here, and writes one self-contained request file to carry to the keyholders. ' +
    'For key and threshold changes use `root rotate` or `key rotate`.';
  static override examples = [
    '<%= config.bin %> ceremony start --role root --expires 365d',
    '<%= config.bin %> ceremony start --role targets --request-out /media/usb/targets.tufsign-request.json',
  ];
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    role: Flags.string({
      description: 'Role to re-sign (repeatable).',
      options: ['root', 'targets'],
      multiple: true,
      required: true,
    }),
    expires: Flags.string({ description: 'Expiry period for the new versions (e.g. 365d).' }),
    purpose: Flags.string({ description: 'Why this ceremony happens (recorded in the transcript).' }),
    'request-out': Flags.string({
      description: 'Request file to write (default: WORKSPACE/ROLE-vN.tufsign-request.json).',
      aliases: ['out'],
      deprecateAliases: true,
    }),
  };

  async run(): Promise<RequestWritten> {
    await this.lockWorkspace(this.flags.workspace);
    const ws = Workspace.open(this.flags.workspace);
    const options: Parameters<typeof startCeremony>[1] = { roles: this.flags.role as TopLevelRole[] };
    if (this.flags.expires !== undefined) options.expires = this.flags.expires;
    if (this.flags.purpose !== undefined) options.purpose = this.flags.purpose;
    if (this.flags['request-out'] !== undefined) options.out = this.flags['request-out'];
    const result = await startCeremony(
      ws,
      options,
      ceremonyContext(this.ctx, ws.dir, ws, `tufsign ${this.config.version}`),
    );
    this.log(renderRequest(result));
    return result;
  }
}
