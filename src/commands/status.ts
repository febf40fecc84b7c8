import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { workspaceAliasFlag, workspaceFrom } from '../cli/flags';
import { renderStatus } from '../cli/render';
import { TufsignError } from '../errors';
import { checkExpiry, repositoryStatus, type ExpiryCheck, type RepositoryStatus } from '../repository/status';
import { Workspace } from '../repository/workspace';

export default class Status extends BaseCommand<typeof Status> {
  static override summary =
    'Show every role: version, expiry, time left, resign-by date, threshold, keys (keyid, owner, backend).';
  static override description =
    'The resign-by date is the expiry minus the role\'s signing window (tufsign.json "signing_window"; default half the expiry period, at most 30 days). ' +
    'With --check, exit 1 (error ROLE_EXPIRED or RESIGN_DUE) when any role — delegated ones included — is expired or past its resign-by date, or reaches it within --within: the alert for cron, a systemd timer or CI. ' +
    'TUFSIGN_NOW=2027-01-01T00:00:00Z evaluates everything at another time.';
  static override examples = [
    '<%= config.bin %> status -w myrepo',
    '<%= config.bin %> status -w myrepo --check',
    '<%= config.bin %> status -w myrepo --check --within 14d --role root --role targets',
    'TUFSIGN_NOW=2027-01-01T00:00:00Z <%= config.bin %> status -w myrepo --json',
  ];
  static override args = {
    dir: Args.string({ description: 'Workspace directory (alias of -w; default: the current folder).' }),
  };
  static override flags = {
    workspace: workspaceAliasFlag,
    check: Flags.boolean({
      description: 'Exit 1 when a role is expired or due for re-signing (for alerts).',
      default: false,
    }),
    within: Flags.string({
      description: 'With --check: also alert when a resign-by date is this close (e.g. 7d, 12h).',
    }),
    role: Flags.string({
      description: 'With --check: only these roles ("delegated" for every delegated role). Repeatable.',
      multiple: true,
    }),
  };

  async run(): Promise<RepositoryStatus & { check?: ExpiryCheck }> {
    if (!this.flags.check && (this.flags.within !== undefined || this.flags.role !== undefined)) {
      throw new TufsignError('USAGE', '--within and --role only apply to --check', { suggestion: 'Add --check.' });
    }
    const ws = Workspace.open(workspaceFrom(this.flags.workspace, this.args.dir));
    const now = this.ctx.clock.now();
    const status = repositoryStatus(ws, now);
    this.log(renderStatus(status));
    if (!this.flags.check) return status;
    const check = checkExpiry(status, now, this.flags.within, this.flags.role);
    if (!check.ok) {
      const expired = check.due.filter((d) => d.state === 'expired');
      const list = check.due
        .map((d) => `${d.role} (${d.state === 'expired' ? `expired ${d.expires}` : `resign by ${d.resignBy}`})`)
        .join(', ');
      throw new TufsignError(
        expired.length > 0 ? 'ROLE_EXPIRED' : 'RESIGN_DUE',
        `${expired.length > 0 ? 'expired' : 're-signing due'}: ${list}`,
        {
          file: ws.dir,
          suggestion:
            'Re-sign: `tufsign refresh` for snapshot/timestamp, `tufsign sign ROLE --bump` or a ceremony (`tufsign ceremony start --role ROLE`) for root/targets; see docs/runbooks/resign-before-expiry.md.',
          details: { check, status },
        },
      );
    }
    this.note(
      `check: every role is outside its signing window${check.withinSeconds > 0 ? ` for at least ${this.flags.within ?? ''} more` : ''}`,
    );
    return { ...status, check };
  }
}
