/**
 * The keyholder's use case: sign a request that arrived on a USB stick.
 *
 * Everything on the stick is untrusted input. The request is read and
 * checked ONCE (`openRequest`) into a `CheckedRequest`; every later step
 * (labels, key detection, signing) works on that value. What this machine
 * probes, loads or opens comes only from its own flags, environment and
 * workspace: no URI, module path or file path from the request is ever used
 * (a `pkcs11:…?module-path=/media/usb/evil.so` in the request's keyholder
 * hints would otherwise run code on the air-gapped laptop).
 */
import { TufsignError, isTufsignError } from '../errors';
import { fileExists } from '../io/fs';
import { keyFilePath, type FileKeyRef, type KeyRef } from '../keystore/key-ref';
import type { Signer } from '../keystore/signer';
import {
  addSignatures,
  anchorRequest,
  checkExpiryPolicy,
  dangerousChanges,
  olderVoucherDangers,
  unauthorisedRoles,
  roleFingerprint,
  signedSha256,
  planFor,
  planKey,
  planKeyidsOf,
  requestFingerprint,
  requestStatus,
  requireIntact,
  signableBy,
  type AnchoredRequest,
  type DangerousChange,
  type MaxExpiry,
  type RequestStatus,
  type SignatureInput,
  type SigningRequest,
  type TrustAnchor,
} from '../ceremony';
import type { Key } from '../tuf/key';
import type { Metadata, Root } from '../tuf/metadata';
import { TOP_LEVEL_ROLES } from '../tuf/metadata';
import { DEFAULT_MAX_EXPIRY } from './config';
import { loadPinnedRoot, loadTrustPolicy, savePinnedRoot, trustDirFor } from './keyholder-trust';
import type { CeremonyContext } from './context';
import { minValiditySeconds } from './expiry';
import {
  checkBelongs,
  currentState,
  describeRequest,
  publishedTargetsRoles,
  readRequestFile,
  serialOfRef,
  writeRequestFile,
  type RequestWritten,
} from './requests';
import type { Workspace } from './workspace';
import { keyBeforeSecret, publicPartPath, scanKeyFolder } from './key-identity';

export interface SignReport {
  request: string;
  fingerprint: string;
  added: { role: string; keyid: string; uri: string }[];
  /** roles this key had already signed: nothing added */
  unchanged: { role: string; keyid: string; uri: string }[];
  status: RequestStatus;
}

/** Advice for the keyholder (not the organizer) when the copy on the stick was altered. */
export const TAMPERED_COPY_ADVICE =
  'This copy was altered after it was made: do not use it. Get a fresh copy of the request from the organizer.';

/** A request read once from the stick and checked: parsed strictly, intact, and (with a workspace) belonging to it. */
export interface CheckedRequest {
  readonly path: string;
  readonly request: SigningRequest;
  readonly fingerprint: string;
  /** what the screen shows: status and diff, computed from the checked request */
  readonly described: RequestWritten & { repository: string; purpose: string };
  /** names for keys: from this machine's own state first, else the request's unverified labels */
  readonly labels: ReadonlyMap<string, KeyLabel>;
  /** what the request was checked against: the workspace, the trust folder's pin, or a first contact to confirm */
  readonly trust: TrustState;
  /** changes shouted before any secret is asked (from the anchored diff) */
  readonly dangers: readonly DangerousChange[];
  /** the longest validity signed per role: tufsign.json or the trust folder's policy.json over the defaults */
  readonly maxExpiry: MaxExpiry;
}

function maxExpiryFor(ws: Workspace | undefined, trustDir: string | undefined): MaxExpiry {
  const overrides =
    ws !== undefined ? (ws.config.maxExpiry ?? {}) : trustDir !== undefined ? loadTrustPolicy(trustDir) : {};
  const out = {} as MaxExpiry;
  for (const role of TOP_LEVEL_ROLES) out[role] = (overrides[role] ?? DEFAULT_MAX_EXPIRY[role]).seconds;
  return out;
}

