import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { addReleaseFlags, runAddRelease } from '../cli/add-release';
import type { AddReleaseResult } from '../repository/release';

export default class AddRelease extends BaseCommand<typeof AddRelease> {
  static override summary =
    'Add an application release the way tufup does: a reproducible archive and a binary patch, signed and bundled.';
  static override description =
    'Builds APP-VERSION.tar.gz deterministically from DIR (SOURCE_DATE_EPOCH or the release time as mtime), a BSDIFF40 patch from the previous ' +
    "release's tar, registers both as targets with tufup's custom metadata, re-signs targets → snapshot → timestamp, and writes the upload bundle. " +
    'When targets needs offline keys, it writes a signing request for the ceremony instead.';
  static override examples = [
    '<%= config.bin %> add-release myapp 1.1 dist/myapp -w repo',
    '<%= config.bin %> add-release myapp 2.0rc1 dist/myapp --meta \'{"notes":"beta"}\' --required -w repo',
    'SOURCE_DATE_EPOCH=1700000000 <%= config.bin %> add-release myapp 1.2 dist/myapp --dry-run --json',
  ];
  static override args = {
    app: Args.string({ description: 'Application name (letters, digits, _ and -).', required: true }),
    version: Args.string({
      description: 'PEP 440 version, newer than every release already published.',
      required: true,
    }),
    dir: Args.string({ description: 'The built application folder.', required: true }),
  };
  static override flags = addReleaseFlags;

  async run(): Promise<AddReleaseResult> {
    return runAddRelease(this.io, this.flags, this.args);
  }
}
