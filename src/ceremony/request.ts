/**
 * The signing request (`*.tufsign-request.json`, DESIGN §5): one
 * self-contained file carrying the metadata being signed, the trusted root it
 * is checked against, the plan, the signatures collected so far and the
 * hash-chained transcript. This module is pure: bytes in, objects out.
 *
 * What is stored but derived (per-role `signed_sha256`, `plan`, the
 * `fingerprint`, the `ceremony_id`) is recomputed on every read and compared,
 * so a hand edit is caught instead of trusted; the status is never read from
 * the file.
 */
import { sha256Hex } from '../io/hash';
import { TufsignError } from '../errors';
import { parseJson, newObject, stringifyPretty, isJsonObject, type JsonObject, type JsonValue } from '../tuf/json';
import type { Key } from '../tuf/key';
import {
  HISTORY_PARSE,
  Metadata,
  TOP_LEVEL_ROLES,
  isTopLevelRole,
  type Role,
  type Root,
  type Targets,
  type TopLevelRole,
} from '../tuf/metadata';
import { delegatedRoleNameProblem } from '../tuf/paths';
import { fingerprintOf } from './fingerprint';
import { appendEvent, checkChain, readEvents, type TranscriptCheck, type TranscriptEvent } from './transcript';

export const REQUEST_FORMAT = 'tufsign-signing-request';
/** Version 2: top-level roles only. Version 3 (written only when needed): delegated roles and their delegating chain. */
export const REQUEST_FORMAT_VERSION = 2;
export const REQUEST_FORMAT_VERSION_DELEGATED = 3;
export const REQUEST_SUFFIX = '.tufsign-request.json';

/** What the organizer knows about a key's holder; shown to signers, never trusted for verification. */
export interface Keyholder {
  owner?: string;
  /** device serial (YubiKey) or token label, when known */
  serial?: string;
  /** where the organizer's config says the key lives (a hint for the keyholder's machine) */
  uri?: string;
  /** one-line attestation summary, when the key came with one */
  attestation?: string;
}

export interface RequestRole {
  /** a top-level role, or a delegated targets role (then `delegatedBy` names the role that delegates to it) */
  role: string;
  /** delegated roles only: the role of `delegators` whose delegation names this role's keys and threshold */
  delegatedBy?: string;
  /** the metadata being signed: signed part plus the signatures collected so far */
  metadata: Metadata;
  /** the version it replaces, for the diff (root uses the request's trusted root) */
  trusted?: Metadata;
}

/**
 * One published role of the delegating chain: top-level targets first (no `delegatedBy`), then each delegated
 * role on the way to the parents of the request's delegated roles. A keyholder verifies each from the trusted
 * root down (signed by the threshold its parent names) before it believes the keys and threshold it names.
 */
export interface Delegator {
  role: string;
  delegatedBy?: string;
  metadata: Metadata<Targets>;
}

export interface SigningRequest {
  readonly repository: string;
  readonly purpose: string;
  /** the root everything is checked against; absent only for a new repository (root v1) */
  readonly trustedRoot?: Metadata<Root>;
  /** the roots before the trusted root (v1 … trusted − 1, ascending): a keyholder pinned at an older root walks this chain */
  readonly rootHistory: readonly Metadata<Root>[];
  /** published versions when the ceremony started (the bundle holds everything newer) */
  readonly base: Readonly<Partial<Record<TopLevelRole, number>>>;
  readonly roles: readonly RequestRole[];
  /** the delegating chain of the delegated roles (empty when the request carries top-level roles only) */
  readonly delegators: readonly Delegator[];
  readonly keyholders: ReadonlyMap<string, Keyholder>;
  readonly transcript: readonly TranscriptEvent[];
}

export interface PlanSide {
  keyids: string[];
  threshold: number;
}

export interface RolePlan extends PlanSide {
  role: string;
  /** root only: the trusted (previous) root's root role, which must also reach its threshold (SPEC-14) */
  previous?: PlanSide;
}

export function signedSha256(md: Metadata): string {
  return sha256Hex(md.signedBytes());
}

export function cloneMetadata<M extends Metadata>(md: M): M {
  return Metadata.fromJSON(md.toJSON(), { expectedType: md.signed.type, ...HISTORY_PARSE }) as M;
}

export function roleDigests(
  req: Pick<SigningRequest, 'roles'>,
): { role: string; version: number; signedSha256: string }[] {
  return req.roles.map((r) => ({
    role: r.role,
    version: r.metadata.signed.version,
    signedSha256: signedSha256(r.metadata),
  }));
}

/** The fingerprint: every role's signed bytes and the identity of every diff basis (see fingerprint.ts). */
export function requestFingerprint(req: PlanView): string {
  const trustedRoot = req.trustedRoot === undefined ? null : signedSha256(req.trustedRoot);
  const bases = req.roles.map((r) => {
    const basis = r.role === 'root' ? req.trustedRoot : r.trusted;
    return { role: r.role, signedSha256: basis === undefined ? null : signedSha256(basis) };
  });
  const delegated = req.roles.flatMap((r) =>
    r.delegatedBy === undefined ? [] : [{ role: r.role, delegatedBy: r.delegatedBy }],
  );
  const delegators = (req.delegators ?? []).map((d) => ({
    role: d.role,
    delegatedBy: d.delegatedBy ?? null,
    signedSha256: signedSha256(d.metadata),
  }));
  return fingerprintOf({ roles: roleDigests(req), trustedRoot, bases, delegated, delegators });
}

