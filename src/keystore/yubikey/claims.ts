/**
 * The `attestation` object of a public key file, checked claim by claim
 * against its certificates (ADR 0004, ADR 0009): serial, slot, firmware, form
 * factor, PIN and touch policy, the attested key, the URI's serial and slot,
 * the root and its hash. A field the certificates contradict is refused,
 * naming it; claims without certificates (or under a CA tufsign does not
 * trust) are only ever "unattested claims". Pure: time and trust anchors are
 * parameters.
 */
import { TufsignError } from '../../errors';
import { newObject, type JsonObject } from '../../tuf/json';
import type { Key } from '../../tuf/key';
import type { PublicKeyFile } from '../public-key-file';
import {
  ATTESTATION_TYPE,
  attestationToJson,
  readAttestationContent,
  verifyAttestationSync,
  type AttestationContent,
  type AttestationFacts,
  type CertInput,
} from './attestation';
import type { PinPolicy, TouchPolicy } from './piv';

/** Every field tufsign writes into an attestation object; anything else cannot be checked and is refused. */
export const ATTESTATION_FIELDS = [
  'type',
  'serial',
  'firmware',
  'slot',
  'pinPolicy',
  'touchPolicy',
  'formFactor',
  'root',
  'rootSha256',
  'keyCert',
  'deviceCert',
] as const;

const WELL_FORMED: Record<string, (v: unknown) => boolean> = {
  type: (v) => v === ATTESTATION_TYPE,
  serial: (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff,
  firmware: (v) => typeof v === 'string' && /^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v),
  slot: (v) => typeof v === 'string' && /^[0-9a-f]{2}$/.test(v),
  pinPolicy: (v) => typeof v === 'string' && /^(default|never|once|always|match-once|match-always)$/.test(v),
  touchPolicy: (v) => typeof v === 'string' && /^(default|never|always|cached)$/.test(v),
  formFactor: (v) => typeof v === 'string' && /^[a-z0-9-]{1,32}$/.test(v),
  root: (v) => typeof v === 'string' && v.length <= 512,
  rootSha256: (v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v),
  keyCert: (v) => typeof v === 'string' && v.length <= 16384,
  deviceCert: (v) => typeof v === 'string' && v.length <= 16384,
};

export interface AttestationTrust {
  roots?: readonly CertInput[];
  intermediates?: readonly CertInput[];
  /** certificates must be valid at this instant (omit only in tests of other properties) */
  now?: Date;
}

export type AttestationAssessment =
  | { status: 'attested'; facts: AttestationFacts }
  | { status: 'unattested-claims'; claims: JsonObject; reason: string; error?: TufsignError };

function mismatch(
  field: string,
  said: unknown,
  proven: unknown,
  where = `$.attestation.${field}`,
  against = 'the attestation certificate',
): TufsignError {
  return new TufsignError(
    'ATTESTATION_CLAIM_MISMATCH',
    `the key file's ${field.startsWith('uri ') ? field : `attestation field "${field}"`} says ${JSON.stringify(said)} but ${against} says ${JSON.stringify(proven)}`,
    {
      path: where,
      rule: 'every claim in a key file must agree with its attestation certificates (ADR 0004)',
      details: { field, claimed: said as never, certificate: proven as never },
      suggestion:
        'Use the public key file exactly as `tufsign key generate --backend yubikey --public-out` or `key export` wrote it, or re-export it from the YubiKey.',
    },
  );
}

function malformed(field: string, why: string): TufsignError {
  return new TufsignError('ATTESTATION_INVALID', `the attestation field "${field}" ${why}`, {
    path: `$.attestation.${field}`,
    rule: `attestation fields: ${ATTESTATION_FIELDS.join(', ')}`,
    details: { field },
  });
}

/** The shape rules every attestation object meets, with or without certificates. */
function checkShape(att: JsonObject): void {
  for (const field of Object.keys(att)) {
    if (!(ATTESTATION_FIELDS as readonly string[]).includes(field))
      throw malformed(field, 'is not one tufsign can check against a certificate');
    if (WELL_FORMED[field]?.(att[field]) !== true) throw malformed(field, 'is not well formed');
  }
  if (att['type'] === undefined) throw malformed('type', `is missing (must be "${ATTESTATION_TYPE}")`);
  if ((att['keyCert'] === undefined) !== (att['deviceCert'] === undefined))
    throw malformed(att['keyCert'] === undefined ? 'keyCert' : 'deviceCert', 'is missing: both certificates or none');
}

