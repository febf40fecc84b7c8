/**
 * CLI side of ceremonies: the ceremony context (signers, clock, tool
 * version), rendering of requests/status/diffs for people, finding request
 * files on removable media, and the guided `tufsign ceremony` flow. The flow
 * talks through a Prompter, so a test can drive it with scripted answers; the
 * decisions are made by the keyholder use case (src/repository/keyholder-sign.ts).
 * Every string that comes from a file is shown through `safeText`.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { TufsignError } from '../errors';
import { listNames, pathKind } from '../io/fs';
import { parseKeyRef, type KeyRef } from '../keystore/key-ref';
import { openSigner } from '../keystore/registry';
import { consistentSnapshotText, REQUEST_SUFFIX, type RequestStatus, type RoleDiff } from '../ceremony';
import type { CeremonyContext } from '../repository/context';
import type { SignReport } from '../repository/keyholder-sign';
import type { RequestWritten } from '../repository/requests';
import {
  detectKeys,
  openRequest,
  requireFingerprint,
  signChecked,
  unidentifiedKeyFile,
  type CheckedRequest,
  type DetectedKeys,
  type KeyCandidate,
  type KeyLabel,
  type KeySources,
  type KeyholderContext,
  type TrustOptions,
} from '../repository/keyholder-sign';
import type { Workspace } from '../repository/workspace';
import type { RunContext } from './context';
import type { Prompter } from './prompter';
import { table } from './render';
import { safeText } from './safe-text';

export function ceremonyContext(
  run: RunContext,
  baseDir: string,
  ws: Workspace | undefined,
  tool: string,
  /** `--pkcs11-module`: this machine's module, overriding the workspace's */
  pkcs11Module?: string,
): CeremonyContext {
  const sc = run.signingContext(baseDir, ws, pkcs11Module);
  return {
    ...sc,
    tool,
    // No expected key: used only when nothing on this machine tells which key the URI holds before its secret.
    openAnySigner: async (ref) => openSigner(ref, run.openOptions(baseDir, ws, pkcs11Module)),
  };
}

/** Where keyholder trust folders live: TUFSIGN_TRUST_HOME, else ~/.tufsign/trust; `--trust-dir` names one folder directly. */
export function trustOptions(env: NodeJS.ProcessEnv, trustDir: string | undefined): TrustOptions {
  const home = env['TUFSIGN_TRUST_HOME'];
  const trustHome = home !== undefined && home !== '' ? home : join(env['HOME'] ?? homedir(), '.tufsign', 'trust');
  return trustDir !== undefined ? { trustHome, trustDir } : { trustHome };
}

// ------------------------------------------------------------------ rendering

const short = (keyid: string): string => `${keyid.slice(0, 12)}…`;

/** A key's name as shown: this machine's own name plainly, a label from the request quoted, escaped and marked. */
export function renderLabel(label: KeyLabel | undefined): string {
  if (label === undefined) return '';
  return label.verified
    ? ` (${safeText(label.name)})`
    : ` (label "${safeText(label.name)}" from the request, unverified)`;
}

type Labels = ReadonlyMap<string, KeyLabel>;

/** Labels from the request alone (status, merge): all unverified. */
function requestLabels(diffs: readonly RoleDiff[]): Map<string, KeyLabel> {
  const out = new Map<string, KeyLabel>();
  for (const d of diffs)
    for (const k of [...(d.keysAdded ?? []), ...(d.keysRemoved ?? [])])
      if (k.owner !== undefined) out.set(k.keyid, { name: k.owner, verified: false });
  return out;
}

