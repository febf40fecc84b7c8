import { Args, Flags } from '@oclif/core';
import { Errors } from '@oclif/core';
import { join } from 'node:path';
import { BaseCommand } from '../cli/base-command';
import { renderVerify } from '../cli/render';
import { ExitCode } from '../errors';
import { fileExists, readFileBounded } from '../io/fs';
import { directorySource } from '../repository/sources';
import { verifyRepository, type VerifyOptions, type VerifyReport } from '../repository/verify';
import { parseInstant } from '../tuf/time';
import { verifyBundle } from '../bundle/verify';

export default class Verify extends BaseCommand<typeof Verify> {
  static override summary = 'Verify a workspace or bundle the way a TUF client does; non-zero exit on any failure.';
  static override description =
    'Checks the root chain from the trusted root (default metadata/1.root.json), thresholds (each key counted once), exact version steps, expiry at --at (default now), timestamp/snapshot/targets consistency, delegations, and every target file\'s length and hashes.';
  static override examples = ['<%= config.bin %> verify myrepo', '<%= config.bin %> verify bundle/ --root old/1.root.json --at 2027-01-01T00:00:00Z'];
  static override args = { dir: Args.string({ description: 'Workspace or bundle directory.', default: '.' }) };
  static override flags = {
    root: Flags.string({ description: 'Trusted root metadata to start the chain from.' }),
    at: Flags.string({ description: 'Check expiry at this time instead of now (ISO 8601).' }),
    'allow-legacy-keyids': Flags.boolean({
      description: 'Also accept keyids that are not sha256 of the key in the newest root and in delegations (tufup-era repositories before their keyid-migration root); reported as notes.',
      default: false,
      exclusive: ['strict-keyids'],
    }),
    'strict-keyids': Flags.boolean({
      description: 'Check keyids as tough/sigstore-rs do: every key in every root of the chain and in every delegation must have keyid = sha256(key as stored).',
      default: false,
    }),
  };

  async run(): Promise<VerifyReport> {
    const dir = this.args.dir;
    const isBundle = fileExists(join(dir, 'BUNDLE.json'));
    const options: VerifyOptions = {
      at: this.flags.at !== undefined ? parseInstant(this.flags.at) : this.ctx.clock.now(),
      requireTargetFiles: !isBundle,
      allowLegacyKeyids: this.flags['allow-legacy-keyids'],
      strictKeyids: this.flags['strict-keyids'],
    };
    if (this.flags.root !== undefined) options.trustedRoot = { bytes: readFileBounded(this.flags.root), file: this.flags.root };
    // A bundle is also checked against its manifest: every listed file, nothing unlisted, the transcript.
    const report = isBundle ? verifyBundle(dir, options) : verifyRepository(directorySource(dir), options);
    this.log(renderVerify(report));
    if (!report.ok) {
      if (this.jsonEnabled()) this.logJson(report);
      throw new Errors.ExitError(ExitCode.VERIFY_FAILED);
    }
    return report;
  }
}
