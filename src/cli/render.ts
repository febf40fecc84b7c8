/** Human renderings of core results (stdout). Under --json the result objects are printed instead. */
import type { DeviceReport } from '../keystore/backend';
import { humanRule } from './envelope';
import type { OperationResult } from '../repository/outcome';
import type { RepositoryStatus } from '../repository/status';
import type { VerifyReport } from '../verify/verify';

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

/** A path as one shell word, so the printed command runs as copied. */
function shellWord(path: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** Tells people how to publish what a command changed (`tufsign publish`, ADR 0013), with the workspace as typed. */
export function publishHint(workspace: string): string {
  return `changed files are in ${workspace}/metadata and ${workspace}/targets; publish them: tufsign publish -w ${shellWord(workspace)} DEST (targets first, timestamp.json last)`;
}

/** The same for an upload bundle a command wrote. */
export function bundlePublishHint(bundle: string): string {
  return `publish it: tufsign publish ${shellWord(bundle)} DEST (targets first, timestamp.json last)`;
}

/** `workspace`: add the publish hint when everything is signed. */
export function renderOperation(result: OperationResult, workspace?: string): string {
  const lines: string[] = [];
  for (const r of result.roles) {
    const mark = r.complete ? 'ok ' : '!! ';
    const prev =
      r.previousResult !== undefined
        ? `, previous root ${r.previousResult.signed.length}/${r.previousResult.threshold}`
        : '';
    const where =
      r.deferred === true
        ? 'waits in the signing request, not written'
        : r.unchanged === true
          ? 'unchanged: every signature was already there'
          : r.files.length === 0
            ? 'not written'
            : r.files.join(', ');
    lines.push(
      `${mark}${r.role} v${r.version} expires ${r.expires}: ${r.result.signed.length}/${r.result.threshold} signatures${prev}  (${where})`,
    );
    for (const m of r.missing) {
      if (r.complete) continue;
      lines.push(
        `     missing: ${m.keyid}${m.owner !== undefined ? ` (${m.owner})` : ''}${m.uri !== undefined ? ` ${m.uri}` : ' — key held elsewhere'}`,
      );
    }
  }
  if (!result.complete)
    lines.push(
      'Some roles are not yet signed by their threshold: collect the missing signatures with `tufsign ceremony`.',
    );
  else if (result.roles.length > 0 && result.roles.every((r) => r.unchanged === true))
    lines.push('nothing to sign: nothing was written and there is nothing new to publish');
  else if (workspace !== undefined) lines.push(publishHint(workspace));
  return lines.join('\n');
}

/** Time left for people: EXPIRED, minutes or hours under a day, whole days otherwise. */
export function timeLeft(secondsLeft: number): string {
  if (secondsLeft <= 0) return 'EXPIRED';
  if (secondsLeft < 3600) return `${Math.floor(secondsLeft / 60)} min`;
  if (secondsLeft < 86400) return `${Math.floor(secondsLeft / 3600)} h`;
  return `${Math.floor(secondsLeft / 86400)} d`;
}

export function renderStatus(s: RepositoryStatus): string {
  const rows: string[][] = [
    ['ROLE', 'VERSION', 'EXPIRES', 'LEFT', 'RESIGN BY', 'THRESHOLD', 'SIGNED', 'KEYS (keyid owner backend)'],
  ];
  for (const r of s.roles) {
    const keys = r.keys.map(
      (k) =>
        `${k.keyid.slice(0, 12)} ${k.owner ?? '-'} ${k.backend}${k.attestation === null ? '' : ` ${k.attestation === 'attested' ? 'attested' : 'unattested claims'}`}${k.signed ? '' : ' (unsigned)'}`,
    );
    const resign = `${r.resignBy}${r.state === 'due' ? ' NOW' : ''}`;
    const name =
      r.bins !== undefined
        ? `${r.role} (${r.bins} bins)`
        : r.parent !== undefined
          ? `${r.role} (from ${r.parent})`
          : r.role;
    rows.push([
      name,
      String(r.version),
      r.expires,
      timeLeft(r.secondsLeft),
      resign,
      String(r.threshold),
      `${r.validSignatures}/${r.threshold}`,
      keys[0] ?? '',
    ]);
    for (const k of keys.slice(1)) rows.push(['', '', '', '', '', '', '', k]);
  }
  const near = s.nearLimit.map(
    (f) =>
      `\nNEAR LIMIT ${f.file}: ${f.size} of ${f.limit} bytes (${Math.round(f.ratio * 100)}%) — clients refuse ${f.type} metadata over ${f.limit} bytes; delegate or add bins`,
  );
  const offline = s.offlineKeyFilesHere.map(
    (k) =>
      `\nOFFLINE KEY HERE ${k.uri} (${k.keyid.slice(0, 12)}): move it to its keyholder or replace it with a YubiKey; until then this machine can sign with it`,
  );
  return (
    `${s.name} (${s.workspace}), consistent snapshots ${s.consistentSnapshot ? 'on' : 'off'}, at ${s.at}\n` +
    table(rows) +
    near.join('') +
    offline.join('')
  );
}

export function renderVerify(v: VerifyReport): string {
  const lines: string[] = [];
  for (const r of v.roles) {
    lines.push(
      `${r.ok ? 'PASS' : 'FAIL'} ${r.role}${r.version !== undefined ? ` v${r.version}` : ''}${r.file !== undefined ? ` (${r.file})` : ''}`,
    );
    for (const c of r.checks) {
      // the rule as people read it (no internal catalogue IDs); --json keeps the full rule
      const rule = c.ok ? '' : humanRule(c.rule);
      lines.push(`  ${c.ok ? '✓' : '✗'} ${c.message}${rule !== '' ? ` [${rule}]` : ''}`);
    }
  }
  if (v.targets.length > 0) {
    lines.push(`${v.targets.every((t) => t.ok) ? 'PASS' : 'FAIL'} target files`);
    for (const t of v.targets) lines.push(`  ${t.ok ? '✓' : '✗'} ${t.path}: ${t.message}`);
  }
  for (const f of v.nearLimit)
    lines.push(
      `NEAR LIMIT ${f.file}: ${f.size} of ${f.limit} bytes (${Math.round(f.ratio * 100)}%); delegate or add bins before clients refuse it`,
    );
  lines.push(v.ok ? `verified at ${v.at}: everything a TUF client checks holds` : `verification FAILED at ${v.at}`);
  return lines.join('\n');
}

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const asList = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(asObj) : []);
const str = (v: unknown, fallback = '?'): string =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : fallback;

