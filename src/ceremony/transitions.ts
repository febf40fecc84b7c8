/**
 * The ceremony's transitions: sign, merge, finalize. Each takes a request
 * (and bytes, and `now`) and returns a new request or throws; the input is
 * never changed, so a refused transition changes nothing. The signed content
 * is never touched: signatures are the only thing that can be added.
 */
import { TufsignError } from '../errors';
import { newObject, type JsonObject } from '../tuf/json';
import { Signature, type Metadata, type TopLevelRole } from '../tuf/metadata';
import { formatExpires } from '../tuf/time';
import {
  ceremonyId,
  checkVersions,
  cloneMetadata,
  roleKind,
  planFor,
  planKey,
  requestFingerprint,
  requireIntact,
  roleDigests,
  signedEventFields,
  signedSha256,
  type RequestRole,
  type SigningRequest,
} from './request';
import { roleResults } from './status';
import { appendCopied, appendEvent, knownHashes, type TranscriptEvent } from './transcript';

export interface EventContext {
  now: Date;
  /** `tufsign <version>`, recorded in the transcript */
  tool: string;
}

export interface DeviceFacts {
  serial?: string;
  attestation?: string;
}

export interface SignatureInput {
  role: string;
  keyid: string;
  /** raw signature bytes in the scheme's TUF encoding */
  signature: Uint8Array;
}

export interface SignOutcome {
  request: SigningRequest;
  added: { role: string; keyid: string }[];
  /** already signed by that key: nothing added (signing twice adds nothing) */
  unchanged: { role: string; keyid: string }[];
}

function refused(message: string, rule: string, details?: Record<string, unknown>): TufsignError {
  return new TufsignError('SIGNATURE_REFUSED', message, { rule, ...(details !== undefined ? { details } : {}) });
}

function expiredError(role: string, md: Metadata, now: Date): TufsignError {
  return new TufsignError(
    'EXPIRY_TOO_SHORT',
    `${role} v${md.signed.version} expired at ${formatExpires(md.signed.expires)} (now ${formatExpires(now)})`,
    {
      rule: 'SPEC-16/BAD-16 never sign or publish expired metadata',
      suggestion: 'Start a new request with a later expiry (e.g. --expires 365d).',
    },
  );
}

/**
 * Add signatures to a request. All or nothing: one refused signature refuses
 * the whole batch. Refused: a role not in the request, a key not in the plan,
 * a signature that does not verify over the role's signed bytes, and a second
 * keyid for a public key that already signed on the same side.
 */
