/** `targets dedupe`: one stored copy per target in an old workspace (ADR 0017), and its report. */
import { dedupeTargets, type DedupeResult } from '../repository/targets-dedupe';
import { Workspace } from '../repository/workspace';

export function runTargetsDedupe(workspace: string, dryRun: boolean): DedupeResult {
  return dedupeTargets(Workspace.open(workspace), { dryRun });
}

const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`;

export function renderDedupe(r: DedupeResult): string {
  const lines = [
    r.dryRun
      ? `would link ${r.linked} of ${r.checked} names checked (${r.alreadyLinked} already one copy); nothing written`
      : `linked ${r.linked} of ${r.checked} names checked (${r.alreadyLinked} already one copy), ${mb(r.bytesFreed)} freed`,
  ];
  if (r.leftoversRemoved > 0)
    lines.push(
      `${r.dryRun ? 'would remove' : 'removed'} ${r.leftoversRemoved} temp files left by an interrupted write`,
    );
  if (r.mismatched.length > 0) {
    lines.push(`left as they are, bytes not matching the hash in their name (${r.mismatched.length}):`);
    for (const m of r.mismatched) lines.push(`  ${m}`);
  }
  if (r.unsupported.length > 0)
    lines.push(`left as copies, the filesystem refused a hard link (${r.unsupported.length}): ${r.unsupported[0]} …`);
  return lines.join('\n');
}