/** `tufsign devices` for people: modules → slots → tokens → keys; YubiKeys with serial, firmware, slots and retries. */
export function renderDevices(reports: readonly DeviceReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(
      `${r.backend === 'pkcs11' ? 'PKCS#11 modules' : 'YubiKeys (PIV over PC/SC)'}: ${r.available ? `${r.devices.length} found` : 'unavailable'}`,
    );
    for (const d of r.devices) {
      if (r.backend === 'pkcs11') {
        lines.push(
          `  ${str(d['name'], str(d['module']))} (${str(d['module'])})${d['loaded'] === false ? ' — not loaded' : ''}`,
        );
        for (const slot of asList(d['slots'])) {
          const t = slot['token'] === undefined ? undefined : asObj(slot['token']);
          if (t === undefined) {
            lines.push(`    slot ${str(slot['slotId'], '-')}: ${str(slot['description'], '')} (no token)`);
            continue;
          }
          const flags = asObj(t['flags']);
          if (flags['tokenInitialized'] === false) {
            lines.push(`    slot ${str(slot['slotId'], '-')}: uninitialized token`);
            continue;
          }
          const warn = [
            flags['pinLocked'] === true ? 'PIN LOCKED' : '',
            flags['pinFinalTry'] === true ? 'PIN FINAL TRY' : '',
            flags['pinCountLow'] === true ? 'PIN count low' : '',
          ].filter((x) => x !== '');
          lines.push(
            `    token "${str(t['label'])}" serial ${str(t['serial'])} ${str(t['model'], '')}${warn.length > 0 ? ` [${warn.join(', ')}]` : ''}; can sign: ${(Array.isArray(t['signingSchemes']) ? t['signingSchemes'] : []).join(', ') || 'nothing tufsign uses'}`,
          );
          for (const k of asList(t['keys'])) {
            lines.push(
              `      ${k['usable'] === true ? '✓' : '✗'} ${str(k['scheme'], 'unknown')} keyid ${str(k['keyid'], '-').slice(0, 16)}  ${str(k['uri'], '')}`,
            );
          }
        }
      } else {
        const retries = `PIN ${str(d['pinRetries'])} tries left, PUK ${str(d['pukRetries'])}`;
        const defaults = [
          d['defaultPin'] === true ? 'default PIN' : '',
          d['defaultManagementKey'] === true ? 'default management key' : '',
        ].filter((x) => x !== '');
        if (d['error'] !== undefined) {
          lines.push(`  ${str(d['reader'])}: ${str(d['error'])}`);
          continue;
        }
        lines.push(
          `  YubiKey ${str(d['serial'])} firmware ${str(d['firmware'])}${d['formFactor'] !== undefined ? ` (${str(d['formFactor'])})` : ''}: ${retries}${defaults.length > 0 ? ` — STILL SET: ${defaults.join(', ')}` : ''}`,
        );
        for (const s of asList(d['slots'])) {
          lines.push(
            `    slot ${str(s['slot'])}: ${str(s['algorithm'])} ${str(s['origin'], '')}, PIN ${str(s['pinPolicy'], '-')}, touch ${str(s['touchPolicy'], '-')}  yubikey:serial=${str(d['serial'])};slot=${str(s['slot'])}`,
          );
        }
      }
    }
    for (const p of r.problems) lines.push(`  ! ${p.message}\n    → ${p.suggestion}`);
  }
  return lines.join('\n');
}
