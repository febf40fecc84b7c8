import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import { keyholderContext, machineKeySources } from '../../cli/keyholder-keys';
import {
  REMOVABLE_MEDIA,
  renderSignReport,
  runGuidedCeremony,
  trustOptions,
  type GuidedResult,
} from '../../cli/ceremony';
import { Workspace } from '../../repository/workspace';

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
  static override flags = {
    key: Flags.string({
      description: 'A key URI to sign with (repeatable); when given, nothing else is probed.',
      multiple: true,
    }),
    fingerprint: Flags.string({
      description: 'The fingerprint the organizer read out (instead of typing it at the prompt).',
    }),
    workspace: Flags.string({
      char: 'w',
      description:
        'Workspace whose configured keys may sign and whose root anchors the check (default: the current folder, if it is one).',
    }),
    'pkcs11-module': Flags.string({
      description:
        "This machine's PKCS#11 module whose tokens are searched for your key (else tufsign.json's pkcs11_module, else TUFSIGN_PKCS11_MODULE); a module named in the request is never loaded.",
    }),
    'trust-dir': Flags.string({
      description:
        'Keyholder trust folder holding the pinned root (default: ~/.tufsign/trust/REPOSITORY; used without a workspace).',
    }),
  };

  async run(): Promise<GuidedResult> {
    const dir = this.flags.workspace ?? '.';
    const ws = Workspace.exists(dir) ? Workspace.open(dir) : undefined;
    const machine = {
      run: this.ctx,
      baseDir: ws?.dir ?? process.cwd(),
      workspace: ws,
      pkcs11Module: this.flags['pkcs11-module'],
    };
    const result = await runGuidedCeremony(
      {
        prompter: this.ctx.prompter,
        say: (t) => this.note(t),
        yes: this.flags.yes,
        ...(this.flags.fingerprint !== undefined ? { fingerprint: this.flags.fingerprint } : {}),
        searchDirs: [...REMOVABLE_MEDIA, process.cwd()],
        ...(ws !== undefined ? { workspace: ws } : {}),
        keyFlags: this.flags.key ?? [],
        ctx: keyholderContext(machine, `tufsign ${this.config.version}`),
        trust: trustOptions(this.ctx.env, this.flags['trust-dir']),
        ...machineKeySources(machine),
      },
      this.args.request,
    );
    this.log(renderSignReport(result.signed));
    return result;
  }
}
