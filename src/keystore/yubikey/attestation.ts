/**
 * YubiKey PIV attestation: verify a slot attestation certificate and the
 * device (f9) certificate up to Yubico's PIV attestation CA, decode Yubico's
 * extensions, and check key policies ("root keys must be attested YubiKey keys
 * with touch always"). Pure: certificates in, facts or TufsignError out.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { derChildren, readDer } from '../der';
import { TufsignError } from '../../errors';
import { sha256Hex } from '../../io/hash';
import { newObject, type JsonObject } from '../../tuf/json';
import type { Key } from '../../tuf/key';
import { pinPolicyName, touchPolicyName, type PinPolicy, type TouchPolicy } from './piv';
import { YUBICO_PIV_INTERMEDIATES, YUBICO_PIV_ROOTS } from './yubico-ca';

// node:crypto's X509Certificate (OpenSSL) does the signature checks. @peculiar/x509 2.x
// cannot even be loaded without a global Reflect-metadata polyfill, which the CLI does not ship.

export const YUBICO_OID = {
  firmware: '1.3.6.1.4.1.41482.3.3',
  serial: '1.3.6.1.4.1.41482.3.7',
  policy: '1.3.6.1.4.1.41482.3.8',
  formFactor: '1.3.6.1.4.1.41482.3.9',
  fips: '1.3.6.1.4.1.41482.3.10',
} as const;

export const FORM_FACTORS: Record<number, string> = {
  0x01: 'usb-a-keychain',
  0x02: 'usb-a-nano',
  0x03: 'usb-c-keychain',
  0x04: 'usb-c-nano',
  0x05: 'usb-c-lightning',
  0x06: 'usb-a-bio',
  0x07: 'usb-c-bio',
};

export type CertInput = string | Uint8Array;

export interface AttestationInput {
  /** The slot attestation certificate (`yubico-piv-tool -a attest`), PEM or DER. */
  keyCert: CertInput;
  /** The device certificate from slot f9, PEM or DER. */
  deviceCert: CertInput;
  /** Trust anchors; default: Yubico's PIV attestation roots. */
  roots?: readonly CertInput[];
  /** CAs allowed between the device certificate and a root; default: Yubico's published intermediates. */
  intermediates?: readonly CertInput[];
  /** The public key the attestation must be for. */
  publicKey?: Key | KeyObject;
  /** The serial the key must come from (BAD-58). */
  expectedSerial?: number;
  /** When given, every certificate of the chain must be valid at this instant (time is a parameter). */
  now?: Date;
}

/** What a verified attestation proves: the certificates' claims, the chain up to a trusted root, and the PEMs. */
export interface AttestationFacts extends AttestationClaims {
  /** Subjects from the key certificate up to the root. */
  chain: string[];
  root: { subject: string; sha256: string };
  keyCertPem: string;
  deviceCertPem: string;
}

function invalid(message: string, details?: Record<string, unknown>, cause?: unknown): TufsignError {
  return new TufsignError('ATTESTATION_INVALID', message, {
    rule: 'BAD-58 attested on-device keys only',
    suggestion:
      "Re-run `tufsign key generate --backend yubikey` on the keyholder's YubiKey, or check that the files belong together.",
    details,
    cause,
  });
}

function toCert(input: CertInput, what: string): X509Certificate {
  try {
    return new X509Certificate(typeof input === 'string' ? input.trim() : Buffer.from(input));
  } catch (cause) {
    throw invalid(`${what} is not an X.509 certificate`, undefined, cause);
  }
}

function oidBytes(oid: string): Buffer {
  const parts = oid.split('.').map(Number);
  const out = [40 * (parts[0] ?? 0) + (parts[1] ?? 0)];
  for (const p of parts.slice(2)) {
    const stack = [p & 0x7f];
    for (let v = p >> 7; v > 0; v >>= 7) stack.unshift((v & 0x7f) | 0x80);
    out.push(...stack);
  }
  return Buffer.from(out);
}