export interface TrustState {
  source: TrustAnchor['source'] | 'new-repository';
  anchored: AnchoredRequest;
  /** trust folder (no workspace): where the pin is kept */
  trustDir?: string;
  /** first contact: the root to pin once the keyholder confirmed it (its fingerprint compared out loud) */
  firstContact?: { root: Metadata<Root>; version: number; rootFingerprint: string };
  /** the root to pin after signing: the chain-verified trusted root when it is newer than the pin */
  pinAfterSigning?: Metadata<Root>;
}

export interface TrustOptions {
  /** `--trust-dir` */
  trustDir?: string;
  /** where trust folders live (default ~/.tufsign/trust) */
  trustHome: string;
}

/** The anchor for this machine: the workspace's published state, else the trust folder's pin. */
function anchorFor(
  req: SigningRequest,
  ws: Workspace | undefined,
  trust: TrustOptions,
): { anchor: TrustAnchor | undefined; trustDir?: string } {
  if (ws !== undefined) {
    const repo = currentState(ws);
    if (repo === undefined) return { anchor: undefined };
    return {
      anchor: {
        source: 'workspace',
        root: repo.root,
        published: { targets: repo.targets, snapshot: repo.snapshot, timestamp: repo.timestamp },
        publishedTargetsRole: publishedTargetsRoles(ws, repo),
      },
    };
  }
  const trustDir = trustDirFor(req.repository, trust);
  const pin = loadPinnedRoot(trustDir);
  return { anchor: pin === undefined ? undefined : { source: 'trust-dir', root: pin }, trustDir };
}

/** Check the request against this machine's trust; without any pin, prepare a first contact on the request's trusted root. */
function checkTrust(req: SigningRequest, ws: Workspace | undefined, trust: TrustOptions, path: string): TrustState {
  const { anchor, trustDir } = anchorFor(req, ws, trust);
  const dir = trustDir !== undefined ? { trustDir } : {};
  if (req.trustedRoot === undefined)
    return { source: 'new-repository', anchored: anchorRequest(req, anchor, path), ...dir };
  if (anchor !== undefined) {
    const anchored = anchorRequest(req, anchor, path);
    const state: TrustState = { source: anchor.source, anchored, ...dir };
    if (anchor.source === 'trust-dir' && req.trustedRoot.signed.version > anchor.root.signed.version)
      state.pinAfterSigning = req.trustedRoot;
    return state;
  }
  if (ws !== undefined) {
    // a workspace whose root v1 is not published yet cannot anchor a request for an existing repository
    throw new TufsignError(
      'TRUST_UNANCHORED',
      `this workspace has no published root to check the request's trusted root v${req.trustedRoot.signed.version} against`,
      { file: path, rule: 'a keyholder compares against a root they already trust' },
    );
  }
  // First contact: everything below the trusted root is checked against it; pinning waits for the keyholder's confirmation.
  const root = req.trustedRoot;
  const anchored = anchorRequest(req, { source: 'first-contact', root }, path);
  return {
    source: 'first-contact',
    anchored,
    ...dir,
    firstContact: { root, version: root.signed.version, rootFingerprint: roleFingerprint('root', signedSha256(root)) },
  };
}

export interface KeyLabel {
  name: string;
  /** true when the name comes from this machine (workspace config); false for a label the request carries */
  verified: boolean;
}

function keyholderAdvice(e: TufsignError, path: string): TufsignError {
  return new TufsignError(e.code, e.message, {
    file: e.file ?? path,
    path: e.path,
    rule: e.rule,
    suggestion: TAMPERED_COPY_ADVICE,
    details: e.details,
    cause: e,
  });
}

