import { BaseCommand } from '../../cli/base-command';
import { ceremonyStartFlags, runCeremonyStart } from '../../cli/ceremony-start';
import type { RequestWritten } from '../../repository/requests';

export default class CeremonyStart extends BaseCommand<typeof CeremonyStart> {
  static override summary = 'Start a signing request for the next version of root and/or targets.';
  static override description =
    'Prepares the next version (same content, new version and expiry), signs it with the keys tufsign.json records a URI for (`key attach` records one), in the order the role lists its keys until each threshold is met, ' +
    'and writes one self-contained request file to carry to the keyholders: it arrives already signed by those keys. ' +
    'A recorded key file missing from the workspace is skipped; a recorded token or YubiKey that is not connected fails the command before any request is written; ' +
    'an offline key file needs its own passphrase (TUFSIGN_OFFLINE_PASSPHRASE, --passphrase-file KEYID=FILE or a prompt), else OFFLINE_KEY_UNAVAILABLE. ' +
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
