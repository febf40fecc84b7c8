import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { initFlags, runInit } from '../cli/init';
import type { ImportReport } from '../import';
import type { OperationResult } from '../repository/outcome';
import type { RequestWritten } from '../repository/requests';

export default class Init extends BaseCommand<typeof Init> {
  static override summary =
    'Create a TUF repository workspace (root, targets, snapshot, timestamp) and sign it with the keys available here.';
  static override description =
    "With no key flags, tufsign generates encrypted key files and signs at once: the online roles' under keys/ (one passphrase, from TUFSIGN_PASSPHRASE, --passphrase-file or a prompt), the offline roles' (root by default, --offline) under offline-keys/ with a passphrase of their own (--offline-passphrase-file, TUFSIGN_OFFLINE_PASSPHRASE or a prompt), to be moved to their keyholders. " +
    'Keys given as public key files are added to root but cannot sign here: then init writes the config and key files, no unsigned metadata, and a signing request for root v1 and targets v1 (see `tufsign ceremony`).';
  static override examples = [
    '<%= config.bin %> init myrepo',
    '<%= config.bin %> init myrepo --offline root --offline targets --offline-passphrase-file offline.pass   # unattended; offline.pass is 0600',
    '<%= config.bin %> init scratch --offline none   # a rehearsal: every key under keys/, one passphrase',
    '<%= config.bin %> init myrepo --scheme ecdsa-sha2-nistp256 --root-threshold 2 --root-key alice.pub.json --root-key bob.pub.json',
    '<%= config.bin %> init myrepo --import ../tufup-project   # bring an existing repository (docs/migrating.md)',
    '<%= config.bin %> init myrepo --targets-key "pkcs11:token=release;object=targets?module-path=/usr/lib/softhsm/libsofthsm2.so"',
  ];
  static override args = { dir: Args.string({ description: 'Directory for the new workspace (alias of -w).' }) };
  static override flags = initFlags;

  async run(): Promise<(OperationResult & { request?: RequestWritten }) | ImportReport> {
    return runInit(this.io, this.flags, this.args.dir);
  }
}
