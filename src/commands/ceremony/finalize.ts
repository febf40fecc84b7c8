import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonyContext, renderRequest } from '../../cli/ceremony';
import { waitFlag, workspaceFlag } from '../../cli/flags';
import { finalizeRequestFile, type FinalizeReport } from '../../repository/ceremony/finalize';
import { Workspace } from '../../repository/workspace';

export default class CeremonyFinalize extends BaseCommand<typeof CeremonyFinalize> {
  static override summary =
    'Check every threshold, write the new metadata into the workspace and emit the upload bundle.';
  static override description =
    'Refuses until every threshold is met (for root: the previous AND the new), the root version is exactly previous + 1, and nothing expires sooner than the configured minimum validity (root: 7 days by default; --allow-short-expiry waives the minimum, never an expired role). ' +
    'Snapshot and timestamp are re-signed with the keys here, or left as a further request. The bundle is DIR plus DIR.tar.gz: exactly the files to upload, BUNDLE.json and the transcript.';
  static override examples = [
    '<%= config.bin %> ceremony finalize merged.tufsign-request.json --bundle-out bundle-root-v2',
  ];
  static override args = { request: Args.string({ description: 'Request file.', required: true }) };
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    'bundle-out': Flags.string({
      description: 'Bundle folder to write, or one .tar.gz file when PATH ends in .tar.gz.',
      required: true,
      aliases: ['out'],
      deprecateAliases: true,
    }),
    'allow-short-expiry': Flags.boolean({
      description: 'Accept metadata that expires sooner than the configured minimum validity.',
      default: false,
    }),
    'follow-up-out': Flags.string({
      description: 'Where to write a follow-up request when snapshot/timestamp cannot be signed here.',
    }),
  };

  async run(): Promise<FinalizeReport> {
    await this.lockWorkspace(this.flags.workspace);
    const ws = Workspace.open(this.flags.workspace);
    const options: Parameters<typeof finalizeRequestFile>[2] = {
      bundleOut: this.flags['bundle-out'],
      allowShortExpiry: this.flags['allow-short-expiry'],
    };
    if (this.flags['follow-up-out'] !== undefined) options.followUpOut = this.flags['follow-up-out'];
    const result = await finalizeRequestFile(
      ws,
      this.args.request,
      options,
      ceremonyContext(this.ctx, ws.dir, ws, `tufsign ${this.config.version}`),
    );
    const lines = [
      ...result.roles.map(
        (r) =>
          `finalized ${r.role} v${r.version} (expires ${r.expires}, ${r.signatures} signature${r.signatures === 1 ? '' : 's'})`,
      ),
      `written: ${result.written.join(', ')}`,
    ];
    if (result.bundle !== undefined)
      lines.push(
        `bundle: ${result.bundle.path} (${result.bundle.files.length} files)`,
        `check it: tufsign verify ${result.bundle.path} --root <the root clients trust now>`,
      );
    if (result.followUp !== undefined)
      lines.push(
        'snapshot/timestamp keys are not here: a follow-up request was written',
        renderRequest(result.followUp),
      );
    this.log(lines.join('\n'));
    return result;
  }
}