/** The ceremony id is the hash of the `created` event: it names the payload, the repository and the trusted root. */
export function ceremonyId(req: Pick<SigningRequest, 'transcript'>): string {
  return req.transcript[0]?.hash ?? '';
}

export function findRole(req: Pick<SigningRequest, 'roles'>, role: string): RequestRole | undefined {
  return req.roles.find((r) => r.role === role);
}

/** The root that holds the keys and thresholds for the request's roles: the new root if the request carries one. */
export function governingRoot(req: Pick<SigningRequest, 'roles' | 'trustedRoot'>): Root {
  const r = findRole(req, 'root');
  if (r !== undefined) return r.metadata.signed as Root;
  if (req.trustedRoot !== undefined) return req.trustedRoot.signed;
  throw new TufsignError('REQUEST_INVALID', 'the request has neither a root to sign nor a trusted root', {
    path: '$',
    rule: 'a request needs a root for its plan',
  });
}

type PlanView = Pick<SigningRequest, 'roles' | 'trustedRoot'> & { readonly delegators?: readonly Delegator[] };

/** What kind of metadata a request role is: a delegated role is a targets role (for expiry policy and limits). */
export function roleKind(r: Pick<RequestRole, 'role' | 'delegatedBy'>): TopLevelRole {
  return r.delegatedBy === undefined && isTopLevelRole(r.role) ? r.role : 'targets';
}

/**
 * Who signs `r`: for a top-level role, the governing root's role and keys; for a delegated role, the delegation
 * its parent names in the request's delegating chain (as published), or, for a role the request creates (no
 * trusted version), in its parent's new version carried by the same request. A parent that does not delegate
 * to the role is a broken chain.
 */
export function authorityOf(
  req: PlanView,
  r: Pick<RequestRole, 'role' | 'delegatedBy'>,
): { role: Role; keys: ReadonlyMap<string, Key> } {
  if (r.delegatedBy === undefined) {
    const root = governingRoot(req);
    if (!isTopLevelRole(r.role))
      throw new TufsignError(
        'REQUEST_INVALID',
        `role ${r.role} is neither top-level nor delegated by a role of the request`,
        {
          path: '$.roles',
          rule: 'a delegated role names the role that delegates to it',
        },
      );
    return { role: root.role(r.role), keys: root.keys };
  }
  const parent =
    req.delegators?.find((d) => d.role === r.delegatedBy) ??
    req.roles.find((o) => o.role === r.delegatedBy && roleKind(o) === 'targets');
  const d = (parent?.metadata.signed as Targets | undefined)?.delegations;
  const role = d?.getRole(r.role);
  if (parent === undefined || d === undefined || role === undefined)
    throw new TufsignError(
      'TRUST_CHAIN_INVALID',
      `${r.delegatedBy} ${parent === undefined ? "is not in the request's delegating chain" : `does not delegate to ${r.role}`}`,
      {
        path: '$.delegators',
        rule: 'SPEC-23 a delegated role is signed by the keys its parent names',
        suggestion: 'Do not sign: this request does not show who may sign the role. Tell the organizer.',
      },
    );
  return { role, keys: d.keys };
}

export function planFor(req: PlanView): RolePlan[] {
  return req.roles.map((r) => {
    const role = authorityOf(req, r).role;
    const plan: RolePlan = { role: r.role, keyids: [...role.keyids], threshold: role.threshold };
    if (r.role === 'root' && req.trustedRoot !== undefined) {
      const prev = req.trustedRoot.signed.role('root');
      plan.previous = { keyids: [...prev.keyids], threshold: prev.threshold };
    }
    return plan;
  });
}

/** The public key for a keyid in the plan (new root first, then the trusted root, then the delegating chain). */
export function planKey(req: PlanView, keyid: string): Key | undefined {
  if (req.roles.some((r) => r.delegatedBy === undefined)) {
    const k = governingRoot(req).keys.get(keyid) ?? req.trustedRoot?.signed.keys.get(keyid);
    if (k !== undefined) return k;
  }
  for (const r of req.roles) {
    if (r.delegatedBy === undefined) continue;
    const k = authorityOf(req, r).keys.get(keyid);
    if (k !== undefined) return k;
  }
  return undefined;
}

/**
 * Every keyid under which the plan lists this public key: its own and any other that the roots in the
 * request use for the same key — a tufup-era keyid in the trusted root next to its correct keyid in a
 * keyid-migration root (ADR 0015), or a keyid hashed over stored `x-` fields. One signing then counts on
 * both sides. Matched on scheme and public key; thresholds still count each public key once (SPEC-11).
 */
export function planKeyidsOf(req: PlanView, key: Key): string[] {
  const inPlan = new Set(planFor(req).flatMap((p) => [...p.keyids, ...(p.previous?.keyids ?? [])]));
  return [...inPlan].filter((id) => {
    const k = planKey(req, id);
    return k !== undefined && k.scheme === key.scheme && k.samePublicKey(key);
  });
}

// ------------------------------------------------------------------ create