/** A yubikey: URI's serial and slot, when it is one (other URIs claim nothing about a YubiKey). */
function uriClaims(uri: string | undefined): { serial?: number; slot?: string } | undefined {
  if (uri === undefined || !uri.startsWith('yubikey:')) return undefined;
  const out: { serial?: number; slot?: string } = {};
  for (const part of uri.slice('yubikey:'.length).split(';')) {
    const [k, v] = part.split('=');
    if (k === 'serial' && v !== undefined && /^\d{1,10}$/.test(v)) out.serial = Number(v);
    if (k === 'slot' && v !== undefined) out.slot = v.toLowerCase().replace(/^0x/, '');
  }
  return out;
}

/** Claims vs what the certificates say (no trust decision): ATTESTATION_CLAIM_MISMATCH naming the first field that differs. */
function checkAgainstContent(att: JsonObject, content: AttestationContent, key: Key | undefined, uri?: string): void {
  const pairs: [string, unknown][] = [
    ['serial', content.serial],
    ['slot', content.slot],
    ['firmware', content.firmware],
    ['formFactor', content.formFactor],
    ['pinPolicy', content.pinPolicy],
    ['touchPolicy', content.touchPolicy],
  ];
  for (const [field, proven] of pairs) {
    if (att[field] !== undefined && att[field] !== proven) throw mismatch(field, att[field], proven);
  }
  if (key !== undefined) {
    const want = content.publicKey.export({ format: 'der', type: 'spki' });
    if (!key.keyObject().export({ format: 'der', type: 'spki' }).equals(want))
      throw mismatch('key', `keyid ${key.keyid()}`, 'another public key', '$.key');
  }
  const u = uriClaims(uri);
  if (u?.serial !== undefined && u.serial !== content.serial)
    throw mismatch('uri serial', u.serial, content.serial, '$.uri');
  if (u?.slot !== undefined && content.slot !== undefined && u.slot !== content.slot)
    throw mismatch('uri slot', u.slot, content.slot, '$.uri');
}

/** Claims-only objects: the URI and the claims must at least agree with each other. */
function checkClaimsAgainstUri(att: JsonObject, uri: string | undefined): void {
  const u = uriClaims(uri);
  if (u?.serial !== undefined && att['serial'] !== undefined && u.serial !== att['serial'])
    throw mismatch('uri serial', u.serial, att['serial'], '$.uri', 'its attestation claim');
  if (u?.slot !== undefined && att['slot'] !== undefined && u.slot !== att['slot'])
    throw mismatch('uri slot', u.slot, att['slot'], '$.uri', 'its attestation claim');
}

/** The claims without the certificates (what "unattested claims" shows and stores). */
function claimsOnly(att: JsonObject): JsonObject {
  const o = newObject();
  for (const f of ATTESTATION_FIELDS) {
    if (f === 'keyCert' || f === 'deviceCert' || f === 'root' || f === 'rootSha256') continue;
    if (att[f] !== undefined) o[f] = att[f];
  }
  return o;
}

/**
 * Check a key file's attestation completely. Throws ATTESTATION_CLAIM_MISMATCH (a claim the certificates
 * contradict), ATTESTATION_INVALID (malformed; certificates that do not belong together) or
 * ATTESTATION_EXPIRED. A chain to an unknown CA, or no certificates at all, gives `unattested-claims`.
 */
