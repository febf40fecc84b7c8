import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import { publishFromArgs, renderPublish } from '../cli/publish';
import type { PublishResult } from '../repository/publish';

export default class Publish extends BaseCommand<typeof Publish> {
  static override summary =
    'Copy a bundle or a workspace into a web root, mounted bucket or sync folder in the order clients need (timestamp.json last).';
  static override description =
    'Writes target files first, then root, delegated targets and targets metadata, snapshot, and timestamp.json last, each atomically; files already there with the same bytes are left alone, so an interrupted publish leaves clients on the old timestamp and a re-run completes it. ' +
    'A bundle publishes exactly the files its BUNDLE.json lists, after checking their hashes. Prints the equivalent ordered `aws s3` and `gcloud storage` commands.';
  static override examples = [
    '<%= config.bin %> publish myrepo/bundles/myapp-1.0 /var/www/tuf',
    '<%= config.bin %> publish -w myrepo /var/www/tuf',
    '<%= config.bin %> publish myrepo/bundles/myapp-1.0.tar.gz /var/www/tuf',
    '<%= config.bin %> publish bundle-root-v2 /mnt/bucket --json',
  ];
  static override strict = false;
  static override args = {
    source: Args.string({
      description: 'Bundle folder or bundle .tar.gz (or, with -w, the destination).',
      required: true,
    }),
    dest: Args.string({ description: 'Destination folder (created if missing).' }),
  };
  static override flags = {
    workspace: Flags.string({
      char: 'w',
      description: "Publish this workspace's metadata/ and targets/ instead of a bundle.",
    }),
  };

  async run(): Promise<PublishResult> {
    const result = await publishFromArgs(this.positional, this.flags.workspace, (line) => this.note(line));
    this.log(renderPublish(result));
    return result;
  }
}