export interface NewRequestInput {
  repository: string;
  purpose: string;
  trustedRoot?: Metadata<Root>;
  /** roots v1 … trusted − 1 */
  rootHistory?: readonly Metadata<Root>[];
  base: Partial<Record<TopLevelRole, number>>;
  /** top-level roles name themselves (signed.type); a delegated role gives its name and the role delegating to it */
  roles: { metadata: Metadata; trusted?: Metadata; name?: string; delegatedBy?: string }[];
  /** the delegating chain of the delegated roles, top-level targets first (published versions) */
  delegators?: readonly Delegator[];
  keyholders: ReadonlyMap<string, Keyholder>;
  now: Date;
  tool: string;
  /** a follow-up request names the ceremony it continues (its id and transcript head) */
  parent?: { ceremonyId: string; head: string };
}

/** Check the version rules: root exactly previous + 1 (SPEC-15/BAD-27); other roles only move forward (BAD-31). */
export function checkVersions(req: Pick<SigningRequest, 'roles' | 'trustedRoot'>): void {
  for (const r of req.roles) {
    const v = r.metadata.signed.version;
    if (r.role === 'root') {
      const expected = (req.trustedRoot?.signed.version ?? 0) + 1;
      if (v !== expected) {
        throw new TufsignError(
          'VERSION_INVALID',
          `root version ${v} is not the trusted root's version + 1 (${expected})`,
          {
            path: '$.roles[root].metadata.signed.version',
            rule: 'SPEC-15/BAD-27 root version is exactly previous + 1',
          },
        );
      }
    } else if (r.trusted !== undefined && v <= r.trusted.signed.version) {
      throw new TufsignError(
        'VERSION_INVALID',
        `${r.role} version ${v} does not move forward from the trusted version ${r.trusted.signed.version}`,
        {
          path: `$.roles[${r.role}].metadata.signed.version`,
          rule: 'SPEC-30/BAD-31 versions never go back',
        },
      );
    }
  }
}

/** Every role of the governing root must be able to reach its threshold with distinct keys (BAD-25). */
function checkReachable(root: Root): void {
  for (const name of TOP_LEVEL_ROLES) {
    const role = root.role(name);
    const distinct = new Set(role.keyids.map((k) => root.keys.get(k)?.publicKeyFingerprint() ?? k));
    if (role.threshold > distinct.size) {
      throw new TufsignError(
        'THRESHOLD_INVALID',
        `${name} needs ${role.threshold} signatures but has only ${distinct.size} distinct key(s)`,
        { rule: 'BAD-25 threshold <= number of distinct keys' },
      );
    }
  }
}

