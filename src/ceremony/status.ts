/**
 * Ceremony status, recomputed from the metadata and signatures every time
 * (never from stored counters): per role and per threshold (for root: the
 * previous root's and the new one's), who signed, who is still needed by
 * keyid, owner and device serial, and whether the request can be finalized.
 */
import type { TopLevelRole } from '../tuf/metadata';
import { formatExpires } from '../tuf/time';
import { verificationResult, type VerificationResult } from '../tuf/verify';
import { roleFingerprint } from './fingerprint';
import {
  authorityOf,
  ceremonyId,
  roleKind,
  integrityOf,
  requestFingerprint,
  signedSha256,
  type IntegrityProblem,
  type RequestRole,
  type SigningRequest,
} from './request';
import type { TranscriptCheck } from './transcript';

export interface KeyNeed {
  keyid: string;
  owner?: string;
  serial?: string;
  uri?: string;
}

export interface SideStatus {
  /** `new`: the role's own threshold; `previous`: the trusted root's root threshold (root only) */
  side: 'new' | 'previous';
  threshold: number;
  /** keyids whose signature verifies and counts (each public key once) */
  signed: string[];
  /** keyids whose signature is present but does not verify */
  invalid: string[];
  missing: number;
  /** keys of this side without a valid signature: any `missing` of them will do */
  needed: KeyNeed[];
  verified: boolean;
}

export interface RequestRoleStatus {
  role: string;
  version: number;
  expires: string;
  signedSha256: string;
  fingerprint: string;
  sides: SideStatus[];
  complete: boolean;
  expired: boolean;
  /** seconds of validity left at `now` */
  validFor: number;
  /** the configured minimum validity, when the role falls short of it */
  belowMinValidity?: number;
}

export interface RequestStatus {
  repository: string;
  purpose: string;
  ceremonyId: string;
  fingerprint: string;
  trustedRootVersion?: number;
  roles: RequestRoleStatus[];
  transcript: TranscriptCheck;
  problems: IntegrityProblem[];
  canFinalize: boolean;
  /** why it cannot be finalized yet, in words */
  blockers: string[];
}

export interface StatusOptions {
  /** minimum remaining validity per role, in seconds (config `min_validity`) */
  minValidity?: Partial<Record<TopLevelRole, number>>;
  allowShortExpiry?: boolean;
}

function side(name: 'new' | 'previous', res: VerificationResult, req: SigningRequest): SideStatus {
  const needed = res.unsigned.map((keyid) => {
    const k = req.keyholders.get(keyid);
    const n: KeyNeed = { keyid };
    if (k?.owner !== undefined) n.owner = k.owner;
    if (k?.serial !== undefined) n.serial = k.serial;
    if (k?.uri !== undefined) n.uri = k.uri;
    return n;
  });
  return {
    side: name,
    threshold: res.threshold,
    signed: res.signed,
    invalid: res.invalid,
    missing: res.missing,
    needed,
    verified: res.verified,
  };
}

/** The threshold accounting for one role of the request (root: previous and new). */
export function roleResults(
  req: SigningRequest,
  r: RequestRole,
): { side: 'new' | 'previous'; result: VerificationResult }[] {
  const who = authorityOf(req, r);
  const out: { side: 'new' | 'previous'; result: VerificationResult }[] = [
    { side: 'new', result: verificationResult(r.role, who.role, who.keys, r.metadata) },
  ];
  if (r.role === 'root' && req.trustedRoot !== undefined) {
    const prev = req.trustedRoot.signed;
    out.push({ side: 'previous', result: verificationResult('root', prev.role('root'), prev.keys, r.metadata) });
  }
  return out;
}

export function requestStatus(req: SigningRequest, now: Date, options: StatusOptions = {}): RequestStatus {
  const integrity = integrityOf(req);
  const blockers: string[] = integrity.problems.map((p) => p.message);
  const roles = req.roles.map((r): RequestRoleStatus => {
    const sides = roleResults(req, r).map((x) => side(x.side, x.result, req));
    const sha = signedSha256(r.metadata);
    const validFor = Math.floor((r.metadata.signed.expires.getTime() - now.getTime()) / 1000);
    const s: RequestRoleStatus = {
      role: r.role,
      version: r.metadata.signed.version,
      expires: formatExpires(r.metadata.signed.expires),
      signedSha256: sha,
      fingerprint: roleFingerprint(r.role, sha),
      sides,
      complete: sides.every((x) => x.verified),
      expired: validFor <= 0,
      validFor,
    };
    const min = options.minValidity?.[roleKind(r)];
    if (min !== undefined && validFor < min) s.belowMinValidity = min;
    for (const x of sides) {
      if (!x.verified)
        blockers.push(
          `${r.role}: ${x.side === 'previous' ? 'previous root' : 'its own'} threshold needs ${x.missing} more signature(s) (${x.signed.length}/${x.threshold})`,
        );
    }
    if (s.expired) blockers.push(`${r.role} v${s.version} has expired (${s.expires})`);
    else if (s.belowMinValidity !== undefined && options.allowShortExpiry !== true)
      blockers.push(`${r.role} v${s.version} expires in less than the minimum validity`);
    return s;
  });
  const out: RequestStatus = {
    repository: req.repository,
    purpose: req.purpose,
    ceremonyId: ceremonyId(req),
    fingerprint: requestFingerprint(req),
    roles,
    transcript: integrity.transcript,
    problems: integrity.problems,
    canFinalize: blockers.length === 0,
    blockers,
  };
  if (req.trustedRoot !== undefined) out.trustedRootVersion = req.trustedRoot.signed.version;
  return out;
}

/** Roles (and sides) in which `keyid` could still add a signature; `stillNeeded` when a threshold there is unmet. */
export function signableBy(req: SigningRequest, keyid: string): { role: string; stillNeeded: boolean }[] {
  const out: { role: string; stillNeeded: boolean }[] = [];
  for (const r of req.roles) {
    const results = roleResults(req, r);
    const sides = results.filter((x) => x.result.unsigned.includes(keyid));
    if (sides.length === 0) continue;
    out.push({ role: r.role, stillNeeded: sides.some((x) => !x.result.verified) });
  }
  return out;
}
