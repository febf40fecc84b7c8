import { BaseCommand } from '../../cli/base-command';
import { ceremonyStartFlags, runCeremonyStart } from '../../cli/ceremony-start';
import type { RequestWritten } from '../../repository/requests';

export default class CeremonyStart extends BaseCommand<typeof CeremonyStart> {
  static override summary = 'Start a signing request for the next version of root and/or targets.';
  static override description =
    'Prepares the next version (same content, new version and expiry), signs it with the keys configured here, and writes one self-contained request file to carry to the keyholders. ' +
    'For key and threshold changes use `root rotate` or `key rotate`.';
  static override examples = [
    '<%= config.bin %> ceremony start --role root --expires 365d',
    '<%= config.bin %> ceremony start --role targets --request-out /media/usb/targets.tufsign-request.json',
  ];
  static override flags = ceremonyStartFlags;

  async run(): Promise<RequestWritten> {
    return runCeremonyStart(this.io, this.flags);
  }
}