export function createRequest(input: NewRequestInput): SigningRequest {
  const seen = new Set<string>();
  const roles: RequestRole[] = [];
  for (const r of input.roles) {
    const role = r.delegatedBy === undefined ? r.metadata.signed.type : (r.name ?? '');
    if (seen.has(role))
      throw new TufsignError('REQUEST_INVALID', `role ${role} given twice`, { rule: 'one entry per role' });
    seen.add(role);
    const entry: RequestRole = { role, metadata: cloneMetadata(r.metadata) };
    if (r.delegatedBy !== undefined) {
      checkDelegatedName(role, undefined, '$.roles');
      entry.delegatedBy = r.delegatedBy;
    }
    if (r.trusted !== undefined && role !== 'root') entry.trusted = cloneMetadata(r.trusted);
    roles.push(entry);
  }
  if (roles.length === 0)
    throw new TufsignError('REQUEST_INVALID', 'a signing request needs at least one role', { rule: 'DESIGN §5' });
  // top-level roles in spec order, then delegated roles by name
  const rank = (r: RequestRole): number => (isTopLevelRole(r.role) ? TOP_LEVEL_ROLES.indexOf(r.role) : 4);
  roles.sort((a, b) => rank(a) - rank(b) || (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
  const delegators = (input.delegators ?? []).map((d) => ({ ...d, metadata: cloneMetadata(d.metadata) }));
  checkDelegatorShape(delegators, roles, undefined);
  const base: Partial<Record<TopLevelRole, number>> = { ...input.base };
  const draft: SigningRequest = {
    repository: input.repository,
    purpose: input.purpose,
    ...(input.trustedRoot !== undefined ? { trustedRoot: cloneMetadata(input.trustedRoot) } : {}),
    rootHistory: (input.rootHistory ?? []).map((r) => cloneMetadata(r)),
    base,
    roles,
    delegators,
    keyholders: new Map(input.keyholders),
    transcript: [],
  };
  checkVersions(draft);
  if (roles.some((r) => r.delegatedBy === undefined)) checkReachable(governingRoot(draft));
  // Keep only signatures that verify and come from a key in the plan: every signature is checked on entry.
  const plans = planFor(draft);
  const kept: { role: string; keyid: string }[] = [];
  for (const r of roles) {
    const plan = plans.find((p) => p.role === r.role);
    const data = r.metadata.signedBytes();
    for (const [keyid, sig] of [...r.metadata.signatures]) {
      const inPlan =
        plan !== undefined && (plan.keyids.includes(keyid) || (plan.previous?.keyids.includes(keyid) ?? false));
      const key = planKey(draft, keyid);
      if (!inPlan || key === undefined || !key.verify(sig.bytes(), data)) r.metadata.signatures.delete(keyid);
      else kept.push({ role: r.role, keyid });
    }
  }
  const created = newObject();
  created['repository'] = input.repository;
  created['purpose'] = input.purpose;
  created['trusted_root'] = trustedRootRef(draft);
  if (input.parent !== undefined) {
    const p = newObject();
    p['ceremony_id'] = input.parent.ceremonyId;
    p['head'] = input.parent.head;
    created['parent'] = p;
  }
  created['roles'] = roleDigests(draft).map((d) => {
    const o = newObject();
    o['role'] = d.role;
    o['version'] = d.version;
    o['payload_sha256'] = d.signedSha256;
    return o;
  });
  let transcript = appendEvent([], 'created', created, input.now, input.tool);
  for (const k of kept)
    transcript = appendEvent(transcript, 'signed', signedEventFields(draft, k.role, k.keyid), input.now, input.tool);
  return { ...draft, transcript };
}

function trustedRootRef(req: Pick<SigningRequest, 'trustedRoot'>): JsonValue {
  if (req.trustedRoot === undefined) return null;
  const o = newObject();
  o['version'] = req.trustedRoot.signed.version;
  o['payload_sha256'] = signedSha256(req.trustedRoot);
  return o;
}

/** Fields of a `signed` event: who signed what, with the device facts the organizer recorded. */
export function signedEventFields(
  req: Pick<SigningRequest, 'roles' | 'keyholders'>,
  role: string,
  keyid: string,
  device?: { serial?: string; attestation?: string },
  /** how the signer checked the fingerprint: compared with the one read out, or skipped on purpose (--no-fingerprint-check) */
  fingerprintCheck?: 'compared' | 'skipped',
): JsonObject {
  const r = findRole(req, role);
  const o = newObject();
  o['role'] = role;
  o['version'] = r?.metadata.signed.version ?? 0;
  o['payload_sha256'] = r === undefined ? '' : signedSha256(r.metadata);
  o['keyid'] = keyid;
  const kh = req.keyholders.get(keyid);
  if (kh?.owner !== undefined) o['owner'] = kh.owner;
  const serial = device?.serial ?? kh?.serial;
  if (serial !== undefined) o['device_serial'] = serial;
  const att = device?.attestation ?? kh?.attestation;
  if (att !== undefined) o['attestation'] = att;
  if (fingerprintCheck !== undefined) o['fingerprint_check'] = fingerprintCheck;
  return o;
}

// ------------------------------------------------------------------ serialize / parse

export function requestToJSON(req: SigningRequest): JsonObject {
  const plans = planFor(req);
  const out = newObject();
  out['format'] = REQUEST_FORMAT;
  // format 3 whenever a delegated role is carried (a new role directly under targets has an empty chain)
  const delegated = req.roles.some((r) => r.delegatedBy !== undefined);
  out['format_version'] = delegated ? REQUEST_FORMAT_VERSION_DELEGATED : REQUEST_FORMAT_VERSION;
  out['repository'] = req.repository;
  out['purpose'] = req.purpose;
  out['ceremony_id'] = ceremonyId(req);
  out['fingerprint'] = requestFingerprint(req);
  if (req.trustedRoot !== undefined) out['trusted_root'] = req.trustedRoot.toJSON();
  if (req.trustedRoot !== undefined) out['root_history'] = req.rootHistory.map((r) => r.toJSON());
  const base = newObject();
  for (const [k, v] of Object.entries(req.base)) if (v !== undefined) base[k] = v;
  out['base'] = base;
  if (delegated)
    out['delegators'] = req.delegators.map((d) => {
      const o = newObject();
      o['role'] = d.role;
      if (d.delegatedBy !== undefined) o['delegated_by'] = d.delegatedBy;
      o['metadata'] = d.metadata.toJSON();
      return o;
    });
  out['roles'] = req.roles.map((r, i) => {
    const o = newObject();
    o['role'] = r.role;
    if (r.delegatedBy !== undefined) o['delegated_by'] = r.delegatedBy;
    o['version'] = r.metadata.signed.version;
    o['signed_sha256'] = signedSha256(r.metadata);
    o['plan'] = planToJSON(plans[i]);
    o['metadata'] = r.metadata.toJSON();
    if (r.trusted !== undefined) o['trusted'] = r.trusted.toJSON();
    return o;
  });
  const kh = newObject();
  for (const [keyid, k] of [...req.keyholders].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const o = newObject();
    if (k.owner !== undefined) o['owner'] = k.owner;
    if (k.serial !== undefined) o['serial'] = k.serial;
    if (k.uri !== undefined) o['uri'] = k.uri;
    if (k.attestation !== undefined) o['attestation'] = k.attestation;
    kh[keyid] = o;
  }
  out['keyholders'] = kh;
  out['transcript'] = req.transcript.map((e) => ({ ...e }));
  return out;
}

function planToJSON(plan: RolePlan | undefined): JsonObject {
  const o = newObject();
  if (plan === undefined) return o;
  o['keyids'] = [...plan.keyids];
  o['threshold'] = plan.threshold;
  if (plan.previous !== undefined) {
    const p = newObject();
    p['keyids'] = [...plan.previous.keyids];
    p['threshold'] = plan.previous.threshold;
    o['previous'] = p;
  }
  return o;
}

export function serializeRequest(req: SigningRequest): string {
  return stringifyPretty(requestToJSON(req));
}

const TOP_FIELDS = [
  'format',
  'format_version',
  'repository',
  'purpose',
  'ceremony_id',
  'fingerprint',
  'trusted_root',
  'root_history',
  'base',
  'roles',
  'keyholders',
  'transcript',
];
const TOP_FIELDS_DELEGATED = [...TOP_FIELDS, 'delegators'];
const ROLE_FIELDS = ['role', 'version', 'signed_sha256', 'plan', 'metadata', 'trusted'];
const ROLE_FIELDS_DELEGATED = [...ROLE_FIELDS, 'delegated_by'];
const DELEGATOR_FIELDS = ['role', 'delegated_by', 'metadata'];
const KEYHOLDER_FIELDS = ['owner', 'serial', 'uri', 'attestation'];

function invalid(
  message: string,
  file: string | undefined,
  path: string,
  rule = 'DESIGN §5 signing request format',
): TufsignError {
  return new TufsignError('REQUEST_INVALID', message, { file, path, rule });
}

function obj(value: JsonValue | undefined, file: string | undefined, path: string): JsonObject {
  if (!isJsonObject(value)) throw invalid(value === undefined ? 'missing object' : 'not a JSON object', file, path);
  return value;
}

function str(o: JsonObject, key: string, file: string | undefined, path: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw invalid(`"${key}" must be a string`, file, `${path}.${key}`);
  return v;
}

function onlyKnown(o: JsonObject, known: readonly string[], file: string | undefined, path: string): void {
  for (const k of Object.keys(o))
    if (!known.includes(k))
      throw invalid(
        `unknown field "${k}"`,
        file,
        `${path}.${k}`,
        'no unknown fields in a signing request (hand edits are refused)',
      );
}

function metadataAt(
  value: JsonValue | undefined,
  type: TopLevelRole,
  file: string | undefined,
  path: string,
): Metadata {
  try {
    // Legacy keyids are read (a trusted tufup-era root); the keyid gate refuses them in anything published.
    return Metadata.fromJSON(value ?? null, { expectedType: type, ...HISTORY_PARSE });
  } catch (e) {
    if (e instanceof TufsignError) {
      throw new TufsignError('REQUEST_INVALID', `${type} metadata in the request is not valid: ${e.message}`, {
        file,
        path: path + (e.path ?? '$').slice(1),
        rule: e.rule,
        cause: e,
      });
    }
    throw e;
  }
}

function samePlan(a: JsonObject, b: JsonObject): boolean {
  return stringifyPretty(a) === stringifyPretty(b);
}

/**
 * Parse a request strictly. Throws REQUEST_INVALID for anything malformed,
 * REQUEST_PAYLOAD_CHANGED when the signed content no longer matches the
 * digests it was created with. A broken transcript chain is not thrown here
 * (status reports it); transitions refuse it via `requireIntact`.
 */
export function parseRequest(bytes: Uint8Array, file?: string): SigningRequest {
  let doc: JsonValue;
  try {
    doc = parseJson(bytes, file);
  } catch (e) {
    if (e instanceof TufsignError)
      throw new TufsignError('REQUEST_INVALID', `not a signing request: ${e.message}`, {
        file,
        path: e.path,
        rule: e.rule,
        cause: e,
      });
    throw e;
  }
  const o = obj(doc, file, '$');
  if (o['format'] !== REQUEST_FORMAT)
    throw invalid(`not a tufsign signing request (format ${JSON.stringify(o['format'] ?? null)})`, file, '$.format');
  const formatVersion = o['format_version'];
  if (formatVersion !== REQUEST_FORMAT_VERSION && formatVersion !== REQUEST_FORMAT_VERSION_DELEGATED) {
    const older = typeof formatVersion === 'number' && formatVersion < REQUEST_FORMAT_VERSION;
    throw new TufsignError(
      'REQUEST_FORMAT_UNSUPPORTED',
      `request format version ${JSON.stringify(o['format_version'] ?? null)} is not supported (this tufsign reads version ${REQUEST_FORMAT_VERSION})`,
      {
        file,
        path: '$.format_version',
        rule: `format_version ${REQUEST_FORMAT_VERSION} (${REQUEST_FORMAT_VERSION_DELEGATED} with delegated roles): the fingerprint covers the diff bases and the request carries the root chain`,
        suggestion: older
          ? 'This request was made by an older tufsign. Ask the organizer to make a new request with this version (same change, new fingerprint).'
          : 'This request was made by a newer tufsign: use that version on this machine too.',
      },
    );
  }
  const delegatedFormat = formatVersion === REQUEST_FORMAT_VERSION_DELEGATED;
  onlyKnown(o, delegatedFormat ? TOP_FIELDS_DELEGATED : TOP_FIELDS, file, '$');
  const repository = str(o, 'repository', file, '$');
  const purpose = str(o, 'purpose', file, '$');
  const storedId = str(o, 'ceremony_id', file, '$');
  const storedFingerprint = str(o, 'fingerprint', file, '$');
  const trustedRoot =
    o['trusted_root'] === undefined
      ? undefined
      : (metadataAt(o['trusted_root'], 'root', file, '$.trusted_root') as Metadata<Root>);
  const rootHistory: Metadata<Root>[] = [];
  const historyValue = o['root_history'];
  if (trustedRoot === undefined && historyValue !== undefined)
    throw invalid('"root_history" without "trusted_root"', file, '$.root_history');
  if (trustedRoot !== undefined) {
    if (!Array.isArray(historyValue))
      throw invalid('"root_history" must be a list (the roots before the trusted root)', file, '$.root_history');
    if (historyValue.length >= trustedRoot.signed.version)
      throw invalid(
        `"root_history" has more roots than versions before v${trustedRoot.signed.version}`,
        file,
        '$.root_history',
      );
    historyValue.forEach((hv, i) => {
      const md = metadataAt(hv, 'root', file, `$.root_history[${i}]`) as Metadata<Root>;
      const expected = trustedRoot.signed.version - historyValue.length + i;
      if (md.signed.version !== expected)
        throw invalid(
          `root_history[${i}] is root v${md.signed.version}, expected v${expected} (consecutive, ending before the trusted root)`,
          file,
          `$.root_history[${i}].signed.version`,
        );
      rootHistory.push(md);
    });
  }
  const baseObj = obj(o['base'], file, '$.base');
  const base: Partial<Record<TopLevelRole, number>> = {};
  for (const [k, v] of Object.entries(baseObj)) {
    if (!isTopLevelRole(k) || typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
      throw invalid(`bad base entry "${k}"`, file, `$.base.${k}`, 'base: {role: version}');
    base[k] = v;
  }
  const rolesValue = o['roles'];
  if (!Array.isArray(rolesValue) || rolesValue.length === 0)
    throw invalid('"roles" must be a non-empty list', file, '$.roles');
  const roles: RequestRole[] = [];
  const stored: { sha: string; version: number; plan: JsonObject }[] = [];
  rolesValue.forEach((rv, i) => {
    const p = `$.roles[${i}]`;
    const ro = obj(rv, file, p);
    onlyKnown(ro, delegatedFormat ? ROLE_FIELDS_DELEGATED : ROLE_FIELDS, file, p);
    const role = str(ro, 'role', file, p);
    const delegatedBy = ro['delegated_by'] === undefined ? undefined : str(ro, 'delegated_by', file, p);
    if (delegatedBy === undefined && !isTopLevelRole(role)) throw invalid(`unknown role "${role}"`, file, `${p}.role`);
    if (delegatedBy !== undefined) checkDelegatedName(role, file, `${p}.role`);
    if (roles.some((r) => r.role === role)) throw invalid(`role ${role} listed twice`, file, `${p}.role`);
    const type = delegatedBy === undefined ? (role as TopLevelRole) : 'targets';
    const entry: RequestRole = { role, metadata: metadataAt(ro['metadata'], type, file, `${p}.metadata`) };
    if (delegatedBy !== undefined) entry.delegatedBy = delegatedBy;
    if (ro['trusted'] !== undefined) entry.trusted = metadataAt(ro['trusted'], type, file, `${p}.trusted`);
    roles.push(entry);
    const version = ro['version'];
    stored.push({
      sha: str(ro, 'signed_sha256', file, p),
      version: typeof version === 'number' ? version : -1,
      plan: obj(ro['plan'], file, `${p}.plan`),
    });
  });
  const delegators: Delegator[] = [];
  const delegatorsValue = o['delegators'];
  if (delegatorsValue !== undefined) {
    if (!Array.isArray(delegatorsValue))
      throw invalid('"delegators" must be a list (the delegating chain)', file, '$.delegators');
    delegatorsValue.forEach((dv, i) => {
      const p = `$.delegators[${i}]`;
      const d = obj(dv, file, p);
      onlyKnown(d, DELEGATOR_FIELDS, file, p);
      const entry: Delegator = {
        role: str(d, 'role', file, p),
        metadata: metadataAt(d['metadata'], 'targets', file, `${p}.metadata`) as Metadata<Targets>,
      };
      if (d['delegated_by'] !== undefined) entry.delegatedBy = str(d, 'delegated_by', file, p);
      delegators.push(entry);
    });
  }
  if (delegatedFormat) {
    if (!roles.some((r) => r.delegatedBy !== undefined))
      throw invalid(
        'format_version 3 is for requests with delegated roles; this one has none',
        file,
        '$.format_version',
      );
    checkDelegatorShape(delegators, roles, file);
  }
  const khObj = obj(o['keyholders'], file, '$.keyholders');
  const keyholders = new Map<string, Keyholder>();
  for (const [keyid, v] of Object.entries(khObj)) {
    const p = `$.keyholders.${keyid}`;
    const k = obj(v, file, p);
    onlyKnown(k, KEYHOLDER_FIELDS, file, p);
    const kh: Keyholder = {};
    for (const f of KEYHOLDER_FIELDS) {
      const val = k[f];
      if (val === undefined) continue;
      if (typeof val !== 'string') throw invalid(`"${f}" must be a string`, file, `${p}.${f}`);
      kh[f as keyof Keyholder] = val;
    }
    keyholders.set(keyid, kh);
  }
  const transcript = readEvents(o['transcript'], file);
  const req: SigningRequest = {
    repository,
    purpose,
    ...(trustedRoot !== undefined ? { trustedRoot } : {}),
    rootHistory,
    base,
    roles,
    delegators,
    keyholders,
    transcript,
  };

  // The payload is pinned: each role's digest as stored, the fingerprint, and the digests in the created event.
  roles.forEach((r, i) => {
    const s = stored[i];
    const actual = signedSha256(r.metadata);
    if (s !== undefined && (s.sha !== actual || s.version !== r.metadata.signed.version)) {
      throw new TufsignError(
        'REQUEST_PAYLOAD_CHANGED',
        `the signed content of ${r.role} changed after the request was made (sha256 ${actual.slice(0, 16)}…, recorded ${s.sha.slice(0, 16)}…)`,
        {
          file,
          path: `$.roles[${i}].metadata.signed`,
          rule: 'BAD-30 the signed content never changes once a request exists',
          suggestion: 'Start a new request for the changed content; signatures over the old content cannot be reused.',
        },
      );
    }
  });
  if (storedFingerprint !== requestFingerprint(req)) {
    throw new TufsignError('REQUEST_PAYLOAD_CHANGED', 'the request fingerprint does not match its content', {
      file,
      path: '$.fingerprint',
      rule: 'fingerprint = f(canonical signed bytes)',
    });
  }
  const created = transcript[0];
  if (created !== undefined && checkChain(transcript).ok) {
    const recorded = JSON.stringify(created['roles'] ?? null);
    const actual = JSON.stringify(
      roleDigests(req).map((d) => ({ payload_sha256: d.signedSha256, role: d.role, version: d.version })),
    );
    if (
      normalize(recorded) !== normalize(actual) ||
      created['repository'] !== repository ||
      normalize(JSON.stringify(created['trusted_root'] ?? null)) !== normalize(JSON.stringify(trustedRootRef(req)))
    ) {
      throw new TufsignError(
        'REQUEST_PAYLOAD_CHANGED',
        'the content, repository or trusted root differ from what the ceremony was created with',
        {
          file,
          path: '$.transcript[0]',
          rule: 'BAD-30/BAD-64 the request is pinned by its created event',
        },
      );
    }
  }
  let plans: RolePlan[];
  try {
    plans = planFor(req);
  } catch (e) {
    if (e instanceof TufsignError) throw e.inFile(file ?? '');
    throw e;
  }
  plans.forEach((plan, i) => {
    const s = stored[i];
    if (s !== undefined && !samePlan(s.plan, planToJSON(plan))) {
      throw invalid(
        `the stored plan for ${plan.role} does not match the keys and thresholds in the metadata`,
        file,
        `$.roles[${i}].plan`,
        'the plan is derived from the metadata, never edited',
      );
    }
  });
  if (storedId !== ceremonyId(req) && checkChain(transcript).ok) {
    throw invalid(
      'ceremony_id does not match the created event',
      file,
      '$.ceremony_id',
      'ceremony_id = hash of the created event',
    );
  }
  return req;
}

function sortKeys(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isJsonObject(v)) {
    const out = newObject();
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k] ?? null);
    return out;
  }
  return v;
}

