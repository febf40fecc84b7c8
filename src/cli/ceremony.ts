/**
 * CLI side of ceremonies: the ceremony context (signers, clock, tool
 * version), rendering of requests/status/diffs for people, finding request
 * files on removable media, and the guided `tufsign ceremony` flow. The flow
 * talks through a Prompter, so a test can drive it with scripted answers.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TufsignError } from '../errors';
import { backendFor } from '../keystore/registry';
import { backendOfUri } from '../keystore/signer';
import { REQUEST_SUFFIX, signableBy, type RequestStatus, type RoleDiff } from '../ceremony';
import { checkBelongs, readRequestFile, requestStatusFile, signRequestFile, type CeremonyContext, type RequestWritten, type SignReport } from '../repository/ceremony';
import { filePathOfUri } from '../keystore/file';
import type { Workspace } from '../repository/workspace';
import type { Key } from '../tuf/key';
import type { RunContext } from './context';
import type { Prompter } from './prompter';
import { table } from './render';
import { fileExists } from '../io/fs';

export function ceremonyContext(run: RunContext, baseDir: string, ws: Workspace | undefined, tool: string): CeremonyContext {
  const sc = run.signingContext(baseDir, ws);
  return {
    ...sc,
    tool,
    // No expected key: used only when neither the workspace nor the request maps this URI to a keyid.
    openAnySigner: (uri) => backendFor(uri).open(uri, run.openOptions(baseDir, ws)),
  };
}

// ------------------------------------------------------------------ rendering

const short = (keyid: string): string => `${keyid.slice(0, 12)}…`;

export function renderDiff(diffs: readonly RoleDiff[]): string[] {
  const lines: string[] = [];
  for (const d of diffs) {
    const ver = d.versionFrom === undefined ? `v${d.versionTo} (new)` : `v${d.versionFrom} → v${d.versionTo}`;
    const exp = d.expiresFrom === undefined || d.expiresFrom === d.expiresTo ? `expires ${d.expiresTo}` : `expires ${d.expiresFrom} → ${d.expiresTo}`;
    lines.push(`${d.role} ${ver}, ${exp}`);
    for (const k of d.keysAdded ?? []) lines.push(`  + key ${short(k.keyid)} ${k.scheme}${k.owner !== undefined ? ` (${k.owner})` : ''} for ${k.roles.join(', ')}`);
    for (const k of d.keysRemoved ?? []) lines.push(`  - key ${short(k.keyid)} ${k.scheme}${k.owner !== undefined ? ` (${k.owner})` : ''} was ${k.roles.join(', ')}`);
    for (const c of d.roleChanges ?? []) {
      if (d.initial) {
        lines.push(`  ${c.role}: threshold ${c.thresholdTo} of ${c.keysAdded.length} key(s)`);
        continue;
      }
      if (c.thresholdFrom !== c.thresholdTo) lines.push(`  ${c.role} threshold ${c.thresholdFrom ?? '-'} → ${c.thresholdTo}`);
      for (const k of c.keysAdded) lines.push(`  ${c.role}: + ${short(k)}`);
      for (const k of c.keysRemoved) lines.push(`  ${c.role}: - ${short(k)}`);
    }
    if (d.consistentSnapshot !== undefined) lines.push(`  consistent_snapshot ${d.consistentSnapshot.from === undefined ? '(unset, i.e. false)' : String(d.consistentSnapshot.from)} → ${String(d.consistentSnapshot.to)}`);
    for (const t of d.targetsAdded ?? []) lines.push(`  + ${t.path}  ${t.length} bytes  sha256 ${t.sha256}`);
    for (const t of d.targetsChanged ?? []) lines.push(`  ~ ${t.path}  ${t.from.length} → ${t.to.length} bytes  sha256 ${t.from.sha256.slice(0, 16)}… → ${t.to.sha256}`);
    for (const t of d.targetsRemoved ?? []) lines.push(`  - ${t.path}  (${t.length} bytes, sha256 ${t.sha256.slice(0, 16)}…)`);
    if (d.delegationsChanged === true) lines.push('  ! delegations changed');
    for (const m of d.metaChanges ?? []) lines.push(`  ${m.file}: v${m.from ?? '-'} → v${m.to ?? '-'}`);
    const nothing = (d.keysAdded?.length ?? 0) + (d.keysRemoved?.length ?? 0) + (d.roleChanges?.length ?? 0) + (d.targetsAdded?.length ?? 0) + (d.targetsChanged?.length ?? 0) + (d.targetsRemoved?.length ?? 0) + (d.metaChanges?.length ?? 0) === 0;
    if (nothing && d.delegationsChanged !== true) lines.push('  (no change besides version and expiry)');
  }
  return lines;
}

export function renderSignatures(status: RequestStatus): string[] {
  const lines: string[] = [];
  for (const r of status.roles) {
    for (const s of r.sides) {
      const label = r.role === 'root' ? `${r.role} (${s.side === 'previous' ? 'previous root' : 'new root'} threshold ${s.threshold})` : `${r.role} (threshold ${s.threshold})`;
      if (s.verified) lines.push(`  ✓ ${label}: ${s.signed.length}/${s.threshold} signed`);
      else {
        const who = s.needed.map((n) => `${n.owner ?? short(n.keyid)}${n.serial !== undefined ? ` [serial ${n.serial}]` : ''} ${short(n.keyid)}`);
        lines.push(`  ✗ ${label}: ${s.signed.length}/${s.threshold} signed — needs ${s.missing} more from: ${who.join(', ')}`);
      }
    }
  }
  return lines;
}

export function renderRequest(w: RequestWritten & { purpose?: string; repository?: string }): string {
  const s = w.status;
  const lines = [
    `request      ${w.request}`,
    `repository   ${s.repository}   ceremony ${s.ceremonyId.slice(0, 16)}…`,
    `purpose      ${s.purpose}`,
    `FINGERPRINT  ${w.fingerprint}   ← read it aloud; every signer must see the same`,
    '',
    'What is being signed (against the trusted version):',
    ...renderDiff(w.diff).map((l) => '  ' + l),
    '',
    table([['ROLE', 'VERSION', 'EXPIRES', 'FINGERPRINT'], ...s.roles.map((r) => [r.role, String(r.version), r.expires, r.fingerprint])]),
    '',
    'Signatures:',
    ...renderSignatures(s),
    `transcript   ${s.transcript.ok ? `${s.transcript.events} events, chain intact` : `BROKEN: ${s.transcript.problem ?? ''}`}`,
    s.canFinalize ? 'ready to finalize: every threshold is met' : `not ready to finalize:\n${s.blockers.map((b) => `  - ${b}`).join('\n')}`,
  ];
  return lines.join('\n');
}

export function renderSignReport(r: SignReport): string {
  const lines = [...r.added.map((a) => `signed ${a.role} with ${a.uri} (${short(a.keyid)}), verified and saved to ${r.request}`)];
  for (const u of r.unchanged) lines.push(`${u.role}: already signed by ${short(u.keyid)} — nothing added`);
  lines.push(`fingerprint ${r.fingerprint}`, ...renderSignatures(r.status));
  lines.push(r.status.canFinalize ? 'ready to finalize' : 'more signatures needed');
  return lines.join('\n');
}

// ------------------------------------------------------------------ finding requests

export const REMOVABLE_MEDIA = ['/media', '/run/media', '/mnt'];

/** `*.tufsign-request.json` under the given folders (removable media: a few levels deep; never hidden or temp files). */
export function findRequestFiles(dirs: readonly string[], maxDepth = 3): string[] {
  const found = new Set<string>();
  const visit = (dir: string, depth: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries.sort()) {
      if (e.startsWith('.')) continue;
      const full = join(dir, e);
      let isDir = false;
      try {
        isDir = statSync(full).isDirectory();
      } catch {
        continue;
      }
      if (isDir) {
        if (depth < maxDepth) visit(full, depth + 1);
      } else if (e.endsWith(REQUEST_SUFFIX)) found.add(resolve(full));
    }
  };
  for (const d of dirs) visit(d, 0);
  return [...found];
}

