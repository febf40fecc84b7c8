import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { ceremonyContext, REMOVABLE_MEDIA, renderSignReport, runGuidedCeremony, type GuidedResult } from '../../cli/ceremony';
import { backendFor } from '../../keystore/registry';
import { Workspace } from '../../repository/workspace';

export default class Ceremony extends BaseCommand<typeof Ceremony> {
  static override summary = 'Guided signing for keyholders: find the request, show what is signed, sign with the key that is here.';
  static override description =
    'Finds *.tufsign-request.json on removable media (/media, /run/media, /mnt) or in the current folder, shows the summary, the diff against the trusted version and the fingerprint to read aloud, ' +
    'detects which keys here (--key, the workspace\'s keys, YubiKeys/tokens named in the request) can sign something still needed, asks for confirmation and the PIN, signs, verifies the signature, ' +
    'saves the request atomically and appends to its transcript. Without a terminal it never prompts: use `ceremony sign --yes`.';
  static override examples = ['<%= config.bin %> ceremony', '<%= config.bin %> ceremony /media/usb/root-v2.tufsign-request.json --key \'yubikey:serial=12345678;slot=9c\''];
  static override args = { request: Args.string({ description: 'Request file (default: search removable media and the current folder).' }) };
  static override flags = {
    key: Flags.string({ description: 'A key URI to sign with (repeatable).', multiple: true }),
    workspace: Flags.string({ char: 'w', description: 'Workspace whose configured keys may sign (default: the current folder, if it is one).' }),
  };

  async run(): Promise<GuidedResult> {
    const dir = this.flags.workspace ?? '.';
    const ws = Workspace.exists(dir) ? Workspace.open(dir) : undefined;
    const base = ws?.dir ?? process.cwd();
    const ctx = ceremonyContext(this.ctx, base, ws, `tufsign ${this.config.version}`);
    const run = this.ctx;
    const result = await runGuidedCeremony(
      {
        prompter: this.ctx.prompter,
        say: (t) => this.note(t),
        yes: this.flags.yes,
        searchDirs: [...REMOVABLE_MEDIA, process.cwd()],
        ...(ws !== undefined ? { workspace: ws } : {}),
        keyFlags: this.flags.key ?? [],
        ctx,
        async probe(uri) {
          const b = backendFor(uri);
          if (b.readPublicKey === undefined) return undefined;
          try {
            return (await b.readPublicKey(uri, run.openOptions(base, ws))).publicKey;
          } catch {
            return undefined;
          }
        },
      },
      this.args.request,
    );
    if (result.signed !== null) this.log(renderSignReport(result.signed));
    return result;
  }
}
