/** Human renderings of delegation results (stdout). */
import type { DelegationEntry, DelegationOutcome } from '../repository/delegations';
import type { ListedTarget } from '../repository/targets-routing';
import { renderRequest } from './ceremony';
import { renderOperation, table } from './render';

export function renderDelegationOutcome(o: DelegationOutcome, workspace?: string): string {
  if (o.request === undefined) return renderOperation(o.result, workspace);
  const written =
    o.result.written.length > 0 ? `\nwritten now (not yet listed in snapshot): ${o.result.written.join(', ')}` : '';
  const waiting = o.result.roles.filter((r) => !r.complete).map((r) => r.role);
  return `${waiting.length > 0 ? waiting.join(', ') : 'targets'} must be signed by keys that are not here; the change waits in a signing request.${written}\n${renderRequest(o.request)}`;
}

export function renderDelegations(entries: readonly DelegationEntry[]): string {
  const rows: string[][] = [['ROLE', 'VERSION', 'EXPIRES', 'TARGETS', 'THRESHOLD', 'KEYS', 'DELEGATES']];
  for (const e of entries) {
    const indent = '  '.repeat(e.depth);
    const what =
      e.kind === 'targets'
        ? '(top-level)'
        : e.kind === 'bins' && e.bins !== undefined
          ? `${e.bins.count} hash bins ${e.bins.first} … ${e.bins.last} (bit_length ${e.bins.bitLength}, sha256 of the path)`
          : `${(e.paths ?? []).join(' ')}${e.terminating === true ? '  [terminating]' : ''}`;
    rows.push([
      indent + e.name,
      e.version === undefined ? '-' : String(e.version),
      e.expires ?? '-',
      e.targets === undefined ? '-' : String(e.targets),
      String(e.threshold),
      e.keyids.map((k) => k.slice(0, 8)).join(','),
      what,
    ]);
  }
  return table(rows);
}

export function renderTargetList(targets: readonly ListedTarget[]): string {
  return table([
    ['PATH', 'ROLE', 'LENGTH', 'SHA256'],
    ...targets.map((t) => [t.path, t.role, String(t.length), t.sha256 ?? '-']),
  ]);
}
