import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonyContext } from '../../cli/ceremony';
import { waitFlag, workspaceFlag } from '../../cli/flags';
import { renderRotation } from '../../cli/rotation-render';
import { resolveKeySpec } from '../../repository/key-specs';
import { rotateRoot, type RootRotateOptions, type RotationResult } from '../../repository/rotation';
import { Workspace } from '../../repository/workspace';

export default class RootRotate extends BaseCommand<typeof RootRotate> {
  static override summary = 'Prepare root N+1: add or remove root keys, change the root threshold, renew root.';
  static override description =
    'Root N+1 must be signed by the threshold of root N AND its own. Keys reachable here sign at once; if that completes every threshold the change is applied to the workspace ' +
    '(and a bundle written with --bundle-out), otherwise a signing request names exactly who must still sign.';
  static override examples = [
    '<%= config.bin %> root rotate --add-key carol.pub.json --remove-key 3f2a9c1e --threshold 2',
    '<%= config.bin %> root rotate --expires 365d   # renew root before it expires',
    '<%= config.bin %> root rotate --fix-keyids   # keyid migration for an imported tufup repository',
  ];
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    'add-key': Flags.string({
      description: 'Root key to add: a public key file (`key export`) or a key URI. Repeatable.',
      multiple: true,
    }),
    'remove-key': Flags.string({
      description: 'Keyid (or a unique prefix of 8+ hex characters) to remove from root. Repeatable.',
      multiple: true,
    }),
    threshold: Flags.integer({ description: 'New root threshold.', min: 1 }),
    expires: Flags.string({ description: 'Expiry period for root N+1 (default: the config, 365d).' }),
    'request-out': Flags.string({
      description:
        'Request file to write when signatures are missing (default: WORKSPACE/root-vN.tufsign-request.json).',
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
      description: 'Accept a root expiring sooner than the minimum validity.',
      default: false,
    }),
    'fix-keyids': Flags.boolean({
      description:
        'Keyid migration: re-list every key whose keyid is not sha256 of the key as stored (tufup-era keyids) under its correct keyid; signed under the old and the new keyids.',
      default: false,
    }),
  };

  async run(): Promise<RotationResult> {
    await this.lockWorkspace(this.flags.workspace);
    const ws = Workspace.open(this.flags.workspace);
    const open = this.ctx.openOptions(ws.dir, ws);
    const add = [];
    for (const v of this.flags['add-key'] ?? []) add.push(await resolveKeySpec(v, open));
    const options: RootRotateOptions = {
      add,
      remove: this.flags['remove-key'] ?? [],
      allowShortExpiry: this.flags['allow-short-expiry'],
      fixKeyids: this.flags['fix-keyids'],
    };
    if (this.flags.threshold !== undefined) options.threshold = this.flags.threshold;
    if (this.flags.expires !== undefined) options.expires = this.flags.expires;
    if (this.flags['request-out'] !== undefined) options.out = this.flags['request-out'];
    if (this.flags['bundle-out'] !== undefined) options.bundleOut = this.flags['bundle-out'];
    const result = await rotateRoot(
      ws,
      options,
      ceremonyContext(this.ctx, ws.dir, ws, `tufsign ${this.config.version}`),
    );
    this.log(renderRotation(result));
    return result;
  }
}
