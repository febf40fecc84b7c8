/** `tufsign publish` for the command: resolve source and destination, run the use case, render for people. */
import { resolve } from 'node:path';
import { TufsignError } from '../errors';
import { publish, PUBLISH_PHASES, type PublishResult } from '../repository/publish';
import { isBundleTarball, openBundle } from '../bundle/archive';

/** `publish BUNDLE DEST` or `publish [-w WORKSPACE] DEST`. */
export async function publishFromArgs(
  positional: readonly string[],
  workspace: string | undefined,
  progress: (line: string) => void,
): Promise<PublishResult> {
  let source: string;
  let dest: string | undefined;
  if (positional.length > 2)
    throw new TufsignError('USAGE', `unexpected arguments: ${positional.slice(2).join(' ')}`, {
      suggestion: 'tufsign publish BUNDLE DEST, or tufsign publish -w WORKSPACE DEST.',
    });
  if (positional.length === 2) {
    if (workspace !== undefined)
      throw new TufsignError('USAGE', 'give either a bundle or -w WORKSPACE, not both', {
        suggestion: 'tufsign publish BUNDLE DEST, or tufsign publish -w WORKSPACE DEST.',
      });
    [source, dest] = positional as [string, string];
  } else if (positional.length === 1) {
    source = workspace ?? '.';
    dest = positional[0];
  } else {
    throw new TufsignError('USAGE', 'publish needs a destination folder', {
      suggestion: 'tufsign publish BUNDLE DEST, or tufsign publish -w WORKSPACE DEST.',
    });
  }
  if (dest === undefined) throw new TufsignError('USAGE', 'publish needs a destination folder');
  if (resolve(dest) === resolve(source))
    throw new TufsignError('USAGE', 'the destination is the source', { file: dest });
  const onFile = (path: string, action: 'written' | 'unchanged'): void => {
    if (action === 'written') progress(`published ${path}`);
  };
  // a bundle written as one .tar.gz is unpacked privately, checked like a folder, published, then removed
  if (!isBundleTarball(source)) return publish(source, dest, onFile);
  const opened = await openBundle(source);
  try {
    return { ...publish(opened.dir, dest, onFile), source };
  } finally {
    opened.close();
  }
}

export function renderPublish(r: PublishResult): string {
  const lines = [
    `published ${r.kind} ${r.source} to ${r.dest}: ${r.written} file(s) written, ${r.unchanged} already there`,
  ];
  const counts = PUBLISH_PHASES.map((p) => [p, r.files.filter((f) => f.phase === p).length] as const).filter(
    ([, n]) => n > 0,
  );
  lines.push(`order: ${counts.map(([p, n]) => `${p} (${n})`).join(' → ')}; timestamp.json last`);
  lines.push(
    '',
    'To upload DEST to an object store in the same order (replace BUCKET/PREFIX):',
    '  # Amazon S3',
    ...r.commands.s3.map((c) => `  ${c}`),
    '  # Google Cloud Storage',
    ...r.commands.gcs.map((c) => `  ${c}`),
  );
  return lines.join('\n');
}
