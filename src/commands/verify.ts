import { Args, Flags } from '@oclif/core';
import { join } from 'node:path';
import { BaseCommand } from '../cli/base-command';
import { workspaceAliasFlag, workspaceFrom } from '../cli/flags';
import { withBundleInput } from '../cli/bundle-input';
import { checkBundleRoot } from '../cli/bundle-root';
import { renderVerify } from '../cli/render';
import { TufsignError } from '../errors';
import { fileExists, readFileBounded } from '../io/fs';
import { directorySource } from '../repository/sources';
import { verifyRepository, type VerifyOptions, type VerifyReport } from '../repository/verify';
import { parseInstant } from '../tuf/time';
import { verifyBundle } from '../bundle/verify';

export default class Verify extends BaseCommand<typeof Verify> {
  static override summary = 'Verify a workspace or bundle the way a TUF client does; non-zero exit on any failure.';
  static override description =
    "Checks the root chain from the trusted root (default metadata/1.root.json), thresholds (each key counted once), exact version steps, expiry at --at (default now), timestamp/snapshot/targets consistency, delegations, and every target file's length and hashes.";
  static override examples = [
    '<%= config.bin %> verify myrepo',
    '<%= config.bin %> verify bundle/ --root old/1.root.json --at 2027-01-01T00:00:00Z',
    '<%= config.bin %> verify myrepo/bundles/myapp-1.0.tar.gz --root myrepo/metadata/1.root.json',
  ];
  static override args = {
    dir: Args.string({
      description:
        'Workspace, bundle folder or bundle .tar.gz (a workspace may also be given with -w; default: the current folder).',
    }),
  };
  static override flags = {
    workspace: workspaceAliasFlag,
    root: Flags.string({ description: 'Trusted root metadata to start the chain from.' }),
    at: Flags.string({ description: 'Check expiry at this time instead of now (ISO 8601).' }),
    'allow-legacy-keyids': Flags.boolean({
      description:
        'Also accept keyids that are not sha256 of the key in the newest root and in delegations (tufup-era repositories before their keyid-migration root); reported as notes.',
      default: false,
      exclusive: ['strict-keyids'],
    }),
    'strict-keyids': Flags.boolean({
      description:
        'Check keyids as tough/sigstore-rs do: every key in every root of the chain and in every delegation must have keyid = sha256(key as stored).',
      default: false,
    }),
  };

  async run(): Promise<VerifyReport> {
    // BUNDLE may also be the .tar.gz a bundle was written as; it is unpacked privately and checked the same way
    return withBundleInput(workspaceFrom(this.flags.workspace, this.args.dir), (b) => this.verify(b.dir, b.given));
  }

  private verify(dir: string, given: string): VerifyReport {
    const isBundle = fileExists(join(dir, 'BUNDLE.json'));
    const options: VerifyOptions = {
      at: this.flags.at !== undefined ? parseInstant(this.flags.at) : this.ctx.clock.now(),
      requireTargetFiles: !isBundle,
      allowLegacyKeyids: this.flags['allow-legacy-keyids'],
      strictKeyids: this.flags['strict-keyids'],
    };
    if (this.flags.root !== undefined)
      options.trustedRoot = { bytes: readFileBounded(this.flags.root), file: this.flags.root };
    // a bundle that publishes no root (add-release, targets changes) is checked from the root clients already have
    if (isBundle) checkBundleRoot(dir, given, options.trustedRoot);
    // A bundle is also checked against its manifest: every listed file, nothing unlisted, the transcript.
    const report = isBundle ? verifyBundle(dir, options) : verifyRepository(directorySource(dir), options);
    this.log(renderVerify(report));
    if (!report.ok) {
      const failed = report.roles
        .flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => `${r.role}: ${c.message}`))
        .concat(report.targets.filter((t) => !t.ok).map((t) => `${t.path}: ${t.message}`));
      throw new TufsignError(
        'VERIFY_FAILED',
        `verification failed: ${failed[0] ?? 'see the report'}${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}`,
        {
          file: given,
          details: { report },
          ...(this.flags.root === undefined && isBundle
            ? {
                suggestion:
                  'A bundle that does not carry the root it was signed under needs --root PATH/TO/N.root.json (the last root clients already trust).',
              }
            : {}),
        },
      );
    }
    return report;
  }
}