export function renderDiff(diffs: readonly RoleDiff[], labels: Labels = requestLabels(diffs)): string[] {
  const lines: string[] = [];
  for (const d of diffs) {
    const ver = d.versionFrom === undefined ? `v${d.versionTo} (new)` : `v${d.versionFrom} → v${d.versionTo}`;
    const exp =
      d.expiresFrom === undefined || d.expiresFrom === d.expiresTo
        ? `expires ${d.expiresTo}`
        : `expires ${d.expiresFrom} → ${d.expiresTo}`;
    const by = d.delegatedBy === undefined ? '' : ` (delegated by ${safeText(d.delegatedBy)})`;
    lines.push(`${safeText(d.role)}${by} ${ver}, ${exp}`);
    for (const k of d.keysAdded ?? [])
      lines.push(
        `  + key ${short(k.keyid)} ${safeText(k.scheme)}${renderLabel(labels.get(k.keyid))} for ${k.roles.join(', ')}`,
      );
    for (const k of d.keysRemoved ?? [])
      lines.push(
        `  - key ${short(k.keyid)} ${safeText(k.scheme)}${renderLabel(labels.get(k.keyid))} was ${k.roles.join(', ')}`,
      );
    for (const c of d.roleChanges ?? []) {
      if (d.initial) {
        lines.push(`  ${c.role}: threshold ${c.thresholdTo} of ${c.keysAdded.length} key(s)`);
        continue;
      }
      if (c.thresholdFrom !== c.thresholdTo)
        lines.push(`  ${c.role} threshold ${c.thresholdFrom ?? '-'} → ${c.thresholdTo}`);
      for (const k of c.keysAdded) lines.push(`  ${c.role}: + ${short(k)}`);
      for (const k of c.keysRemoved) lines.push(`  ${c.role}: - ${short(k)}`);
    }
    if (d.consistentSnapshot !== undefined)
      lines.push(
        `  consistent_snapshot ${consistentSnapshotText(d.consistentSnapshot.from)} → ${consistentSnapshotText(d.consistentSnapshot.to)}`,
      );
    for (const t of d.targetsAdded ?? [])
      lines.push(`  + ${safeText(t.path)}  ${t.length} bytes  sha256 ${safeText(t.sha256)}`);
    for (const t of d.targetsChanged ?? [])
      lines.push(
        `  ~ ${safeText(t.path)}  ${t.from.length} → ${t.to.length} bytes  sha256 ${safeText(t.from.sha256.slice(0, 16))}… → ${safeText(t.to.sha256)}`,
      );
    for (const t of d.targetsRemoved ?? [])
      lines.push(`  - ${safeText(t.path)}  (${t.length} bytes, sha256 ${safeText(t.sha256.slice(0, 16))}…)`);
    for (const c of d.delegationChanges ?? []) lines.push(`  ! ${safeText(c.message)}`);
    if (d.delegationsChanged === true && (d.delegationChanges ?? []).length === 0)
      lines.push('  ! delegations changed (fields tufsign does not interpret)');
    for (const m of d.metaChanges ?? []) lines.push(`  ${safeText(m.file)}: v${m.from ?? '-'} → v${m.to ?? '-'}`);
    const nothing =
      (d.keysAdded?.length ?? 0) +
        (d.keysRemoved?.length ?? 0) +
        (d.roleChanges?.length ?? 0) +
        (d.targetsAdded?.length ?? 0) +
        (d.targetsChanged?.length ?? 0) +
        (d.targetsRemoved?.length ?? 0) +
        (d.metaChanges?.length ?? 0) ===
      0;
    if (nothing && d.delegationsChanged !== true) lines.push('  (no change besides version and expiry)');
  }
  return lines;
}

export function renderSignatures(status: RequestStatus, labels?: Labels): string[] {
  const lines: string[] = [];
  for (const r of status.roles) {
    for (const s of r.sides) {
      const label =
        r.role === 'root'
          ? `${r.role} (${s.side === 'previous' ? 'previous root' : 'new root'} threshold ${s.threshold})`
          : `${r.role} (threshold ${s.threshold})`;
      if (s.verified) lines.push(`  ✓ ${label}: ${s.signed.length}/${s.threshold} signed`);
      else {
        const who = s.needed.map((n) => {
          const name = labels?.get(n.keyid) ?? (n.owner !== undefined ? { name: n.owner, verified: false } : undefined);
          const serial = n.serial !== undefined ? ` [serial ${safeText(n.serial)}, unverified]` : '';
          return `${short(n.keyid)}${renderLabel(name)}${serial}`;
        });
        lines.push(
          `  ✗ ${label}: ${s.signed.length}/${s.threshold} signed — needs ${s.missing} more from: ${who.join(', ')}`,
        );
      }
    }
  }
  return lines;
}

