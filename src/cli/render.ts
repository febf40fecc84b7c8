/** Human renderings of core results (stdout). Under --json the result objects are printed instead. */
import type { OperationResult } from '../repository/operations';
import type { RepositoryStatus } from '../repository/status';
import type { VerifyReport } from '../repository/verify';

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

export function renderOperation(result: OperationResult): string {
  const lines: string[] = [];
  for (const r of result.roles) {
    const mark = r.complete ? 'ok ' : '!! ';
    const prev = r.previousResult !== undefined ? `, previous root ${r.previousResult.signed.length}/${r.previousResult.threshold}` : '';
    lines.push(`${mark}${r.role} v${r.version} expires ${r.expires}: ${r.result.signed.length}/${r.result.threshold} signatures${prev}  (${r.files.join(', ')})`);
    for (const m of r.missing) {
      if (r.complete) continue;
      lines.push(`     missing: ${m.keyid}${m.owner !== undefined ? ` (${m.owner})` : ''}${m.uri !== undefined ? ` ${m.uri}` : ' — key held elsewhere'}`);
    }
  }
  if (!result.complete) lines.push('Some roles are not yet signed by their threshold: collect the missing signatures with `tufsign ceremony`.');
  return lines.join('\n');
}

export function renderStatus(s: RepositoryStatus): string {
  const rows: string[][] = [['ROLE', 'VERSION', 'EXPIRES', 'DAYS LEFT', 'THRESHOLD', 'SIGNED', 'KEYS (keyid owner backend)']];
  for (const r of s.roles) {
    const keys = r.keys.map((k) => `${k.keyid.slice(0, 12)} ${k.owner ?? '-'} ${k.backend}${k.signed ? '' : ' (unsigned)'}`);
    rows.push([r.role, String(r.version), r.expires, String(r.daysLeft), String(r.threshold), `${r.validSignatures}/${r.threshold}`, keys[0] ?? '']);
    for (const k of keys.slice(1)) rows.push(['', '', '', '', '', '', k]);
  }
  return `${s.name} (${s.workspace}), consistent snapshots ${s.consistentSnapshot ? 'on' : 'off'}, at ${s.at}\n` + table(rows);
}

export function renderVerify(v: VerifyReport): string {
  const lines: string[] = [];
  for (const r of v.roles) {
    lines.push(`${r.ok ? 'PASS' : 'FAIL'} ${r.role}${r.version !== undefined ? ` v${r.version}` : ''}${r.file !== undefined ? ` (${r.file})` : ''}`);
    for (const c of r.checks) lines.push(`  ${c.ok ? '✓' : '✗'} ${c.message}${!c.ok && c.rule !== undefined ? ` [${c.rule}]` : ''}`);
  }
  if (v.targets.length > 0) {
    lines.push(`${v.targets.every((t) => t.ok) ? 'PASS' : 'FAIL'} target files`);
    for (const t of v.targets) lines.push(`  ${t.ok ? '✓' : '✗'} ${t.path}: ${t.message}`);
  }
  lines.push(v.ok ? `verified at ${v.at}: everything a TUF client checks holds` : `verification FAILED at ${v.at}`);
  return lines.join('\n');
}