function normalize(json: string): string {
  return JSON.stringify(sortKeys(JSON.parse(json) as JsonValue));
}

// ------------------------------------------------------------------ delegated roles

/** A delegated role's name in a request: never a top-level name (a client would read another file). */
function checkDelegatedName(role: string, file: string | undefined, path: string): void {
  // the name becomes a file name at finalize and is shown on the keyholder's screen
  const problem = delegatedRoleNameProblem(role);
  if (problem !== undefined)
    throw invalid(`delegated role name ${JSON.stringify(role)} ${problem.why}`, file, path, problem.rule);
}

/**
 * The delegating chain's shape: it starts at top-level targets, each later role names an earlier one as its
 * parent, no role twice; every delegated role of the request names a role of the chain, and a request with
 * delegated roles carries a chain (and format version 3) while one without carries none.
 */
function checkDelegatorShape(
  delegators: readonly Delegator[],
  roles: readonly RequestRole[],
  file: string | undefined,
): void {
  const delegated = roles.filter((r) => r.delegatedBy !== undefined);
  /** a role the request creates, under its parent's new version in the same request */
  const created = (r: RequestRole): boolean =>
    r.trusted === undefined && roles.some((o) => o.role === r.delegatedBy && o.trusted !== undefined);
  if (delegated.length === 0 && delegators.length > 0)
    throw invalid('a delegating chain without delegated roles', file, '$.delegators');
  if (delegated.some((r) => !created(r) || r.delegatedBy !== 'targets') && delegators.length === 0)
    throw invalid('delegated roles need their delegating chain', file, '$.delegators');
  const names = new Set<string>();
  delegators.forEach((d, i) => {
    const p = `$.delegators[${i}]`;
    if (i === 0 ? d.role !== 'targets' || d.delegatedBy !== undefined : d.delegatedBy === undefined)
      throw invalid(
        i === 0 ? 'the delegating chain starts at top-level targets' : `${d.role} names no parent`,
        file,
        p,
        'the chain runs from targets down, each role after its parent',
      );
    if (i > 0) checkDelegatedName(d.role, file, `${p}.role`);
    if (names.has(d.role)) throw invalid(`${d.role} listed twice in the delegating chain`, file, `${p}.role`);
    if (d.delegatedBy !== undefined && !names.has(d.delegatedBy))
      throw invalid(`${d.role}'s parent ${d.delegatedBy} is not earlier in the chain`, file, `${p}.delegated_by`);
    names.add(d.role);
  });
  for (const r of delegated) {
    if (created(r)) {
      // its parent's new version names its keys; the parent's own chain is checked with the parent
      if (names.has(r.role) || roles.some((o) => o.delegatedBy === r.role))
        throw invalid(`${r.role} is new in this request and cannot delegate yet`, file, '$.roles');
      continue;
    }
    if (!names.has(r.delegatedBy as string))
      throw invalid(`${r.role}'s parent ${r.delegatedBy as string} is not in the delegating chain`, file, '$.roles');
    if (names.has(r.role) || roles.some((o) => o.role === r.delegatedBy))
      throw invalid(
        `${r.role} and the role delegating to it are both changed by this request`,
        file,
        '$.roles',
        'a delegated role is signed under its parent as published',
      );
  }
}

