/** The human report of `init --import` (stdout): what was found, where each key's private part is, problems, what to run next. */
import type { ImportReport } from '../import';
import { describeKeyidProblem } from '../tuf/keyids';
import { renderVerify, table } from './render';

export function renderImport(r: ImportReport): string {
  const lines: string[] = [];
  lines.push(
    `${r.dryRun ? 'Would import' : 'Imported'} a ${r.format} repository from ${r.source}${r.dryRun ? '' : ` into ${r.workspace}`}`,
  );
  lines.push(
    `root history: versions ${r.rootVersions[0] ?? '?'}..${r.rootVersions[r.rootVersions.length - 1] ?? '?'} (kept as N.root.json)`,
  );
  lines.push(
    table([
      ['ROLE', 'VERSION', 'EXPIRES', 'FILE'],
      ...r.roles.map((x) => [x.role, String(x.version), x.expires, x.file]),
    ]),
  );
  lines.push(
    `targets: ${r.targets.count} listed, ${r.targets.copied} copied${r.targets.missing.length > 0 ? `, ${r.targets.missing.length} missing (skipped)` : ''}`,
  );
  lines.push('keys:');
  lines.push(
    table([
      ['KEYID', 'ROLES', 'SCHEME', 'PRIVATE PART'],
      ...r.keys.map((k) => [
        k.keyid.slice(0, 16) + '…',
        k.roles.join(','),
        k.scheme,
        k.uri !== null
          ? `${k.uri} (converted from ${k.from ?? '?'})`
          : `held elsewhere${k.owner !== undefined ? ` (${k.owner})` : ''}: public-only`,
      ]),
    ]),
  );
  if (r.release !== undefined)
    lines.push(
      `tufup app "${r.release.app}": newest release ${r.release.latest ?? 'none'}; the next add-release patches from it`,
    );
  if (r.legacyKeyids.length > 0) {
    lines.push(`keyids a strict client recomputes differently (${r.legacyKeyids.length}):`);
    for (const p of r.legacyKeyids) lines.push(`  ${describeKeyidProblem(p)}`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  lines.push(`verify (${r.dryRun ? 'source' : 'new workspace'}):`);
  lines.push(renderVerify(r.verify));
  if (r.next.length > 0) lines.push('next:', ...r.next.map((n) => `  ${n}`));
  return lines.join('\n');
}