export function assessKeyFileAttestation(
  file: Pick<PublicKeyFile, 'key' | 'uri' | 'attestation'>,
  trust: AttestationTrust,
): AttestationAssessment | undefined {
  const att = file.attestation;
  if (att === undefined) return undefined;
  checkShape(att);
  const keyCert = att['keyCert'];
  const deviceCert = att['deviceCert'];
  if (typeof keyCert !== 'string' || typeof deviceCert !== 'string') {
    checkClaimsAgainstUri(att, file.uri);
    return { status: 'unattested-claims', claims: claimsOnly(att), reason: 'no attestation certificates' };
  }
  const content = readAttestationContent(keyCert, deviceCert);
  checkAgainstContent(att, content, file.key, file.uri);
  let facts: AttestationFacts;
  try {
    const input: Parameters<typeof verifyAttestationSync>[0] = { keyCert, deviceCert };
    if (trust.roots !== undefined) input.roots = trust.roots;
    if (trust.intermediates !== undefined) input.intermediates = trust.intermediates;
    if (trust.now !== undefined) input.now = trust.now;
    facts = verifyAttestationSync(input);
  } catch (e) {
    if (e instanceof TufsignError && e.code === 'ATTESTATION_UNTRUSTED') {
      return { status: 'unattested-claims', claims: claimsOnly(att), reason: e.message, error: e };
    }
    throw e;
  }
  if (att['root'] !== undefined && att['root'] !== facts.root.subject)
    throw mismatch('root', att['root'], facts.root.subject);
  if (att['rootSha256'] !== undefined && att['rootSha256'] !== facts.root.sha256)
    throw mismatch('rootSha256', att['rootSha256'], facts.root.sha256);
  return { status: 'attested', facts };
}

/** `key attest FILE`: the attestation must be complete, consistent and trusted (ATTESTATION_UNTRUSTED otherwise). */
export function verifyPublicKeyFileAttestation(
  file: Pick<PublicKeyFile, 'key' | 'keyid' | 'uri' | 'attestation'>,
  trust: AttestationTrust,
): AttestationFacts {
  const a = assessKeyFileAttestation(file, trust);
  if (a === undefined) {
    throw new TufsignError('ATTESTATION_INVALID', `key ${file.keyid.slice(0, 16)}… carries no attestation`, {
      rule: 'BAD-58 attested on-device keys only',
      suggestion:
        "Export the public key with `tufsign key export 'yubikey:serial=N;slot=9c' --out FILE` on the keyholder machine.",
    });
  }
  if (a.status === 'attested') return a.facts;
  if (a.error !== undefined) throw a.error;
  throw new TufsignError(
    'ATTESTATION_INVALID',
    `key ${file.keyid.slice(0, 16)}… carries only unattested claims (${a.reason})`,
    {
      path: '$.attestation',
      rule: 'BAD-58 claims need the certificates that prove them',
      suggestion: 'Re-export the key from the YubiKey (`key export`), which includes keyCert and deviceCert.',
    },
  );
}

/** What tufsign.json keeps: the verified facts with their certificates, or the bare claims (shown as unattested). */
export function attestationForConfig(a: AttestationAssessment): JsonObject {
  return a.status === 'attested' ? attestationToJson(a.facts) : a.claims;
}

export interface AttestationView {
  status: 'attested' | 'unattested-claims';
  /** one line for people: "attested YubiKey 123 …" or "unattested claims: …" */
  summary: string;
  serial?: number;
}

function claimText(att: JsonObject): string {
  const parts: string[] = [];
  const add = (label: string, field: string): void => {
    const v = att[field];
    if ((typeof v === 'string' || typeof v === 'number') && WELL_FORMED[field]?.(v) === true)
      parts.push(`${label} ${v}`);
  };
  add('serial', 'serial');
  add('firmware', 'firmware');
  add('slot', 'slot');
  add('pin', 'pinPolicy');
  add('touch', 'touchPolicy');
  add('form factor', 'formFactor');
  return parts.join(', ');
}

/**
 * How a stored attestation (tufsign.json, a request) is shown: "attested" only when its certificates are
 * there and every claim agrees with them (the chain was checked when the key was added); otherwise the
 * claims are shown as "unattested claims", never as facts.
 */
export function viewAttestation(att: JsonObject | undefined): AttestationView | undefined {
  if (att === undefined) return undefined;
  const keyCert = att['keyCert'];
  const deviceCert = att['deviceCert'];
  if (typeof keyCert === 'string' && typeof deviceCert === 'string') {
    try {
      checkShape(att);
      const content = readAttestationContent(keyCert, deviceCert);
      checkAgainstContent(att, content, undefined);
      const root = typeof att['root'] === 'string' && WELL_FORMED['root']?.(att['root']) ? `, root ${att['root']}` : '';
      return {
        status: 'attested',
        summary: `attested ${ATTESTATION_TYPE}: ${claimText(att)}${root}`,
        serial: content.serial,
      };
    } catch {
      return {
        status: 'unattested-claims',
        summary: `unattested claims (they contradict the certificates): ${claimText(att)}`,
      };
    }
  }
  return { status: 'unattested-claims', summary: `unattested claims: ${claimText(att)}` };
}