// ------------------------------------------------------------------ integrity

export interface IntegrityProblem {
  code: 'TRANSCRIPT_BROKEN' | 'REQUEST_INVALID' | 'SIGNATURE_REFUSED';
  message: string;
  path?: string;
}

export interface Integrity {
  transcript: TranscriptCheck;
  problems: IntegrityProblem[];
}

/**
 * Recompute everything that makes a request trustworthy: the chain, every
 * signature against the plan, the transcript covering exactly the signatures
 * present, and the trusted root signed by its own threshold.
 */
export function integrityOf(req: SigningRequest): Integrity {
  const problems: IntegrityProblem[] = [];
  const transcript = checkChain(req.transcript);
  if (!transcript.ok)
    problems.push({
      code: 'TRANSCRIPT_BROKEN',
      message: transcript.problem ?? 'broken chain',
      path: `$.transcript[${transcript.at ?? 0}]`,
    });
  if (req.trustedRoot !== undefined) {
    const tr = req.trustedRoot;
    const role = tr.signed.role('root');
    const data = tr.signedBytes();
    const counted = new Set<string>();
    for (const keyid of role.keyids) {
      const key = tr.signed.keys.get(keyid);
      const sig = tr.signatures.get(keyid);
      if (key !== undefined && sig !== undefined && key.verify(sig.bytes(), data))
        counted.add(key.publicKeyFingerprint());
    }
    if (counted.size < role.threshold)
      problems.push({
        code: 'REQUEST_INVALID',
        message: `the trusted root v${tr.signed.version} is not signed by its own threshold`,
        path: '$.trusted_root',
      });
  }
  const plans = planFor(req);
  const recorded = new Set<string>();
  for (const e of req.transcript)
    if (e.event === 'signed')
      recorded.add(
        `${JSON.stringify(e['role'] ?? null)} ${JSON.stringify(e['keyid'] ?? null)} ${JSON.stringify(e['payload_sha256'] ?? null)}`,
      );
  req.roles.forEach((r, i) => {
    const plan = plans[i];
    const data = r.metadata.signedBytes();
    const sha = sha256Hex(data);
    for (const [keyid, sig] of r.metadata.signatures) {
      const path = `$.roles[${i}].metadata.signatures[${keyid}]`;
      const inPlan =
        plan !== undefined && (plan.keyids.includes(keyid) || (plan.previous?.keyids.includes(keyid) ?? false));
      const key = planKey(req, keyid);
      if (!inPlan || key === undefined)
        problems.push({
          code: 'SIGNATURE_REFUSED',
          message: `${r.role} carries a signature from key ${keyid.slice(0, 12)}… which is not in its plan`,
          path,
        });
      else if (!key.verify(sig.bytes(), data))
        problems.push({
          code: 'SIGNATURE_REFUSED',
          message: `${r.role} carries a signature from ${keyid.slice(0, 12)}… that does not verify over its content`,
          path,
        });
      else if (
        transcript.ok &&
        !recorded.has(`${JSON.stringify(r.role)} ${JSON.stringify(keyid)} ${JSON.stringify(sha)}`)
      )
        problems.push({
          code: 'TRANSCRIPT_BROKEN',
          message: `the ${r.role} signature from ${keyid.slice(0, 12)}… has no transcript entry`,
          path,
        });
    }
    if (transcript.ok) {
      for (const e of req.transcript) {
        if (
          e.event === 'signed' &&
          e['role'] === r.role &&
          typeof e['keyid'] === 'string' &&
          !r.metadata.signatures.has(e['keyid'])
        ) {
          problems.push({
            code: 'TRANSCRIPT_BROKEN',
            message: `the transcript records a ${r.role} signature from ${e['keyid'].slice(0, 12)}… that is missing from the request`,
            path: `$.roles[${i}].metadata.signatures`,
          });
        }
      }
    }
  });
  return { transcript, problems };
}

/** Refuse to work on a request whose transcript or signatures were tampered with (BAD-64). */
export function requireIntact(req: SigningRequest, file?: string): void {
  const integrity = integrityOf(req);
  const first = integrity.problems[0];
  if (first === undefined) return;
  throw new TufsignError(
    first.code === 'SIGNATURE_REFUSED' ? 'REQUEST_INVALID' : first.code,
    `the request cannot be used: ${first.message}`,
    {
      file,
      path: first.path,
      rule: 'BAD-64 a request edited by hand is refused',
      suggestion: 'Use an unedited copy of the request.',
      details: { problems: integrity.problems },
    },
  );
}