export function addSignatures(
  req: SigningRequest,
  inputs: readonly SignatureInput[],
  ctx: EventContext & { device?: DeviceFacts; fingerprintCheck?: 'compared' | 'skipped' },
  file?: string,
): SignOutcome {
  requireIntact(req, file);
  const plans = planFor(req);
  const roles = req.roles.map((r) => ({ ...r }));
  const touched = new Set<string>();
  const added: { role: string; keyid: string }[] = [];
  const unchanged: { role: string; keyid: string }[] = [];
  for (const input of inputs) {
    const idx = roles.findIndex((r) => r.role === input.role);
    const entry = roles[idx];
    const plan = plans[idx];
    if (entry === undefined || plan === undefined)
      throw refused(`the request has no ${input.role} metadata to sign`, 'sign only roles in the request');
    const sides = [plan.keyids, ...(plan.previous !== undefined ? [plan.previous.keyids] : [])].filter((s) =>
      s.includes(input.keyid),
    );
    const key = planKey(req, input.keyid);
    if (sides.length === 0 || key === undefined) {
      throw refused(
        `key ${input.keyid.slice(0, 16)}… is not one of the keys that can sign ${input.role} in this request`,
        'BAD-29 only keys in the plan sign',
        { role: input.role, keyid: input.keyid },
      );
    }
    const md = entry.metadata;
    if (md.signed.isExpired(ctx.now)) throw expiredError(input.role, md, ctx.now);
    const data = md.signedBytes();
    const existing = md.signatures.get(input.keyid);
    if (existing !== undefined && key.verify(existing.bytes(), data)) {
      unchanged.push({ role: input.role, keyid: input.keyid });
      continue;
    }
    if (!key.verify(input.signature, data)) {
      throw refused(
        `the signature from key ${input.keyid.slice(0, 16)}… does not verify over ${input.role} v${md.signed.version} (sha256 ${signedSha256(md).slice(0, 16)}…)`,
        'BAD-30 a signature over other bytes is refused',
        {
          role: input.role,
          keyid: input.keyid,
        },
      );
    }
    // Each public key counts once (BAD-22): a second keyid for a key that already signed on this side is refused.
    const fp = key.publicKeyFingerprint();
    for (const s of sides) {
      for (const other of s) {
        if (other === input.keyid) continue;
        const otherKey = planKey(req, other);
        const otherSig = md.signatures.get(other);
        if (
          otherKey !== undefined &&
          otherSig !== undefined &&
          otherKey.publicKeyFingerprint() === fp &&
          otherKey.verify(otherSig.bytes(), data)
        ) {
          throw refused(
            `key ${input.keyid.slice(0, 16)}… is the same public key as ${other.slice(0, 16)}…, which already signed ${input.role}`,
            'BAD-22 each public key counts once',
            { role: input.role, keyid: input.keyid },
          );
        }
      }
    }
    if (!touched.has(input.role)) {
      entry.metadata = cloneMetadata(md);
      touched.add(input.role);
    }
    entry.metadata.addSignature(new Signature(input.keyid, Buffer.from(input.signature).toString('hex')));
    added.push({ role: input.role, keyid: input.keyid });
  }
  if (added.length === 0) return { request: req, added, unchanged };
  const next: SigningRequest = { ...req, roles };
  let transcript = [...req.transcript];
  for (const a of added)
    transcript = appendEvent(
      transcript,
      'signed',
      signedEventFields(next, a.role, a.keyid, ctx.device, ctx.fingerprintCheck),
      ctx.now,
      ctx.tool,
    );
  return { request: { ...next, transcript }, added, unchanged };
}

// ------------------------------------------------------------------ merge

export interface LabelledRequest {
  request: SigningRequest;
  /** how the user named the copy (file name), for error messages */
  label: string;
}

export interface MergeOutcome {
  request: SigningRequest;
  /** signatures taken from each copy after the first */
  added: { from: string; role: string; keyid: string }[];
}

function trustedRootDigest(req: SigningRequest): string {
  return req.trustedRoot === undefined ? '' : signedSha256(req.trustedRoot);
}

/**
 * Combine copies of one request signed separately. Copies from another
 * repository or ceremony are REQUEST_FOREIGN; a copy whose signed bytes
 * differ is MERGE_CONFLICT, naming the copy and the role.
 */
