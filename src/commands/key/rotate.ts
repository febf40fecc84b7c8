import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { keyRotateFlags, runKeyRotateCommand, type KeyRotateOutcome } from '../../cli/key-rotate';

export default class KeyRotate extends BaseCommand<typeof KeyRotate> {
  static override summary =
    "Change a role's keys or threshold: replace, add or remove keys of any role (top-level, delegated, hash bins).";
  static override description =
    'For root, targets, snapshot and timestamp: prepares root N+1 with the change; targets is re-signed by its new key set in the same request, snapshot and timestamp at finalize. ' +
    'For a delegated role (or every hash bin, named by its prefix): a new version of its parent role, and the role re-signed by its new key set; when the keys of the parent (top-level targets or a delegated role) are not here, a signing request that `tufsign ceremony` finalizes. ' +
    'Keys reachable here sign at once; what is still missing goes into a signing request.';
  static override examples = [
    '<%= config.bin %> key rotate targets --replace "$(jq -r .keyid keys/targets-1.pem.pub.json)" --with new-targets.pub.json',
    '<%= config.bin %> key rotate timestamp --replace "$(jq -r .keyid keys/timestamp-1.pem.pub.json)" --with file:keys/timestamp-2.pem',
    '<%= config.bin %> key rotate snapshot --add-key file:keys/snapshot-2.pem --threshold 2',
    '<%= config.bin %> key rotate projects --add-key file:keys/projects-2.pem --threshold 2   # a delegated role: the new key signs too',
    '<%= config.bin %> key rotate bins --replace "$(jq -r .keyid bins-1.pub.json)" --with file:keys/bins-2.pem   # every hash bin bins-*',
  ];
  static override args = {
    role: Args.string({
      description: 'Role to change: root, targets, snapshot, timestamp, a delegated role, or a hash-bin prefix.',
      required: true,
    }),
  };
  static override flags = keyRotateFlags;

  async run(): Promise<KeyRotateOutcome> {
    return runKeyRotateCommand(this.io, this.flags, this.args);
  }
}
