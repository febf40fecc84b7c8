import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { runSign, signFlags } from '../cli/sign';
import type { OperationResult } from '../repository/outcome';
import type { RequestWritten } from '../repository/requests';

export default class Sign extends BaseCommand<typeof Sign> {
  static override summary = 'Re-sign a role with the configured keys.';
  static override description =
    'Without --bump or --expires, only adds signatures that are missing (same bytes, same version). With them, the role gets a new version and expiry, and snapshot and timestamp are updated after it in the order the spec gives. ' +
    'A delegated role (snapshot lists it by version) is always re-signed as a new version with a fresh expiry, by the keys its parent names; when they are not here (absent, or offline without their own secret), the new version waits in one signing request for the role, with its delegating chain, for `ceremony sign` and `ceremony finalize`.';
  static override examples = [
    '<%= config.bin %> sign targets --expires 90d',
    '<%= config.bin %> sign root --bump',
    '<%= config.bin %> sign projects --expires 30d   # a delegated role: always a new version',
    '<%= config.bin %> sign bins   # every hash bin bins-*',
  ];
  static override args = {
    role: Args.string({
      description:
        'Role to sign: root, targets, snapshot, timestamp, a delegated role, or a hash-bin prefix (every bin).',
      required: true,
    }),
  };
  static override flags = signFlags;

  async run(): Promise<OperationResult & { request?: RequestWritten }> {
    return runSign(this.io, this.flags, this.args);
  }
}
