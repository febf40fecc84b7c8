import { BaseCommand } from '../../cli/base-command';
import { topLevelRoleArg } from '../../cli/flags';
import { keyRotateFlags, runKeyRotate } from '../../cli/key-rotate';
import type { RotationResult } from '../../repository/rotation';

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
    role: topLevelRoleArg('Role whose key is replaced.'),
  };
  static override flags = keyRotateFlags;

  async run(): Promise<RotationResult> {
    return runKeyRotate(this.io, this.flags, this.args);
  }
}