export function mergeRequests(copies: readonly LabelledRequest[], ctx: EventContext): MergeOutcome {
  const first = copies[0];
  if (first === undefined)
    throw new TufsignError('USAGE', 'merge needs at least one request', { rule: 'ceremony merge A B ...' });
  for (const c of copies) requireIntact(c.request, c.label);
  const base = first.request;
  for (const c of copies.slice(1)) {
    const r = c.request;
    if (r.repository !== base.repository || trustedRootDigest(r) !== trustedRootDigest(base)) {
      throw new TufsignError(
        'REQUEST_FOREIGN',
        `${c.label} belongs to ${r.repository !== base.repository ? `repository "${r.repository}"` : 'another trusted root'}, not to the ceremony in ${first.label}`,
        {
          file: c.label,
          rule: 'BAD-64 only copies of the same ceremony merge',
        },
      );
    }
    const mine = roleDigests(base);
    const theirs = roleDigests(r);
    const differing = [...new Set([...mine.map((d) => d.role), ...theirs.map((d) => d.role)])].filter(
      (role) => mine.find((d) => d.role === role)?.signedSha256 !== theirs.find((d) => d.role === role)?.signedSha256,
    );
    if (differing.length > 0) {
      throw new TufsignError(
        'MERGE_CONFLICT',
        `${c.label} signs different content than ${first.label} (${differing.join(', ')}; fingerprint ${requestFingerprint(r)} vs ${requestFingerprint(base)})`,
        {
          file: c.label,
          rule: 'BAD-30 copies must carry identical signed bytes',
          suggestion: `Do not use ${c.label}: its signatures are over other content.`,
          details: { copy: c.label, roles: differing },
        },
      );
    }
    if (requestFingerprint(r) !== requestFingerprint(base)) {
      throw new TufsignError(
        'MERGE_CONFLICT',
        `${c.label} compares its content against another basis than ${first.label} (fingerprint ${requestFingerprint(r)} vs ${requestFingerprint(base)})`,
        {
          file: c.label,
          rule: 'copies must carry identical signed bytes and diff bases',
          suggestion: `Do not use ${c.label}: what its signers were shown differs.`,
          details: { copy: c.label },
        },
      );
    }
    if (ceremonyId(r) !== ceremonyId(base)) {
      throw new TufsignError(
        'REQUEST_FOREIGN',
        `${c.label} is a different ceremony (${ceremonyId(r).slice(0, 12)}…) over the same content`,
        {
          file: c.label,
          rule: 'BAD-64 only copies of the same ceremony merge',
          suggestion: 'Sign one of the two ceremonies, not both.',
        },
      );
    }
  }
  const roles: RequestRole[] = base.roles.map((r) => ({ ...r }));
  const cloned = new Set<string>();
  let transcript: TranscriptEvent[] = [...base.transcript];
  const added: MergeOutcome['added'] = [];
  const heads: JsonObject[] = [];
  for (const c of copies.slice(1)) {
    const known = knownHashes(transcript);
    const fresh = c.request.transcript.filter(
      (e) => !known.has(e.hash) && !(typeof e['origin_hash'] === 'string' && known.has(e['origin_hash'])),
    );
    let took = false;
    for (const theirRole of c.request.roles) {
      const entry = roles.find((r) => r.role === theirRole.role);
      if (entry === undefined) continue;
      for (const [keyid, sig] of theirRole.metadata.signatures) {
        if (entry.metadata.signatures.has(keyid)) continue;
        if (!cloned.has(entry.role)) {
          entry.metadata = cloneMetadata(entry.metadata);
          cloned.add(entry.role);
        }
        entry.metadata.addSignature(new Signature(sig.keyid, sig.sig));
        added.push({ from: c.label, role: entry.role, keyid });
        took = true;
      }
    }
    if (fresh.length === 0 && !took) continue;
    for (const e of fresh) transcript = appendCopied(transcript, e);
    const h = newObject();
    h['head'] = c.request.transcript[c.request.transcript.length - 1]?.hash ?? '';
    h['signatures_added'] = added.filter((a) => a.from === c.label).length;
    heads.push(h);
  }
  if (heads.length === 0) return { request: base, added };
  const merged: SigningRequest = { ...base, roles };
  const fields = newObject();
  fields['merged'] = heads;
  transcript = appendEvent(transcript, 'merged', fields, ctx.now, ctx.tool);
  return { request: { ...merged, transcript }, added };
}

// ------------------------------------------------------------------ finalize

export interface FinalizeRequestOptions extends EventContext {
  /** minimum remaining validity per role in seconds (default root: 7 days, from the config) */
  minValidity?: Partial<Record<TopLevelRole, number>>;
  allowShortExpiry?: boolean;
}

export interface FinalizeOutcome {
  /** the request with its `finalized` event */
  request: SigningRequest;
  /** the metadata to publish, in request order, carrying only signatures that count */
  metadata: Metadata[];
}

