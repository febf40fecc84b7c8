import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command';
import {
  ceremonyContext,
  REMOVABLE_MEDIA,
  renderSignReport,
  runGuidedCeremony,
  trustOptions,
  type GuidedResult,
} from '../../cli/ceremony';
import { backendFor, BACKENDS } from '../../keystore/registry';
import { Workspace } from '../../repository/workspace';

export default class Ceremony extends BaseCommand<typeof Ceremony> {
  static override summary =
    'Guided signing for keyholders: find the request, show what is signed, compare the fingerprint, sign with the key that is here.';
  static override description =
    'Finds *.tufsign-request.json on removable media (/media, /run/media, /mnt) or in the current folder, shows the summary, the diff against the trusted version and the fingerprint, ' +
    "detects which keys on THIS machine (--key, else the workspace's keys and the YubiKeys plugged in) can sign something still needed — nothing the request names is ever opened or probed — " +
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
    'trust-dir': Flags.string({
      description:
        'Keyholder trust folder holding the pinned root (default: ~/.tufsign/trust/REPOSITORY; used without a workspace).',
    }),
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
        ...(this.flags.fingerprint !== undefined ? { fingerprint: this.flags.fingerprint } : {}),
        searchDirs: [...REMOVABLE_MEDIA, process.cwd()],
        ...(ws !== undefined ? { workspace: ws } : {}),
        keyFlags: this.flags.key ?? [],
        ctx,
        trust: trustOptions(this.ctx.env, this.flags['trust-dir']),
        // YubiKeys plugged into this machine, found over PC/SC: no module is loaded, nothing from the request is used.
        async pluggedKeys() {
          const yubikeys = BACKENDS.yubikey;
          if (yubikeys.listDevices === undefined) return [];
          let report;
          try {
            report = await yubikeys.listDevices(run.openOptions(base, ws));
          } catch {
            return []; // no PC/SC here: no YubiKeys to offer
          }
          const uris: string[] = [];
          for (const d of report.devices) {
            const serial = d['serial'];
            const slots = d['slots'];
            if (typeof serial !== 'number' || !Array.isArray(slots)) continue;
            for (const s of slots) {
              if (
                typeof s === 'object' &&
                s !== null &&
                !Array.isArray(s) &&
                typeof s['slot'] === 'string' &&
                typeof s['scheme'] === 'string'
              )
                uris.push(`yubikey:serial=${serial};slot=${s['slot']}`);
            }
          }
          return uris;
        },
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
    this.log(renderSignReport(result.signed));
    return result;
  }
}