/** Read the request file once and check it; errors that mean "this copy was edited" carry advice for the keyholder. */
export function openRequest(
  path: string,
  ws: Workspace | undefined,
  ctx: Pick<CeremonyContext, 'now'>,
  trustOptions: TrustOptions,
): CheckedRequest {
  let request: SigningRequest;
  try {
    request = readRequestFile(path);
    requireIntact(request, path);
  } catch (e) {
    if (
      isTufsignError(e, 'REQUEST_PAYLOAD_CHANGED') ||
      isTufsignError(e, 'TRANSCRIPT_BROKEN') ||
      isTufsignError(e, 'REQUEST_INVALID')
    )
      throw keyholderAdvice(e, path);
    throw e;
  }
  if (ws !== undefined) checkBelongs(ws, request, path, false);
  const trust = checkTrust(request, ws, trustOptions, path);
  const described = {
    ...describeRequest(path, request, ctx, ws?.config),
    repository: request.repository,
    purpose: request.purpose,
  };
  const maxExpiry = maxExpiryFor(ws, trust.trustDir);
  const dangers = [
    ...dangerousChanges(described.diff, request.trustedRoot?.signed, ctx.now, maxExpiry),
    ...olderVoucherDangers(trust.anchored),
  ];
  return {
    path,
    request,
    fingerprint: requestFingerprint(request),
    described,
    labels: keyLabels(request, ws),
    trust,
    dangers,
    maxExpiry,
  };
}

/** Key names: the workspace's own owner names win; a label from the request is kept but marked unverified. */
export function keyLabels(req: SigningRequest, ws: Workspace | undefined): Map<string, KeyLabel> {
  const out = new Map<string, KeyLabel>();
  for (const [keyid, kh] of req.keyholders)
    if (kh.owner !== undefined) out.set(keyid, { name: kh.owner, verified: false });
  for (const [keyid, e] of ws?.config.keys ?? [])
    if (e.owner !== undefined) out.set(keyid, { name: e.owner, verified: true });
  return out;
}

// ------------------------------------------------------------------ key detection

export type KeySource = 'flag' | 'workspace' | 'device' | 'keys-folder';

export interface KeyCandidate {
  ref: KeyRef;
  /** '' for a key file whose keyid nothing here records (see DetectedKeys.unidentified) */
  keyid: string;
  owner?: KeyLabel;
  /** roles this key can still add a signature to */
  roles: string[];
  /** at least one of those roles still needs signatures to reach its threshold */
  stillNeeded: boolean;
  source: KeySource;
}

export interface DetectedKeys {
  /** keys here that can add a signature */
  usable: KeyCandidate[];
  /** keys here that are in the plan but have signed everything they can already: not offered, no PIN asked */
  alreadySigned: KeyCandidate[];
  /** key files whose keyid nothing here records (no public part beside them, no workspace mapping): not offered */
  unidentified: KeyCandidate[];
  /** entries of the `keys/` folder not looked at (a symlink, a FIFO, an oversized or unreadable public part) */
  skipped: { name: string; why: string }[];
}

export interface KeySources {
  /** `--key` URIs, parsed by the CLI: when given, nothing else is probed */
  keyFlags: readonly KeyRef[];
  workspace?: Workspace;
  /** folder relative `file:` URIs resolve against (the workspace, else the current folder) */
  baseDir: string;
  /** URIs of keys on devices plugged into this machine (e.g. YubiKey slots found over PC/SC) */
  pluggedKeys(): Promise<KeyRef[]>;
  /**
   * URIs of keys on PKCS#11 tokens behind the modules this machine's own configuration names
   * (`--pkcs11-module`, tufsign.json, TUFSIGN_PKCS11_MODULE). Asked after the YubiKeys were probed:
   * once loaded, ykcs11/OpenSC hold the card readers.
   */
  tokenKeys?(): Promise<KeyRef[]>;
  /** the public key behind a URI without a PIN, or undefined when it is not here */
  probe(ref: KeyRef): Promise<Key | undefined>;
}

