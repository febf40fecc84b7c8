import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonyGuidedFlags, runCeremonyGuided } from '../../cli/ceremony-guided';
import type { GuidedResult } from '../../cli/ceremony';
import { refuseMistypedSubcommand } from '../../cli/did-you-mean';

export default class Ceremony extends BaseCommand<typeof Ceremony> {
  static override summary =
    'Guided signing for keyholders: find the request, show what is signed, compare the fingerprint, sign with the key that is here.';
  static override description =
    'Finds *.tufsign-request.json on removable media (/media, /run/media, /mnt) or in the current folder, shows the summary, the diff against the trusted version and the fingerprint, ' +
    "detects which keys on THIS machine (--key, else the workspace's keys, the YubiKeys plugged in and the tokens of the PKCS#11 module this machine names: --pkcs11-module, tufsign.json or TUFSIGN_PKCS11_MODULE) can sign something still needed — nothing the request names is ever opened or probed — " +
    'asks you to type the fingerprint the organizer reads out, asks for confirmation and the PIN, signs, verifies the signature, saves the request atomically and appends to its transcript. ' +
    'It exits non-zero whenever nothing was signed. Without a terminal it never prompts: pass --fingerprint and --yes.';
  static override examples = [
    '<%= config.bin %> ceremony',
    "<%= config.bin %> ceremony /media/usb/root-v2.tufsign-request.json --key 'yubikey:serial=12345678;slot=9c'",
    '<%= config.bin %> ceremony root-v2.tufsign-request.json --key file:keys/alice.pem --fingerprint 7K3M-QX2A-9BDE-H4TW-R8NC --yes',
  ];
  static override args = {
    request: Args.string({ description: 'Request file (default: search removable media and the current folder).' }),
  };
  static override flags = ceremonyGuidedFlags;

  async run(): Promise<GuidedResult> {
    // `ceremony strat`: a mistyped subcommand, not a request file
    if (this.args.request !== undefined) await refuseMistypedSubcommand(this.config, 'ceremony', this.args.request);
    return runCeremonyGuided(this.io, this.flags, this.args.request);
  }
}