// ------------------------------------------------------------------ guided flow

export interface KeyCandidate {
  uri: string;
  keyid: string;
  owner?: string;
  roles: string[];
  stillNeeded: boolean;
  source: 'flag' | 'workspace' | 'request' | 'device';
}

export interface GuidedDeps {
  prompter: Prompter;
  /** people-facing output (stderr) */
  say(text: string): void;
  yes: boolean;
  /** folders to search for request files */
  searchDirs: string[];
  workspace?: Workspace;
  keyFlags: string[];
  ctx: CeremonyContext;
  /** read the public key behind a URI without a PIN, or undefined when the device/file is not here */
  probe(uri: string): Promise<Key | undefined>;
}

export interface GuidedResult {
  request: string;
  fingerprint: string;
  signed: SignReport | null;
  candidates: KeyCandidate[];
}

/** Which keys here can sign something in the request: --key URIs, the workspace's keys, devices named in the request. */
export async function detectKeys(path: string, deps: Pick<GuidedDeps, 'workspace' | 'keyFlags' | 'probe'>): Promise<KeyCandidate[]> {
  const req = readRequestFile(path);
  const out: KeyCandidate[] = [];
  const consider = async (uri: string, source: KeyCandidate['source'], keyid?: string, owner?: string): Promise<void> => {
    if (out.some((c) => c.uri === uri)) return;
    let id = keyid;
    if (backendOfUri(uri) === 'file') {
      const base = deps.workspace?.dir ?? process.cwd();
      if (!fileExists(filePathOfUri(uri, base))) return;
    } else {
      const key = await deps.probe(uri);
      if (key === undefined) return;
      if (id !== undefined && key.keyid() !== id) return; // another key is in that slot/token
      id = key.keyid();
    }
    if (id === undefined) {
      out.push({ uri, keyid: '', roles: [], stillNeeded: true, source });
      return;
    }
    const roles = signableBy(req, id);
    if (roles.length === 0) return;
    const c: KeyCandidate = { uri, keyid: id, roles: roles.map((r) => r.role), stillNeeded: roles.some((r) => r.stillNeeded), source };
    if (owner !== undefined) c.owner = owner;
    out.push(c);
  };
  const todo: [string, KeyCandidate['source'], string?, string?][] = [];
  for (const uri of deps.keyFlags) todo.push([uri, 'flag']);
  for (const [keyid, e] of deps.workspace?.config.keys ?? []) if (e.uri !== undefined) todo.push([e.uri, 'workspace', keyid, e.owner]);
  for (const [keyid, kh] of req.keyholders) if (kh.uri !== undefined && backendOfUri(kh.uri) !== 'file') todo.push([kh.uri, 'request', keyid, kh.owner]);
  // YubiKeys before PKCS#11 tokens: once loaded, ykcs11/OpenSC hold the card readers.
  const order = (uri: string): number => ({ yubikey: 0, pkcs11: 1 })[backendOfUri(uri) as 'yubikey' | 'pkcs11'] ?? 2;
  todo.sort((a, b) => order(a[0]) - order(b[0]));
  for (const [uri, source, keyid, owner] of todo) await consider(uri, source, keyid, owner);
  return out;
}

