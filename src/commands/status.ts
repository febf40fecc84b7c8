import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { runStatus, statusFlags } from '../cli/status';
import type { ExpiryCheck, RepositoryStatus } from '../repository/status';

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
  static override flags = statusFlags;

  async run(): Promise<RepositoryStatus & { check?: ExpiryCheck }> {
    return runStatus(this.io, this.flags, this.args);
  }
}