/**
 * Which keys on this machine can sign something in the request. Only URIs
 * named by this machine are looked at: `--key` flags, else the workspace's
 * configured keys, the YubiKeys plugged in here and the tokens behind the
 * PKCS#11 modules this machine's configuration names. The request's keyholder
 * hints are never probed. No secret is asked: a key file's keyid comes from
 * the workspace or the public part beside it.
 */
export async function detectKeys(checked: CheckedRequest, sources: KeySources): Promise<DetectedKeys> {
  const req = checked.request;
  const todo: { ref: KeyRef; source: KeySource; keyid?: string; claimed?: Key }[] = [];
  const scan = sources.keyFlags.length > 0 ? undefined : scanKeyFolder(sources.baseDir);
  if (sources.keyFlags.length > 0) for (const ref of sources.keyFlags) todo.push({ ref, source: 'flag' });
  else {
    // a workspace URI that did not parse is not a key this machine can offer
    for (const [keyid, e] of sources.workspace?.config.keys ?? [])
      if (e.ref?.backend !== undefined) todo.push({ ref: e.ref, source: 'workspace', keyid });
    for (const ref of await sources.pluggedKeys()) todo.push({ ref, source: 'device' });
    // key files in keys/ that tufsign.json does not list (a keyholder's laptop has no tufsign.json at all)
    for (const f of scan?.found ?? []) todo.push({ ref: f.ref, source: 'keys-folder', claimed: f.key });
    for (const ref of scan?.unidentified ?? []) todo.push({ ref, source: 'keys-folder' });
  }
  // YubiKeys before PKCS#11 tokens: once loaded, ykcs11/OpenSC hold the card readers.
  const order = (ref: KeyRef): number => ({ yubikey: 0, pkcs11: 1, file: 2 })[ref.backend];
  todo.sort((a, b) => order(a.ref) - order(b.ref));
  const out: DetectedKeys = { usable: [], alreadySigned: [], unidentified: [], skipped: scan?.skipped ?? [] };
  const seen = new Set<string>();
  const consider = async (t: { ref: KeyRef; source: KeySource; keyid?: string; claimed?: Key }): Promise<void> => {
    if (seen.has(t.ref.uri)) return;
    seen.add(t.ref.uri);
    // the public key, without any secret: the workspace's record or the public part beside a key file, else probed
    let key: Key | undefined;
    if (t.ref.backend === 'file') {
      if (!fileExists(keyFilePath(t.ref, sources.baseDir))) return;
      if (t.keyid !== undefined) {
        key = planKey(req, t.keyid);
        if (key === undefined) return; // a workspace key this request does not need
      } else if (t.claimed !== undefined) {
        // what the public part beside a keys/ file claims: offered only for a key the plan lists, and the file
        // is opened with the plan's key as the expected one (a public part that lies ends in KEY_MISMATCH)
        if (planKeyidsOf(req, t.claimed).length === 0) return;
        key = t.claimed;
      } else {
        // a key file named here: the workspace's mapping or the public part beside it says which key it holds
        const known = await keyBeforeSecret(t.ref, { workspace: sources.workspace, baseDir: sources.baseDir });
        if (known === undefined) {
          out.unidentified.push({ ref: t.ref, keyid: '', roles: [], stillNeeded: false, source: t.source });
          return;
        }
        key = known.key ?? planKey(req, known.keyid);
        if (key === undefined) return; // mapped to a key this request does not need
      }
    } else {
      key = await sources.probe(t.ref);
      if (key === undefined) return;
      // another key is in that slot/token than the workspace records under that keyid
      const recorded = t.keyid === undefined ? undefined : planKey(req, t.keyid);
      if (recorded !== undefined && !recorded.samePublicKey(key)) return;
    }
    // every keyid the plan lists this key under (a legacy keyid next to its correct one, ADR 0015)
    const keyids = planKeyidsOf(req, key);
    const keyid = keyids.includes(key.keyid()) ? key.keyid() : (keyids[0] ?? key.keyid());
    const c: KeyCandidate = { ref: t.ref, keyid, roles: [], stillNeeded: false, source: t.source };
    const owner = keyids.map((id) => checked.labels.get(id)).find((l) => l !== undefined);
    if (owner !== undefined) c.owner = owner;
    const signable = keyids.flatMap((id) => signableBy(req, id));
    if (signable.length > 0) {
      c.roles = [...new Set(signable.map((r) => r.role))];
      c.stillNeeded = signable.some((r) => r.stillNeeded);
      out.usable.push(c);
    } else if (keyids.length > 0) out.alreadySigned.push(c);
  };
  for (const t of todo) await consider(t);
  if (sources.keyFlags.length === 0 && sources.tokenKeys !== undefined)
    for (const ref of await sources.tokenKeys()) await consider({ ref, source: 'device' });
  return out;
}