export async function runGuidedCeremony(deps: GuidedDeps, requestArg?: string): Promise<GuidedResult> {
  const prompter = deps.prompter;
  const say = (text: string): void => deps.say(text);
  let chosenPath = requestArg;
  if (chosenPath === undefined) {
    const found = findRequestFiles(deps.searchDirs);
    if (found.length === 0) {
      throw new TufsignError('USAGE', `no *${REQUEST_SUFFIX} found in ${deps.searchDirs.join(', ')}`, {
        suggestion: 'Plug in the USB stick with the request, or pass its path: tufsign ceremony REQUEST',
      });
    }
    if (found.length === 1 || !prompter.interactive) {
      if (found.length > 1) throw new TufsignError('USAGE', `several requests found (${found.join(', ')}); name one`, { suggestion: 'tufsign ceremony REQUEST' });
      chosenPath = found[0];
    } else {
      chosenPath = await prompter.select('Which request do you want to sign?', found.map((f) => ({ value: f, name: f })));
    }
  }
  if (chosenPath === undefined) throw new TufsignError('USAGE', 'no request chosen', { suggestion: 'tufsign ceremony REQUEST' });
  const path = chosenPath;
  const described = requestStatusFile(path, deps.workspace, deps.ctx);
  if (deps.workspace !== undefined) checkBelongs(deps.workspace, readRequestFile(path), path, false);
  say(renderRequest(described));
  say('');
  const candidates = await detectKeys(path, deps);
  const useful = candidates.filter((c) => c.keyid === '' || c.roles.length > 0);
  if (useful.length === 0) {
    say('None of the keys found here (--key, workspace keys, plugged-in devices named in the request) can sign anything this request still needs.');
    return { request: path, fingerprint: described.fingerprint, signed: null, candidates };
  }
  for (const c of useful) say(`key available: ${c.uri}${c.owner !== undefined ? ` (${c.owner})` : ''}${c.keyid !== '' ? ` can sign ${c.roles.join(', ')}${c.stillNeeded ? '' : ' (threshold already met)'}` : ''}`);
  let chosen: string[];
  if (useful.length === 1 || !prompter.interactive) chosen = useful.map((c) => c.uri);
  else {
    const pick = await prompter.select('Sign with which key?', [...useful.map((c) => ({ value: c.uri, name: `${c.uri}${c.owner !== undefined ? ` (${c.owner})` : ''}` })), { value: '*', name: 'all of them' }]);
    chosen = pick === '*' ? useful.map((c) => c.uri) : [pick];
  }
  if (!deps.yes) {
    if (!prompter.interactive) throw new TufsignError('NO_TTY', 'signing needs confirmation and there is no terminal', { rule: 'no prompts without a TTY', suggestion: 'Use `tufsign ceremony sign REQUEST --key URI --yes` for unattended signing.' });
    const fp = await prompter.input(`Type the fingerprint the organizer read out (or press Enter to skip the check; yours is ${described.fingerprint})`, '');
    if (fp.trim() !== '' && fp.trim().toUpperCase().replace(/[^0-9A-Z]/g, '') !== described.fingerprint.replace(/-/g, '')) {
      throw new TufsignError('ABORTED', `the fingerprint you typed does not match this request (${described.fingerprint}): do not sign`, { rule: 'signers compare the fingerprint out loud' });
    }
    const ok = await prompter.confirm(`Sign ${described.status.roles.map((r) => `${r.role} v${r.version}`).join(', ')} (fingerprint ${described.fingerprint}) with ${chosen.join(', ')}?`, false);
    if (!ok) throw new TufsignError('ABORTED', 'not signed: you declined', { rule: 'explicit confirmation before signing' });
  }
  const signed = await signRequestFile(path, chosen, deps.workspace, deps.ctx);
  return { request: path, fingerprint: described.fingerprint, signed, candidates };
}
