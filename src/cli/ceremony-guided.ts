/** `ceremony`: the keyholder's guided flow — the request found, the keys of THIS machine detected, then signed. */
import { Flags, type Interfaces } from '@oclif/core';
import { Workspace } from '../repository/workspace';
import type { CommandIo } from './base-command';
import { REMOVABLE_MEDIA, renderSignReport, runGuidedCeremony, trustOptions, type GuidedResult } from './ceremony';
import { keyholderContext, machineKeySources } from './keyholder-keys';

export const ceremonyGuidedFlags = {
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

export async function runCeremonyGuided(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof ceremonyGuidedFlags>,
  request: string | undefined,
): Promise<GuidedResult> {
  const dir = flags.workspace ?? '.';
  const ws = Workspace.exists(dir) ? Workspace.open(dir) : undefined;
  const machine = {
    run: io.ctx,
    baseDir: ws?.dir ?? process.cwd(),
    workspace: ws,
    pkcs11Module: flags['pkcs11-module'],
  };
  const result = await runGuidedCeremony(
    {
      prompter: io.ctx.prompter,
      say: (t) => io.note(t),
      yes: io.yes,
      ...(flags.fingerprint !== undefined ? { fingerprint: flags.fingerprint } : {}),
      searchDirs: [...REMOVABLE_MEDIA, process.cwd()],
      ...(ws !== undefined ? { workspace: ws } : {}),
      keyFlags: flags.key ?? [],
      ctx: keyholderContext(machine, io.tool),
      trust: trustOptions(io.ctx.env, flags['trust-dir']),
      ...machineKeySources(machine),
    },
    request,
  );
  io.log(renderSignReport(result.signed));
  return result;
}