// ------------------------------------------------------------------ fingerprint

/** How the keyholder checked the fingerprint: the value the organizer read out, or an explicit, recorded skip. */
export type FingerprintCheck = { typed: string } | 'skipped';

const normalizeFingerprint = (s: string): string => s.toUpperCase().replace(/[\s-]/g, '');

/** Compare what the keyholder typed with the request's fingerprint, ignoring case, spaces and dashes. Empty is refused. */
export function requireFingerprint(checked: CheckedRequest, check: FingerprintCheck): void {
  if (check === 'skipped') return;
  const typed = normalizeFingerprint(check.typed);
  if (typed === '') {
    throw new TufsignError('FINGERPRINT_REQUIRED', 'no fingerprint given: nothing is signed without comparing it', {
      file: checked.path,
      rule: 'signers compare the fingerprint the organizer reads out',
      suggestion: 'Ask the organizer to read out the fingerprint and type it (or pass --fingerprint VALUE).',
    });
  }
  if (typed !== normalizeFingerprint(checked.fingerprint)) {
    throw new TufsignError(
      'FINGERPRINT_MISMATCH',
      'the fingerprint you typed does not match this request: do not sign it',
      {
        file: checked.path,
        rule: 'signers compare the fingerprint the organizer reads out',
        suggestion:
          'Check with the organizer: either it was misheard, or your copy differs from theirs. If it still differs, get a fresh copy.',
      },
    );
  }
}

/**
 * A first contact pins a root only when the keyholder confirmed it, and only
 * with the fingerprint compared: the fingerprint covers the trusted root's
 * identity, so a matching fingerprint is the out-loud comparison.
 */
export function requireFirstContact(checked: CheckedRequest, fingerprint: FingerprintCheck, confirmed: boolean): void {
  const fc = checked.trust.firstContact;
  if (fc === undefined) return;
  if (fingerprint === 'skipped' || !confirmed) {
    throw new TufsignError(
      'TRUST_UNANCHORED',
      `first contact with "${checked.request.repository}": root v${fc.version} (root fingerprint ${fc.rootFingerprint}) is not pinned on this machine`,
      {
        file: checked.path,
        path: '$.trusted_root',
        rule: 'a first contact is confirmed explicitly, with the fingerprint compared',
        suggestion:
          'Compare the fingerprint with the organizer and confirm the first contact (guided flow), or pass --fingerprint VALUE --yes; or run inside a copy of the workspace.',
      },
    );
  }
}

// ------------------------------------------------------------------ signing

/** What the keyholder's side needs beyond signing: where `file:` URIs resolve, and a PIN-less look at device keys. */
export interface KeyholderContext extends CeremonyContext {
  /** folder relative `file:` URIs resolve against (the workspace, else the current folder) */
  keyBaseDir: string;
  /** the public key behind a device URI without a PIN, or undefined */
  probe?(ref: KeyRef): Promise<Key | undefined>;
}