export function renderRequest(w: RequestWritten & { purpose?: string; repository?: string }, labels?: Labels): string {
  const s = w.status;
  const lines = [
    `request      ${safeText(w.request)}`,
    `repository   ${safeText(s.repository)}   ceremony ${s.ceremonyId.slice(0, 16)}…`,
    `purpose      ${safeText(s.purpose)}   (the organizer's note, unverified)`,
    `FINGERPRINT  ${w.fingerprint}   ← read it aloud; every signer must see the same`,
    '',
    'What is being signed (against the trusted version):',
    ...renderDiff(w.diff, labels).map((l) => '  ' + l),
    '',
    table([
      ['ROLE', 'VERSION', 'EXPIRES', 'FINGERPRINT'],
      ...s.roles.map((r) => [r.role, String(r.version), r.expires, r.fingerprint]),
    ]),
    '',
    'Signatures:',
    ...renderSignatures(s, labels),
    `transcript   ${s.transcript.ok ? `${s.transcript.events} events, chain intact` : `BROKEN: ${safeText(s.transcript.problem ?? '')}`}`,
    s.canFinalize
      ? 'ready to finalize: every threshold is met'
      : `not ready to finalize:\n${s.blockers.map((b) => `  - ${safeText(b)}`).join('\n')}`,
  ];
  return lines.join('\n');
}

/** What the request was checked against; a first contact is a marked block with the root fingerprint to compare. */
export function renderTrust(checked: CheckedRequest): string[] {
  const t = checked.trust;
  const n = checked.request.trustedRoot?.signed.version;
  const chain = t.anchored.chain.length > 0 ? `, verified chain to root v${n ?? '?'}` : '';
  switch (t.source) {
    case 'workspace':
      return [`checked against  this workspace's root v${t.anchored.pinnedVersion ?? '?'}${chain}`];
    case 'trust-dir':
      return [
        `checked against  root v${t.anchored.pinnedVersion ?? '?'} pinned in ${safeText(t.trustDir ?? '')}${chain}`,
      ];
    case 'new-repository':
      return ['checked against  nothing: a new repository (root v1), everything below is new'];
    case 'first-contact': {
      const fc = t.firstContact;
      return [
        '!!! FIRST CONTACT !!!',
        `!!! No root of "${safeText(checked.request.repository)}" is pinned on this machine (${safeText(t.trustDir ?? '')}).`,
        `!!! The change below is shown against root v${fc?.version ?? '?'}, ROOT FINGERPRINT ${fc?.rootFingerprint ?? '?'}.`,
        '!!! Compare it with the organizer out loud; it is pinned only after you confirm (the request fingerprint covers it too).',
      ];
    }
  }
}

/** The marked block at the top of the screen: every dangerous change, before any secret is asked. */
export function renderDangers(checked: CheckedRequest): string[] {
  if (checked.dangers.length === 0) return [];
  return [
    '!!! DANGEROUS CHANGES — check each one with the organizer before you sign:',
    ...checked.dangers.map((d) => `!!!   ${safeText(d.role)}: ${safeText(d.message)}`),
    '',
  ];
}

export function confirmText(checked: CheckedRequest, keys: readonly string[]): string {
  const what = checked.described.status.roles.map((r) => `${r.role} v${r.version}`).join(', ');
  const danger =
    checked.dangers.length > 0
      ? ` INCLUDING ${checked.dangers.length} DANGEROUS CHANGE(S): ${checked.dangers.map((d) => safeText(d.message)).join('; ')} —`
      : '';
  return `Sign ${what}${danger} (fingerprint ${checked.fingerprint}) with ${keys.map(safeText).join(', ')}?`;
}

export function renderSignReport(r: SignReport & { pinned?: string }): string {
  const lines = [
    ...r.added.map(
      (a) =>
        `signed ${a.role} with ${safeText(a.uri)} (${short(a.keyid)}), verified and saved to ${safeText(r.request)}`,
    ),
  ];
  for (const u of r.unchanged) lines.push(`${u.role}: already signed by ${short(u.keyid)} — nothing added`);
  lines.push(`fingerprint ${r.fingerprint}`, ...renderSignatures(r.status));
  lines.push(r.status.canFinalize ? 'ready to finalize' : 'more signatures needed');
  if (r.pinned !== undefined) lines.push(`trusted root pinned in ${safeText(r.pinned)}`);
  return lines.join('\n');
}