export interface KeyPolicy {
  /** The key must carry a valid YubiKey attestation. */
  requireAttestation: boolean;
  /** Accepted touch policies (e.g. ['always']). */
  touchPolicies?: readonly TouchPolicy[];
  /** Accepted PIN policies (e.g. ['always', 'once']). */
  pinPolicies?: readonly PinPolicy[];
  /** Enrolled serials, when the organizer pins devices. */
  serials?: readonly number[];
  roots?: readonly CertInput[];
  intermediates?: readonly CertInput[];
}

/** "Root keys must be attested YubiKey keys with touch always." */
export const ROOT_KEY_POLICY: KeyPolicy = {
  requireAttestation: true,
  touchPolicies: ['always'],
  pinPolicies: ['always', 'once'],
};

export interface PolicyResult {
  ok: boolean;
  keyid: string;
  violations: string[];
  facts?: AttestationFacts;
}

/** The policy's rules on facts already verified (also used when a device re-attests at signing). */
export function policyViolations(facts: AttestationFacts, policy: KeyPolicy): string[] {
  const violations: string[] = [];
  if (
    policy.touchPolicies !== undefined &&
    (facts.touchPolicy === undefined || !policy.touchPolicies.includes(facts.touchPolicy))
  ) {
    violations.push(
      `touch policy is "${facts.touchPolicy ?? 'unknown'}", the policy requires ${policy.touchPolicies.join(' or ')}`,
    );
  }
  if (
    policy.pinPolicies !== undefined &&
    (facts.pinPolicy === undefined || !policy.pinPolicies.includes(facts.pinPolicy))
  ) {
    violations.push(
      `PIN policy is "${facts.pinPolicy ?? 'unknown'}", the policy requires ${policy.pinPolicies.join(' or ')}`,
    );
  }
  if (policy.serials !== undefined && !policy.serials.includes(facts.serial)) {
    violations.push(`YubiKey ${facts.serial} is not one of the enrolled devices (${policy.serials.join(', ')})`);
  }
  return violations;
}

/**
 * Check one public key file against a policy. Edited claims, malformed attestations and expired
 * certificates throw (they are errors in the file, not policy facts); an unattested key is a violation.
 */
export function checkKeyPolicy(
  file: Pick<PublicKeyFile, 'key' | 'keyid' | 'uri' | 'attestation'>,
  policy: KeyPolicy,
  now?: Date,
): PolicyResult {
  const result: PolicyResult = { ok: true, keyid: file.keyid, violations: [] };
  const trust: AttestationTrust = {};
  if (policy.roots !== undefined) trust.roots = policy.roots;
  if (policy.intermediates !== undefined) trust.intermediates = policy.intermediates;
  if (now !== undefined) trust.now = now;
  const a = assessKeyFileAttestation(file, trust);
  if (!policy.requireAttestation) {
    if (a?.status === 'attested') result.facts = a.facts;
    return result;
  }
  if (a === undefined) return { ok: false, keyid: file.keyid, violations: ['the key carries no attestation'] };
  if (a.status !== 'attested')
    return { ok: false, keyid: file.keyid, violations: [`the key carries only unattested claims: ${a.reason}`] };
  result.facts = a.facts;
  result.violations = policyViolations(a.facts, policy);
  result.ok = result.violations.length === 0;
  return result;
}

export function policyError(keyid: string, violations: string[]): TufsignError {
  return new TufsignError(
    'POLICY_VIOLATION',
    `key ${keyid.slice(0, 16)}… does not meet the key policy: ${violations.join('; ')}`,
    {
      rule: 'BAD-58 root keys must be attested YubiKey keys with touch always',
      details: { keyid, violations },
      suggestion:
        'Generate the key on a YubiKey with `--touch-policy always` and hand over the public key file with its attestation.',
    },
  );
}

/** `checkKeyPolicy`, throwing POLICY_VIOLATION. */
export function assertKeyPolicy(
  file: Pick<PublicKeyFile, 'key' | 'keyid' | 'uri' | 'attestation'>,
  policy: KeyPolicy,
  now?: Date,
): AttestationFacts | undefined {
  const r = checkKeyPolicy(file, policy, now);
  if (!r.ok) throw policyError(file.keyid, r.violations);
  return r.facts;
}
