import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { waitFlag, workspaceFlag } from '../../cli/flags';
import { attachKeyInWorkspace, renderKeyAttach } from '../../cli/key-attach';
import type { KeyAttachOptions, KeyAttachResult } from '../../repository/key-attach';

export default class KeyAttach extends BaseCommand<typeof KeyAttach> {
  static override summary =
    "Record where a listed key's private part lives (e.g. a key imported public-only); the URI's public key must match.";
  static override description =
    'Reads the public key from the URI (a key file asks for its passphrase; a token or YubiKey is only read, never signs) and records the URI in tufsign.json for every keyid the newest root and the delegations list that key under. Refused when the URI holds a key the metadata does not list, or another key than --keyid. ' +
    'From then on the commands that sign with the keys here use it: `ceremony start`, for one, signs its request with it, so the keyholders receive the request already signed by that key.';
  static override examples = [
    "<%= config.bin %> key attach 'yubikey:serial=12345678;slot=9c' -w myrepo",
    "<%= config.bin %> key attach 'pkcs11:token=ops;object=root-2' --keyid 7d254815 -w myrepo --json",
    '<%= config.bin %> key attach file:keys/timestamp.pem -w myrepo',
  ];
  static override args = {
    uri: Args.string({ description: 'Key URI (file: relative to the workspace, pkcs11:, yubikey:).', required: true }),
  };
  static override flags = {
    workspace: workspaceFlag,
    wait: waitFlag,
    keyid: Flags.string({ description: 'The key meant (keyid or unique prefix); refused if the URI holds another.' }),
    replace: Flags.boolean({ description: 'Replace a URI already recorded for the key.', default: false }),
  };

  async run(): Promise<KeyAttachResult> {
    await this.lockWorkspace(this.flags.workspace);
    const options: KeyAttachOptions = { replace: this.flags.replace };
    if (this.flags.keyid !== undefined) options.keyid = this.flags.keyid;
    const r = await attachKeyInWorkspace(this.flags.workspace, this.args.uri, options, this.ctx);
    this.log(renderKeyAttach(r));
    return r;
  }
}
