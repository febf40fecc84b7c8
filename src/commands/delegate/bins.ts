import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { runDelegateBins, type DelegateBinsInput } from '../../cli/delegation';
import { renderDelegationOutcome } from '../../cli/delegation-render';
import { publishHint } from '../../cli/render';
import { thresholdFlag, waitFlag, workspaceFlag, roleRefOption } from '../../cli/flags';
import type { DelegationOutcome } from '../../repository/delegations';

export default class DelegateBins extends BaseCommand<typeof DelegateBins> {
  static override summary =
    'Delegate all paths of a role to N succinct hash bins (TAP 15), each signed empty by the bin keys.';
  static override description =
    'A target goes to the bin named PREFIX-HEX whose number is the first bit_length bits of sha256(path). All bins share one set of keys. ' +
    'PEP 458 uses 16,384 bins; snapshot then lists every bin, which clients download on each update (see docs/delegations.md for the trade-off). ' +
    "When the parent's keys or the bins' own keys are not here, the change becomes one signing request (as for delegate add).";
  static override examples = [
    '<%= config.bin %> delegate bins --count 16 --key file:keys/bins-1.pem -w repo   # PEP 458 uses --count 16384',
    '<%= config.bin %> delegate bins --count 256 --prefix pkg --from packages --key bins.pub.json',
  ];
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    count: Flags.integer({ description: 'Number of bins: a power of two from 2 to 65,536.', required: true }),
    key: Flags.string({
      description: 'A key of the bins: key URI or public key file (repeat for several).',
      multiple: true,
      required: true,
    }),
    threshold: thresholdFlag('Signatures each bin needs.', '1'),
    prefix: Flags.string({ description: 'Bin name prefix (name_prefix).', default: 'bins' }),
    from: Flags.string({ description: 'Parent role (default: targets).' }),
    expires: Flags.string({ description: 'Expiry period of the bins (default: the targets period).' }),
    'request-out': Flags.string({
      description: "Request file to write when the parent's keys are not here.",
      aliases: ['out'],
      deprecateAliases: true,
    }),
  };

  async run(): Promise<DelegationOutcome> {
    const { workspace, count, threshold, prefix } = this.flags;
    const input: DelegateBinsInput = { workspace, count, keys: this.flags.key, threshold, prefix };
    if (this.flags.from !== undefined) input.from = roleRefOption(this.flags.from, '--from');
    if (this.flags.expires !== undefined) input.expires = this.flags.expires;
    if (this.flags['request-out'] !== undefined) input.out = this.flags['request-out'];
    await this.lockWorkspace(this.flags.workspace);
    const outcome = await runDelegateBins(this.ctx, `tufsign ${this.config.version}`, input);
    this.log(
      outcome.request === undefined
        ? `${input.count} bins created; ${outcome.result.roles.length} roles signed\n${publishHint(this.flags.workspace)}`
        : renderDelegationOutcome(outcome),
    );
    return outcome;
  }
}
