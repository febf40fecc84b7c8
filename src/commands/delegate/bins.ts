import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonyContext } from '../../cli/ceremony';
import { renderDelegationOutcome } from '../../cli/delegation-render';
import { workspaceFlag } from '../../cli/flags';
import { resolveKeyFlags } from '../../cli/key-flags';
import { addBins, delegationChangeOrRequest, type DelegateBinsOptions, type DelegationOutcome } from '../../repository/delegations';
import { Workspace } from '../../repository/workspace';

export default class DelegateBins extends BaseCommand<typeof DelegateBins> {
  static override summary = 'Delegate all paths of a role to N succinct hash bins (TAP 15), each signed empty by the bin keys.';
  static override description =
    'A target goes to the bin named PREFIX-HEX whose number is the first bit_length bits of sha256(path). All bins share one set of keys. ' +
    'PEP 458 uses 16,384 bins; snapshot then lists every bin, which clients download on each update (see docs/delegations.md for the trade-off).';
  static override examples = ['<%= config.bin %> delegate bins --count 16384 --key file:keys/bins-1.pem -w repo', '<%= config.bin %> delegate bins --count 256 --prefix pkg --from packages --key bins.pub.json'];
  static override flags = {
    workspace: workspaceFlag,
    count: Flags.integer({ description: 'Number of bins: a power of two from 2 to 65,536.', required: true }),
    key: Flags.string({ description: 'A key of the bins: key URI or public key file (repeat for several).', multiple: true, required: true }),
    threshold: Flags.integer({ description: 'Signatures each bin needs.', default: 1 }),
    prefix: Flags.string({ description: 'Bin name prefix (name_prefix).', default: 'bins' }),
    from: Flags.string({ description: 'Parent role (default: targets).' }),
    expires: Flags.string({ description: 'Expiry period of the bins (default: the targets period).' }),
    out: Flags.string({ description: 'Request file to write when the parent\'s keys are not here.' }),
  };

  async run(): Promise<DelegationOutcome> {
    const ws = Workspace.open(this.flags.workspace);
    const keys = await resolveKeyFlags(this.flags.key, this.ctx.openOptions(ws.dir, ws));
    const options: DelegateBinsOptions = { count: this.flags.count, keys, threshold: this.flags.threshold, prefix: this.flags.prefix };
    if (this.flags.from !== undefined) options.from = this.flags.from;
    if (this.flags.expires !== undefined) options.expires = this.flags.expires;
    const ctx = ceremonyContext(this.ctx, ws.dir, ws, `tufsign ${this.config.version}`);
    const outcome = await delegationChangeOrRequest(ws, (defer) => addBins(ws, options, ctx, defer), `delegate all paths of ${options.from ?? 'targets'} to ${options.count} hash bins ${options.prefix}-*`, this.flags.out, ctx);
    if (outcome.request === undefined) this.log(`${options.count} bins created; ${outcome.result.roles.length} roles signed`);
    else this.log(renderDelegationOutcome(outcome));
    return outcome;
  }
}