export interface MissingThreshold {
  role: string;
  side: 'new' | 'previous';
  signed: number;
  threshold: number;
  missing: number;
  needed: string[];
}

/**
 * Refuse until every threshold is met — for root both the previous root's
 * and the new one, naming which is missing (SPEC-14/BAD-28) — the root
 * version is exactly previous + 1 (BAD-27), and nothing is expired or below
 * its minimum validity (BAD-16; the minimum can be waived, expiry cannot).
 */
export function finalizeRequest(req: SigningRequest, options: FinalizeRequestOptions, file?: string): FinalizeOutcome {
  requireIntact(req, file);
  checkVersions(req);
  const missing: MissingThreshold[] = [];
  for (const r of req.roles) {
    for (const { side, result } of roleResults(req, r)) {
      if (!result.verified)
        missing.push({
          role: r.role,
          side,
          signed: result.signed.length,
          threshold: result.threshold,
          missing: result.missing,
          needed: result.unsigned,
        });
    }
  }
  if (missing.length > 0) {
    const words = missing.map(
      (m) =>
        `${m.role} ${m.role === 'root' ? (m.side === 'previous' ? 'previous root threshold' : 'new root threshold') : 'threshold'} not met (${m.signed}/${m.threshold}, ${m.missing} more needed)`,
    );
    throw new TufsignError('THRESHOLD_NOT_MET', words.join('; '), {
      file,
      rule: missing.some((m) => m.role === 'root')
        ? 'SPEC-14/BAD-28 root needs the previous AND the new threshold'
        : 'SPEC-11 threshold of distinct keys',
      suggestion: 'Collect the missing signatures (`tufsign ceremony status` lists who), then finalize again.',
      details: { missing },
    });
  }
  for (const r of req.roles) {
    const md = r.metadata;
    if (md.signed.isExpired(options.now)) throw expiredError(r.role, md, options.now);
    const min = options.minValidity?.[roleKind(r)];
    const left = Math.floor((md.signed.expires.getTime() - options.now.getTime()) / 1000);
    if (min !== undefined && left < min && options.allowShortExpiry !== true) {
      throw new TufsignError(
        'EXPIRY_TOO_SHORT',
        `${r.role} v${md.signed.version} expires ${formatExpires(md.signed.expires)}, in ${Math.floor(left / 3600)}h — less than the minimum validity of ${Math.floor(min / 86400)}d`,
        {
          file,
          rule: 'SPEC-16/BAD-16 published metadata keeps a minimum validity',
          suggestion: 'Start a new request with a later expiry, or pass --allow-short-expiry if this is deliberate.',
          details: { role: r.role, validForSeconds: left, minimumSeconds: min },
        },
      );
    }
  }
  // Publish only the signatures that count: from plan keys, verifying.
  const plans = planFor(req);
  const metadata = req.roles.map((r, i) => {
    const md = cloneMetadata(r.metadata);
    const plan = plans[i];
    const data = md.signedBytes();
    for (const [keyid, sig] of [...md.signatures]) {
      const inPlan =
        plan !== undefined && (plan.keyids.includes(keyid) || (plan.previous?.keyids.includes(keyid) ?? false));
      const key = planKey(req, keyid);
      if (!inPlan || key === undefined || !key.verify(sig.bytes(), data)) md.signatures.delete(keyid);
    }
    return md;
  });
  const fields = newObject();
  fields['roles'] = req.roles.map((r, i) => {
    const o = newObject();
    o['role'] = r.role;
    o['version'] = r.metadata.signed.version;
    o['payload_sha256'] = signedSha256(r.metadata);
    o['signatures'] = [...(metadata[i]?.signatures.keys() ?? [])];
    return o;
  });
  fields['fingerprint'] = requestFingerprint(req);
  const transcript = appendEvent(req.transcript, 'finalized', fields, options.now, options.tool);
  return { request: { ...req, transcript }, metadata };
}
