/** `status`: every role's version, expiry and resign-by date; with --check, the alert for cron and CI. */
import { parseRoleRef } from '../tuf/paths';
import { Flags, type Interfaces } from '@oclif/core';
import { TufsignError } from '../errors';
import { parsePeriod } from '../tuf/time';
import { checkExpiry, repositoryStatus, type ExpiryCheck, type RepositoryStatus } from '../repository/status';
import { Workspace } from '../repository/workspace';
import type { CommandIo } from './base-command';
import { workspaceAliasFlag, workspaceFrom } from './flags';
import { renderStatus } from './render';

export const statusFlags = {
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

export function runStatus(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof statusFlags>,
  args: { dir?: string | undefined },
): RepositoryStatus & { check?: ExpiryCheck } {
  if (!flags.check && (flags.within !== undefined || flags.role !== undefined)) {
    throw new TufsignError('USAGE', '--within and --role only apply to --check', { suggestion: 'Add --check.' });
  }
  // parsed before anything is printed: a bad --within or --role must not follow a table that looks like a result
  const onlyRoles = flags.role?.map((r) => parseRoleRef(r, '--role'));
  const within = flags.within === undefined ? undefined : parsePeriod(flags.within, '--within');
  const ws = Workspace.open(workspaceFrom(flags.workspace, args.dir));
  const now = io.ctx.clock.now();
  const status = repositoryStatus(ws, now);
  io.log(renderStatus(status));
  if (!flags.check) return status;
  const check = checkExpiry(status, now, within, onlyRoles);
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
  io.note(
    `check: every role is outside its signing window${check.withinSeconds > 0 ? ` for at least ${flags.within ?? ''} more` : ''}`,
  );
  return { ...status, check };
}
