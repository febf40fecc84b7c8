import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { runVerify, verifyFlags } from '../cli/verify';
import type { VerifyReport } from '../verify/verify';

export default class Verify extends BaseCommand<typeof Verify> {
  static override summary = 'Verify a workspace or bundle the way a TUF client does; non-zero exit on any failure.';
  static override description =
    "Checks the root chain from the trusted root (default metadata/1.root.json), thresholds (each key counted once), exact version steps, expiry at --at (default now), timestamp/snapshot/targets consistency, delegations, and every target file's length and hashes.";
  static override examples = [
    '<%= config.bin %> verify myrepo',
    '<%= config.bin %> verify bundle/ --root old/1.root.json --at 2027-01-01T00:00:00Z',
    '<%= config.bin %> verify myrepo/bundles/myapp-1.0.tar.gz --root myrepo/metadata/1.root.json',
  ];
  static override args = {
    dir: Args.string({
      description:
        'Workspace, bundle folder or bundle .tar.gz (a workspace may also be given with -w; default: the current folder).',
    }),
  };
  static override flags = verifyFlags;

  async run(): Promise<VerifyReport> {
    return runVerify(this.io, this.flags, this.args);
  }
}
