import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { waitFlag, workspaceFlag } from '../../cli/flags';
import { runKeyRotate, type KeyRotateInput, type KeyRotateOutcome } from '../../cli/key-rotate';
import { renderKeyRotation } from '../../cli/rotation-render';

export default class KeyRotate extends BaseCommand<typeof KeyRotate> {
  static override summary =
    "Change a role's keys or threshold: replace, add or remove keys of any role (top-level, delegated, hash bins).";
  static override description =
    'For root, targets, snapshot and timestamp: prepares root N+1 with the change; targets is re-signed by its new key set in the same request, snapshot and timestamp at finalize. ' +
    'For a delegated role (or every hash bin, named by its prefix): a new version of its parent role, and the role re-signed by its new key set; when the parent is top-level targets and its keys are not here, a signing request that `tufsign ceremony` finalizes. ' +
    'Keys reachable here sign at once; what is still missing goes into a signing request.';
  static override examples = [
    '<%= config.bin %> key rotate targets --replace 3f2a9c1e --with new-targets.pub.json',
    '<%= config.bin %> key rotate timestamp --replace 9b1c0d2e --with file:keys/timestamp-2.pem',
    '<%= config.bin %> key rotate snapshot --add-key file:keys/snapshot-2.pem --threshold 2',
    '<%= config.bin %> key rotate projects --add-key bob.pub.json --threshold 2   # a delegated role',
    '<%= config.bin %> key rotate bins --replace 5e0c77aa --with file:keys/bins-2.pem   # every hash bin bins-*',
  ];
  static override args = {
    role: Args.string({
      description: 'Role to change: root, targets, snapshot, timestamp, a delegated role, or a hash-bin prefix.',
      required: true,
    }),
  };
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    replace: Flags.string({
      description: 'Keyid (or unique prefix of 8+ hex characters) of the key to replace (with --with).',
      dependsOn: ['with'],
    }),
    with: Flags.string({
      description: 'The replacing key: a public key file (`key export`) or a key URI.',
      dependsOn: ['replace'],
    }),
    'add-key': Flags.string({
      description: 'Key to add to the role: a public key file or a key URI. Repeatable.',
      multiple: true,
    }),
    'remove-key': Flags.string({
      description: 'Keyid (or unique prefix of 8+ hex characters) to remove from the role. Repeatable.',
      multiple: true,
    }),
    threshold: Flags.integer({ description: "The role's new threshold.", min: 1 }),
    expires: Flags.string({ description: 'Expiry period for re-signed targets roles (default: the config).' }),
    'request-out': Flags.string({
      description: 'Request file to write when signatures are missing.',
      aliases: ['out'],
      deprecateAliases: true,
    }),
    'bundle-out': Flags.string({
      description:
        'Top-level roles, applied at once: write the upload bundle to this folder (or one .tar.gz file when PATH ends in .tar.gz).',
      aliases: ['bundle'],
      deprecateAliases: true,
    }),
    'allow-short-expiry': Flags.boolean({
      description: 'Accept metadata expiring sooner than the minimum validity.',
      default: false,
    }),
  };

  async run(): Promise<KeyRotateOutcome> {
    await this.lockWorkspace(this.flags.workspace);
    const input: KeyRotateInput = {
      workspace: this.flags.workspace,
      role: this.args.role,
      add: this.flags['add-key'] ?? [],
      remove: this.flags['remove-key'] ?? [],
      allowShortExpiry: this.flags['allow-short-expiry'],
    };
    if (this.flags.replace !== undefined) input.replace = this.flags.replace;
    if (this.flags.with !== undefined) input.with = this.flags.with;
    if (this.flags.threshold !== undefined) input.threshold = this.flags.threshold;
    if (this.flags.expires !== undefined) input.expires = this.flags.expires;
    if (this.flags['request-out'] !== undefined) input.out = this.flags['request-out'];
    if (this.flags['bundle-out'] !== undefined) input.bundleOut = this.flags['bundle-out'];
    const outcome = await runKeyRotate(this.ctx, `tufsign ${this.config.version}`, input);
    this.log(renderKeyRotation(outcome));
    return outcome;
  }
}