// ------------------------------------------------------------------ finding requests

export const REMOVABLE_MEDIA = ['/media', '/run/media', '/mnt'];

/** `*.tufsign-request.json` under the given folders (removable media: a few levels deep; never hidden or temp files). */
export function findRequestFiles(dirs: readonly string[], maxDepth = 3): string[] {
  const found = new Set<string>();
  const visit = (dir: string, depth: number): void => {
    // a folder that cannot be listed, or an entry that cannot be stat'ed, is passed over
    for (const e of listNames(dir).sort()) {
      if (e.startsWith('.')) continue;
      const full = join(dir, e);
      const kind = pathKind(full, true);
      if (kind === 'missing') continue;
      if (kind === 'directory') {
        if (depth < maxDepth) visit(full, depth + 1);
      } else if (e.endsWith(REQUEST_SUFFIX)) found.add(resolve(full));
    }
  };
  for (const d of dirs) visit(d, 0);
  return [...found];
}

// ------------------------------------------------------------------ guided flow

export interface GuidedDeps extends Omit<KeySources, 'keyFlags' | 'baseDir'> {
  prompter: Prompter;
  /** people-facing output (stderr) */
  say(text: string): void;
  yes: boolean;
  /** the fingerprint given on the command line (unattended runs) */
  fingerprint?: string;
  /** folders to search for request files */
  searchDirs: string[];
  keyFlags: string[];
  ctx: KeyholderContext;
  trust: TrustOptions;
}

export interface GuidedResult {
  request: string;
  fingerprint: string;
  signed: SignReport & { pinned?: string };
  candidates: KeyCandidate[];
}

async function chooseRequest(deps: GuidedDeps, requestArg: string | undefined): Promise<string> {
  if (requestArg !== undefined) return requestArg;
  const found = findRequestFiles(deps.searchDirs);
  if (found.length === 0) {
    throw new TufsignError('USAGE', `no *${REQUEST_SUFFIX} found in ${deps.searchDirs.join(', ')}`, {
      suggestion: 'Plug in the USB stick with the request, or pass its path: tufsign ceremony REQUEST',
    });
  }
  const only = found[0];
  if (found.length === 1 && only !== undefined) return only;
  if (!deps.prompter.interactive)
    throw new TufsignError('USAGE', `several requests found (${found.map(safeText).join(', ')}); name one`, {
      suggestion: 'tufsign ceremony REQUEST',
    });
  return deps.prompter.select(
    'Which request do you want to sign?',
    found.map((f) => ({ value: f, name: safeText(f) })),
  );
}

function nothingUsable(checked: CheckedRequest, detected: DetectedKeys, deps: GuidedDeps): TufsignError {
  if (detected.alreadySigned.length > 0) {
    const who = detected.alreadySigned.map((c) => `${safeText(c.ref.uri)}${renderLabel(c.owner)}`).join(', ');
    return new TufsignError(
      'NOTHING_SIGNED',
      `the key(s) here already signed everything they can in this request: ${who}`,
      {
        file: checked.path,
        rule: 'signing twice adds nothing',
        suggestion: 'Hand the request back to the organizer.',
      },
    );
  }
  const looked =
    deps.keyFlags.length > 0
      ? 'the keys you named with --key'
      : "the keys in this folder's workspace, the key files in its keys/ folder, the YubiKeys plugged in here and the tokens of the PKCS#11 module this machine names";
  return new TufsignError('NOTHING_SIGNED', `none of ${looked} can sign anything in this request`, {
    file: checked.path,
    rule: "only keys named on this machine are used; the request's hints are never opened",
    suggestion:
      "If your key is a file, name it: tufsign ceremony REQUEST --key file:PATH/TO/KEY.pem (a token: --key 'pkcs11:…', a YubiKey: --key 'yubikey:serial=…;slot=9c', quoted).",
    // what keys/ held that was not looked at (a symlink, a FIFO, an oversized public part)
    ...(detected.skipped.length > 0 ? { details: { skipped: detected.skipped } } : {}),
  });
}

/**
 * The guided flow: choose the request, show it, find the keys here, compare
 * the fingerprint the organizer reads out, confirm, sign. It ends with an
 * error (non-zero exit) whenever nothing was signed.
 */