function notInPlan(path: string, uri: string, keyid: string): TufsignError {
  return new TufsignError(
    'SIGNATURE_REFUSED',
    `the key at ${uri} (keyid ${keyid.slice(0, 16)}…) is not one of the keys this request needs`,
    {
      file: path,
      rule: 'BAD-29 only keys in the plan sign',
      suggestion:
        'Run `tufsign ceremony status REQUEST` to see which keys are needed, and check that the right YubiKey/token/key file is used.',
      details: { keyid },
    },
  );
}

/**
 * Open the signer for `uri` only once this machine knows, without a secret,
 * that it holds a key of the plan: a key outside the plan costs no passphrase
 * or PIN. A key file whose keyid nothing here records is refused before its
 * passphrase (ADR 0008).
 */
async function openForRequest(
  req: SigningRequest,
  ref: KeyRef,
  ws: Workspace | undefined,
  ctx: KeyholderContext,
  path: string,
): Promise<Signer> {
  const known = await keyBeforeSecret(ref, {
    workspace: ws,
    baseDir: ctx.keyBaseDir,
    ...(ctx.probe !== undefined ? { probe: ctx.probe.bind(ctx) } : {}),
  });
  if (known === undefined) {
    if (ref.backend === 'file') throw unidentifiedKeyFile(ref, ctx.keyBaseDir, path);
    return ctx.openAnySigner(ref);
  }
  // every keyid the plan lists this key under (a legacy keyid next to its correct one, ADR 0015)
  const planned =
    known.key !== undefined ? planKeyidsOf(req, known.key) : inPlan(req, known.keyid) ? [known.keyid] : [];
  const first = planned[0];
  if (first === undefined) throw notInPlan(path, ref.uri, known.keyid);
  const key = planKey(req, first);
  // The backend checks the key it opens against the plan's (BAD-57): a public part that lies is caught after decryption.
  return key !== undefined ? ctx.openSigner(ref, key) : ctx.openAnySigner(ref);
}

function inPlan(req: SigningRequest, keyid: string): boolean {
  return planFor(req).some((p) => p.keyids.includes(keyid) || (p.previous?.keyids.includes(keyid) ?? false));
}

/** A key file with nothing here naming its keyid: refused before its passphrase. */
export function unidentifiedKeyFile(ref: FileKeyRef, baseDir: string, path: string): TufsignError {
  const uri = ref.uri;
  const pub = publicPartPath(keyFilePath(ref, baseDir));
  return new TufsignError(
    'KEY_IDENTITY_UNKNOWN',
    `nothing on this machine says which key ${uri} holds: its keyid is known only after its passphrase`,
    {
      file: path,
      rule: 'a key is matched to the plan before any secret is asked',
      suggestion: `Put the key's public part beside it: tufsign key export ${uri} --out ${pub} (once, on your laptop), or run inside a workspace copy whose tufsign.json maps the key.`,
      details: { uri, expected_public_part: pub },
    },
  );
}

/**
 * Sign the checked request with one or more keys named on this machine. A
 * key outside the plan is refused; a key that already signed adds nothing.
 * The file is rewritten atomically only when a signature was added.
 */