/** The extnValue octets of an extension, from the certificate DER (tbsCertificate [3] extensions). */
export function extensionValue(certDer: Buffer, oid: string): Buffer | undefined {
  try {
    const tbs = derChildren(readDer(certDer, 0).body)[0];
    if (tbs === undefined) return undefined;
    const exts = derChildren(tbs.body).find((d) => d.tag === 0xa3);
    if (exts === undefined) return undefined;
    const want = oidBytes(oid);
    for (const ext of derChildren(readDer(exts.body, 0).body)) {
      const parts = derChildren(ext.body);
      if (parts[0]?.tag === 0x06 && parts[0].body.equals(want)) return parts[parts.length - 1]?.body;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function extensionBytes(cert: X509Certificate, oid: string): Buffer | undefined {
  return extensionValue(cert.raw, oid);
}

/** "CN=Yubico PIV Attestation" (Node joins RDNs with newlines). */
function name(n: string): string {
  return n.split('\n').join(', ');
}

function parseDerInteger(b: Buffer): number | undefined {
  if (b[0] !== 0x02) return undefined;
  const len = b[1] ?? 0;
  if (len < 1 || len > 5 || b.length !== 2 + len) return undefined;
  let n = 0;
  for (let i = 0; i < len; i++) n = n * 256 + (b[2 + i] ?? 0);
  return n;
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  if (cert.issuer !== issuer.subject) return false;
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function spki(key: Key | KeyObject): Buffer {
  const ko = 'keyObject' in key && typeof key.keyObject === 'function' ? key.keyObject() : (key as KeyObject);
  return ko.export({ format: 'der', type: 'spki' });
}

/** Verify an attestation and return what it proves; rejects with ATTESTATION_INVALID / _UNTRUSTED / _EXPIRED. */
export function verifyAttestation(input: AttestationInput): Promise<AttestationFacts> {
  try {
    return Promise.resolve(verifyAttestationSync(input));
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

/** The claims the two certificates carry about the device and the slot (one list, for facts and content alike). */
export interface AttestationClaims {
  serial: number;
  firmware: string;
  pinPolicy: PinPolicy | undefined;
  touchPolicy: TouchPolicy | undefined;
  formFactor: string | undefined;
  /** Slot named in the attestation subject ("YubiKey PIV Attestation 9c"). */
  slot: string | undefined;
  publicKey: KeyObject;
}

/** What the two certificates say, before any trust decision: the key certificate is signed by the device certificate. */
export interface AttestationContent extends AttestationClaims {
  keyCert: X509Certificate;
  deviceCert: X509Certificate;
}

/** Decode a key certificate and its device certificate (no chain, no dates): ATTESTATION_INVALID when they do not belong together. */
export function readAttestationContent(keyCertIn: CertInput, deviceCertIn: CertInput): AttestationContent {
  const keyCert = toCert(keyCertIn, 'the attestation certificate');
  const deviceCert = toCert(deviceCertIn, 'the device (f9) certificate');
  if (!signedBy(keyCert, deviceCert)) {
    throw invalid('the attestation certificate is not signed by the device certificate', {
      keyCertIssuer: name(keyCert.issuer),
      deviceCert: name(deviceCert.subject),
    });
  }
  const fw = extensionBytes(keyCert, YUBICO_OID.firmware);
  const serialExt = extensionBytes(keyCert, YUBICO_OID.serial);
  const policy = extensionBytes(keyCert, YUBICO_OID.policy);
  const ff = extensionBytes(keyCert, YUBICO_OID.formFactor);
  if (fw?.length !== 3) throw invalid('the attestation has no firmware extension (1.3.6.1.4.1.41482.3.3)');
  const serial = serialExt === undefined ? undefined : parseDerInteger(serialExt);
  if (serial === undefined) throw invalid('the attestation has no serial number extension (1.3.6.1.4.1.41482.3.7)');
  if (policy?.length !== 2) throw invalid('the attestation has no PIN/touch policy extension (1.3.6.1.4.1.41482.3.8)');
  let publicKey: KeyObject;
  try {
    publicKey = keyCert.publicKey;
  } catch (cause) {
    throw invalid('the attested public key does not decode', undefined, cause);
  }
  const slotMatch = /YubiKey PIV Attestation ([0-9a-fA-F]{2})$/.exec(name(keyCert.subject));
  const ffCode = ff?.[0];
  return {
    keyCert,
    deviceCert,
    serial,
    firmware: `${fw[0] ?? 0}.${fw[1] ?? 0}.${fw[2] ?? 0}`,
    pinPolicy: pinPolicyName(policy[0] ?? 0),
    touchPolicy: touchPolicyName(policy[1] ?? 0),
    formFactor: ffCode === undefined ? undefined : (FORM_FACTORS[ffCode & 0x7f] ?? `unknown-0x${ffCode.toString(16)}`),
    slot: slotMatch?.[1]?.toLowerCase(),
    publicKey,
  };
}

/** Every certificate of the chain must be valid at `now` (ATTESTATION_EXPIRED names which and when). */
function checkValidity(certs: readonly X509Certificate[], now: Date): void {
  for (const c of certs) {
    const from = new Date(c.validFrom);
    const to = new Date(c.validTo);
    if (now < from || now > to) {
      throw new TufsignError(
        'ATTESTATION_EXPIRED',
        `the attestation certificate ${name(c.subject)} is ${now < from ? 'not valid yet' : 'expired'} (valid ${from.toISOString()} to ${to.toISOString()}, now ${now.toISOString()})`,
        {
          rule: 'X.509 validity period (RFC 5280 §4.1.2.5)',
          details: { subject: name(c.subject), notBefore: from.toISOString(), notAfter: to.toISOString() },
          suggestion:
            'Check the clock (TUFSIGN_NOW pins it); an expired attestation cannot prove the key any more: generate and attest a new key.',
        },
      );
    }
  }
}

/** `verifyAttestation`, synchronously (node:crypto checks signatures synchronously). */
export function verifyAttestationSync(input: AttestationInput): AttestationFacts {
  const content = readAttestationContent(input.keyCert, input.deviceCert);
  const { keyCert, deviceCert, serial, publicKey } = content;
  const roots = (input.roots ?? YUBICO_PIV_ROOTS).map((r, i) => toCert(r, `trusted root #${i + 1}`));
  const intermediates = (input.intermediates ?? YUBICO_PIV_INTERMEDIATES).map((r, i) =>
    toCert(r, `intermediate #${i + 1}`),
  );
  // Walk up from the device certificate through known CAs only; the chain may
  // never pass through caller-supplied certificates other than these.
  const chain = [name(keyCert.subject), name(deviceCert.subject)];
  const path: X509Certificate[] = [keyCert, deviceCert];
  let current = deviceCert;
  let root: X509Certificate | undefined;
  for (let depth = 0; depth < 6 && root === undefined; depth++) {
    let next: X509Certificate | undefined;
    for (const r of roots) {
      if (signedBy(current, r)) {
        root = r;
        break;
      }
    }
    if (root !== undefined) break;
    for (const c of intermediates) {
      if (c !== current && signedBy(current, c)) {
        next = c;
        break;
      }
    }
    if (next === undefined) break;
    chain.push(name(next.subject));
    path.push(next);
    current = next;
  }
  if (root === undefined) {
    throw new TufsignError(
      'ATTESTATION_UNTRUSTED',
      `the device certificate (${name(deviceCert.subject)}) chains to ${name(current.issuer)}, which is not a trusted YubiKey PIV attestation root`,
      {
        rule: 'BAD-58 attestations chain to Yubico (or a CA given with --attestation-ca)',
        details: { chain, unknownIssuer: name(current.issuer) },
        suggestion:
          "Trust that CA explicitly with --attestation-ca FILE if it is yours (a test or private CA); a real YubiKey chains to Yubico's roots, which tufsign ships.",
      },
    );
  }
  chain.push(name(root.subject));
  path.push(root);
  if (input.now !== undefined) checkValidity(path, input.now);

  if (
    input.publicKey !== undefined &&
    !spki(input.publicKey).equals(publicKey.export({ format: 'der', type: 'spki' }))
  ) {
    throw invalid(`the attestation is for a different public key than this key (YubiKey ${serial})`, { serial });
  }
  if (input.expectedSerial !== undefined && input.expectedSerial !== serial) {
    throw invalid(`the key was attested by YubiKey ${serial}, not the enrolled YubiKey ${input.expectedSerial}`, {
      serial,
      expectedSerial: input.expectedSerial,
    });
  }
  return {
    serial,
    firmware: content.firmware,
    pinPolicy: content.pinPolicy,
    touchPolicy: content.touchPolicy,
    formFactor: content.formFactor,
    slot: content.slot,
    publicKey,
    chain,
    root: { subject: name(root.subject), sha256: sha256Hex(root.raw) },
    keyCertPem: keyCert.toString(),
    deviceCertPem: deviceCert.toString(),
  };
}

export const ATTESTATION_TYPE = 'yubikey-piv';

/** The `attestation` object carried in a public key file. The certificates are the evidence; the other fields are for people. */
export function attestationToJson(facts: AttestationFacts): JsonObject {
  const o = newObject();
  o['type'] = ATTESTATION_TYPE;
  o['serial'] = facts.serial;
  o['firmware'] = facts.firmware;
  if (facts.slot !== undefined) o['slot'] = facts.slot;
  if (facts.pinPolicy !== undefined) o['pinPolicy'] = facts.pinPolicy;
  if (facts.touchPolicy !== undefined) o['touchPolicy'] = facts.touchPolicy;
  if (facts.formFactor !== undefined) o['formFactor'] = facts.formFactor;
  o['root'] = facts.root.subject;
  o['rootSha256'] = facts.root.sha256;
  o['keyCert'] = facts.keyCertPem;
  o['deviceCert'] = facts.deviceCertPem;
  return o;
}