export async function runGuidedCeremony(deps: GuidedDeps, requestArg?: string): Promise<GuidedResult> {
  const prompter = deps.prompter;
  const say = (text: string): void => deps.say(text);
  const path = await chooseRequest(deps, requestArg);
  const checked = openRequest(path, deps.workspace, deps.ctx, deps.trust);
  say([...renderDangers(checked), ...renderTrust(checked)].join('\n'));
  say(renderRequest(checked.described, checked.labels));
  say('');
  const detected = await detectKeys(checked, {
    ...deps,
    // `--key` text becomes a KeyRef here, once (after the request was found, as a bad --key always failed)
    keyFlags: deps.keyFlags.map((k) => parseKeyRef(k)),
    baseDir: deps.workspace?.dir ?? process.cwd(),
  });
  for (const c of detected.alreadySigned)
    say(`already signed: ${safeText(c.ref.uri)}${renderLabel(c.owner)} — not offered again`);
  for (const entry of detected.skipped) say(`${safeText(entry.name)}: ${safeText(entry.why)} — not looked at`);
  for (const c of detected.unidentified)
    say(
      `key file ${safeText(c.ref.uri)}: nothing here says which key it holds (no public part beside it) — not offered`,
    );
  const useful = detected.usable;
  if (useful.length === 0) {
    const first = detected.unidentified[0];
    if (first?.ref.backend === 'file') throw unidentifiedKeyFile(first.ref, deps.ctx.keyBaseDir, checked.path);
    throw nothingUsable(checked, detected, deps);
  }
  for (const c of useful)
    say(
      `key available: ${safeText(c.ref.uri)}${renderLabel(c.owner)}${c.keyid !== '' ? ` can sign ${c.roles.join(', ')}${c.stillNeeded ? '' : ' (threshold already met)'}` : ''}`,
    );
  let chosen: KeyRef[];
  if (useful.length === 1 || !prompter.interactive) chosen = useful.map((c) => c.ref);
  else {
    const pick = await prompter.select('Sign with which key?', [
      ...useful.map((c) => ({ value: c.ref.uri, name: `${safeText(c.ref.uri)}${renderLabel(c.owner)}` })),
      { value: '*', name: 'all of them' },
    ]);
    chosen = useful.filter((c) => pick === '*' || c.ref.uri === pick).map((c) => c.ref);
  }
  let typed: string;
  if (deps.fingerprint !== undefined) typed = deps.fingerprint;
  else {
    if (!prompter.interactive) {
      throw new TufsignError('NO_TTY', 'signing needs the fingerprint comparison and there is no terminal', {
        rule: 'no prompts without a TTY',
        suggestion:
          'Pass the fingerprint the organizer reads out: tufsign ceremony REQUEST --key URI --fingerprint VALUE --yes',
      });
    }
    typed = await prompter.input('Type the fingerprint the organizer reads out');
  }
  // Compared before the confirmation, so nothing is asked about a request that does not match.
  const check = { typed };
  requireFingerprint(checked, check);
  const fc = checked.trust.firstContact;
  if (fc !== undefined && !deps.yes) {
    const pin = await prompter.confirm(
      `First contact: trust root v${fc.version} of "${safeText(checked.request.repository)}" (root fingerprint ${fc.rootFingerprint}) from now on?`,
      false,
    );
    if (!pin)
      throw new TufsignError('ABORTED', 'not signed: you did not confirm the first contact', {
        rule: 'a first contact is confirmed explicitly',
      });
  }
  if (!deps.yes) {
    const ok = await prompter.confirm(
      confirmText(
        checked,
        chosen.map((r) => r.uri),
      ),
      false,
    );
    if (!ok)
      throw new TufsignError('ABORTED', 'not signed: you declined', { rule: 'explicit confirmation before signing' });
  }
  const signed = await signChecked(checked, chosen, check, deps.workspace, deps.ctx, true);
  if (signed.added.length === 0) {
    throw new TufsignError('NOTHING_SIGNED', 'no signature was added: the key(s) had signed already', {
      file: path,
      rule: 'signing twice adds nothing',
      suggestion: 'Hand the request back to the organizer.',
    });
  }
  return {
    request: path,
    fingerprint: checked.fingerprint,
    signed,
    candidates: [...useful, ...detected.alreadySigned],
  };
}