export async function signChecked(
  checked: CheckedRequest,
  keyRefs: readonly KeyRef[],
  fingerprint: FingerprintCheck,
  ws: Workspace | undefined,
  ctx: KeyholderContext,
  /** the keyholder confirmed the first contact (guided prompt, or --yes with the fingerprint compared) */
  firstContactConfirmed = false,
): Promise<SignReport & { pinned?: string }> {
  if (keyRefs.length === 0)
    throw new TufsignError('USAGE', 'no key given', {
      rule: 'ceremony sign REQUEST --key URI',
      suggestion: "Pass --key with the URI of your key, quoted (e.g. --key 'yubikey:serial=12345678;slot=9c').",
    });
  // Before any key is opened or any secret asked.
  requireFirstContact(checked, fingerprint, firstContactConfirmed);
  requireFingerprint(checked, fingerprint);
  checkExpiryPolicy(checked.request, ctx.now, checked.maxExpiry, checked.path);
  const fingerprintCheck = fingerprint === 'skipped' ? 'skipped' : 'compared';
  const path = checked.path;
  let req = checked.request;
  const report: SignReport = {
    request: path,
    fingerprint: checked.fingerprint,
    added: [],
    unchanged: [],
    status: checked.described.status,
  };
  for (const ref of keyRefs) {
    const uri = ref.uri;
    const signer = await openForRequest(req, ref, ws, ctx, path);
    const keyid = signer.publicKey.keyid();
    // the key's own keyid and any legacy keyid the trusted root lists it under (keyid migration, ADR 0015)
    const keyids = planKeyidsOf(req, signer.publicKey);
    if (keyids.length === 0) throw notInPlan(path, uri, keyid);
    const plans = planFor(req);
    const todo = keyids.flatMap((id) => signableBy(req, id).map((t) => ({ ...t, keyid: id })));
    const roles = [...new Set(todo.map((t) => t.role))];
    // Authority comes from the trusted root: under any keyid it lists this key with (a new key has none to check).
    const trustedIds = keyids.filter((id) => req.trustedRoot?.signed.keys.has(id) === true);
    const unauthorised =
      trustedIds.length === 0
        ? []
        : roles.filter((role) => trustedIds.every((id) => unauthorisedRoles(req, id, [role]).length > 0));
    if (unauthorised.length > 0) {
      throw new TufsignError(
        'SIGNATURE_REFUSED',
        `key ${keyid.slice(0, 16)}… is not authorised for ${unauthorised.join(', ')} by the trusted root; only the new root in this request would make it so`,
        {
          file: path,
          rule: 'a key signs a role only with the authority of the root already trusted',
          suggestion:
            'Do not sign: a root change that gives a key a new role is signed first; that role is signed in a later ceremony.',
          details: { keyid, roles: unauthorised },
        },
      );
    }
    for (const id of keyids)
      for (const p of plans.filter((p) => p.keyids.includes(id) || (p.previous?.keyids.includes(id) ?? false)))
        if (!todo.some((t) => t.role === p.role && t.keyid === id))
          report.unchanged.push({ role: p.role, keyid: id, uri });
    const inputs: SignatureInput[] = [];
    for (const role of roles) {
      const md = req.roles.find((r) => r.role === role)?.metadata;
      if (md === undefined) continue;
      ctx.progress?.(`signing ${role} v${md.signed.version} with ${uri}`);
      const { signature } = await signer.sign(md.signedBytes());
      // one signature over the role's bytes, recorded under each keyid that still lacks it
      for (const t of todo) if (t.role === role) inputs.push({ role, keyid: t.keyid, signature });
    }
    if (inputs.length === 0) continue;
    // Device facts for the transcript come from the URI this machine named, never from the request's hints.
    const serial = serialOfRef(ref);
    const device = serial !== undefined ? { serial } : {};
    // addSignatures verifies every new signature before it is kept.
    const out = addSignatures(req, inputs, { now: ctx.now, tool: ctx.tool, device, fingerprintCheck }, path);
    req = out.request;
    for (const a of out.added) report.added.push({ ...a, uri });
    for (const u of out.unchanged) report.unchanged.push({ ...u, uri });
  }
  if (report.added.length > 0) writeRequestFile(path, req);
  report.status = requestStatus(req, ctx.now, ws === undefined ? {} : { minValidity: minValiditySeconds(ws.config) });
  const pin = checked.trust.firstContact?.root ?? checked.trust.pinAfterSigning;
  if (pin !== undefined && checked.trust.trustDir !== undefined)
    return { ...report, pinned: savePinnedRoot(checked.trust.trustDir, pin) };
  return report;
}
