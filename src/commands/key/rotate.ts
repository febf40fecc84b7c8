import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonyContext } from '../../cli/ceremony';
import { waitFlag, workspaceFlag } from '../../cli/flags';
import { renderRotation } from '../../cli/rotation-render';
import { resolveKeySpec } from '../../repository/key-specs';
import { rotateKey, type KeyRotateOptions, type RotationResult } from '../../repository/rotation';
import { Workspace } from '../../repository/workspace';
import { TOP_LEVEL_ROLES, type TopLevelRole } from '../../tuf/metadata';

export default class KeyRotate extends BaseCommand<typeof KeyRotate> {
  static override summary =
    'Replace one key of a role (lost, broken, compromised or expiring): root N+1 plus whatever must be re-signed.';
  static override description =
    'Prepares root N+1 with the key replaced (threshold unchanged) and, for targets, a new targets version signed by the new key set; snapshot and timestamp are re-signed at finalize. ' +
    'Keys reachable here sign at once; what is still missing goes into a signing request.';
  static override examples = [
    '<%= config.bin %> key rotate targets --replace 3f2a9c1e --with new-targets.pub.json',
    '<%= config.bin %> key rotate timestamp --replace 9b1c0d2e --with file:keys/timestamp-2.pem',
  ];
  static override args = {
    role: Args.string({ description: 'Role whose key is replaced.', required: true, options: [...TOP_LEVEL_ROLES] }),
  };
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    replace: Flags.string({
      description: 'Keyid (or unique prefix of 8+ hex characters) of the key to replace.',
      required: true,
    }),
    with: Flags.string({ description: 'The new key: a public key file (`key export`) or a key URI.', required: true }),
    expires: Flags.string({ description: 'Expiry period for a re-signed targets (default: the config).' }),
    'request-out': Flags.string({
      description: 'Request file to write when signatures are missing.',
      aliases: ['out'],
      deprecateAliases: true,
    }),
    'bundle-out': Flags.string({
      description:
        'When applied at once: write the upload bundle to this folder (or one .tar.gz file when PATH ends in .tar.gz).',
      aliases: ['bundle'],
      deprecateAliases: true,
    }),
    'allow-short-expiry': Flags.boolean({
      description: 'Accept metadata expiring sooner than the minimum validity.',
      default: false,
    }),
  };

  async run(): Promise<RotationResult> {
    await this.lockWorkspace(this.flags.workspace);
    const ws = Workspace.open(this.flags.workspace);
    const spec = await resolveKeySpec(this.flags.with, this.ctx.openOptions(ws.dir, ws));
    const options: KeyRotateOptions = {
      role: this.args.role as TopLevelRole,
      replace: this.flags.replace,
      with: spec,
      allowShortExpiry: this.flags['allow-short-expiry'],
    };
    if (this.flags.expires !== undefined) options.expires = this.flags.expires;
    if (this.flags['request-out'] !== undefined) options.out = this.flags['request-out'];
    if (this.flags['bundle-out'] !== undefined) options.bundleOut = this.flags['bundle-out'];
    const result = await rotateKey(
      ws,
      options,
      ceremonyContext(this.ctx, ws.dir, ws, `tufsign ${this.config.version}`),
    );
    this.log(renderRotation(result));
    return result;
  }
}
