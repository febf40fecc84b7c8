/** Key management behind `key generate | show | export | import | list`. */
import { sha256Hex } from '../io/hash';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import { TufsignError } from '../errors';
import { fileExists, readFileBounded, removeAtomicWriteLeftovers, removeFileQuietly, writeFileAtomic } from '../io/fs';
import type { GenerateRequest, OpenOptions } from '../keystore/backend';
import { parsePublicKeyFile, serializePublicKeyFile, type PublicKeyFile } from '../keystore/public-key-file';
import { backendLabel, parseKeyRef, type KeyRef } from '../keystore/key-ref';
import { backendOfUri } from '../keystore/signer';
import { BACKENDS, readPublicKey } from '../keystore/registry';
import type { JsonObject } from '../tuf/json';
import type { Key } from '../tuf/key';
import { TOP_LEVEL_ROLES } from '../tuf/metadata';
import type { Workspace } from './workspace';
import type { WorkspaceConfig } from './config';
import { attestationToJson, verifyAttestationSync, type AttestationFacts } from '../keystore/yubikey/attestation';
import { clockFromEnv } from '../io/clock';
import {
  assessKeyFileAttestation,
  policyViolations,
  verifyPublicKeyFileAttestation,
  ROOT_KEY_POLICY,
  viewAttestation,
  type KeyPolicy,
} from '../keystore/yubikey/claims';
import { trustedAttestationRoots } from '../keystore/yubikey/roots';
import { algOfKeyObject, schemeForAlg } from '../keystore/yubikey/keys';
import { YUBICO_PIV_INTERMEDIATES, YUBICO_PIV_ROOTS } from '../keystore/yubikey/yubico-ca';
import { keyFromPublicKeyObject } from '../tuf/key';

export interface KeyGenerationResult {
  uri: string;
  keyid: string;
  scheme: string;
  key: ReturnType<Key['toJSON']>;
  publicKeyText: string;
  publicFile?: string;
  attestation?: JsonObject;
  /**
   * a re-run after a kill: the key file was already there (and opened with the passphrase), or the token already
   * held the complete key pair under the label (after the PIN); no key was made
   */
  resumed?: true;
}

export interface KeyGenerateOptions extends Omit<GenerateRequest, 'outFile'> {
  backend: 'file' | 'pkcs11' | 'yubikey';
  outFile?: string;
  publicOut?: string;
  owner?: string;
}

function describe(
  uri: string,
  key: Key,
  attestation: JsonObject | undefined,
  publicFile: string | undefined,
): KeyGenerationResult {
  const r: KeyGenerationResult = {
    uri,
    keyid: key.keyid(),
    scheme: key.scheme,
    key: key.toJSON(),
    publicKeyText: key.publicValue.trim(),
  };
  if (publicFile !== undefined) r.publicFile = publicFile;
  if (attestation !== undefined) r.attestation = attestation;
  return r;
}

function writePublicFile(path: string, f: PublicKeyFile): void {
  if (fileExists(path))
    throw new TufsignError('IO_ERROR', `${path} already exists`, {
      file: path,
      rule: 'never overwrite',
      suggestion: 'Choose another --public-out path.',
    });
  writeFileAtomic(path, serializePublicKeyFile(f));
}

/**
 * The lock one `key generate` holds (ADR 0007): what it makes is named by the key file (file backend), the module,
 * token and label (pkcs11) or the serial and slot (yubikey), and two runs for the same name at once would both
 * make a key — two pairs under one label, or one key file renamed over the other. The lock's name is a hash of
 * that identity, `.tufsign-generate-HASH.lock`, in this user's lock folder (so runs from different folders meet);
 * the CLI takes it around `generateKey`.
 */
export function generationLock(options: KeyGenerateOptions, baseDir: string): { name: string; what: string } {
  let id: string;
  let what: string;
  if (options.backend === 'file') {
    const out = resolve(baseDir, options.outFile ?? 'keys');
    id = `file\0${out}`;
    what = `the key file ${out}`;
  } else if (options.backend === 'pkcs11') {
    id = `pkcs11\0${options.module ?? ''}\0${options.token ?? ''}\0${options.label ?? ''}`;
    what = `the key labelled "${options.label ?? ''}" on token "${options.token ?? ''}"`;
  } else {
    id = `yubikey\0${options.serial ?? ''}\0${options.slot ?? '9c'}`;
    what = `slot ${options.slot ?? '9c'} of YubiKey ${options.serial ?? '(the one present)'}`;
  }
  const hash = sha256Hex(id).slice(0, 16);
  return { name: `.tufsign-generate-${hash}.lock`, what };
}

/** Make a key (or finish the one a killed run left). The caller holds `generationLock(options)`. */
export async function generateKey(options: KeyGenerateOptions, open: OpenOptions): Promise<KeyGenerationResult> {
  const backend = BACKENDS[options.backend];
  if (backend.generate === undefined)
    throw new TufsignError('SCHEME_UNSUPPORTED', `the ${options.backend} backend cannot generate keys here`, {
      rule: 'backend supports generate',
    });
  const request: GenerateRequest = { ...options };
  // Under the lock nobody else writes these names: a temp file a killed run's atomic write left is removed.
  if (options.publicOut !== undefined) removeAtomicWriteLeftovers(resolve(open.baseDir, options.publicOut));
  if (options.backend === 'file') {
    request.outFile = options.outFile ?? `keys/key-${randomBytes(4).toString('hex')}.pem`;
    removeAtomicWriteLeftovers(resolve(open.baseDir, request.outFile));
    const earlier = await resumeKeyFile(options, request.outFile, open);
    if (earlier !== undefined) return earlier;
  } else if (backend.resumeGenerate !== undefined) {
    const publicOut = options.publicOut === undefined ? undefined : resolve(open.baseDir, options.publicOut);
    // A device slot has no name to find a key by: the journal beside the public key file records what a run
    // asked of the device and what it got back (ADR 0007).
    request.journalDir = publicOut === undefined ? open.baseDir : dirname(publicOut);
    if (publicOut !== undefined && fileExists(publicOut))
      request.recordedKey = parsePublicKeyFile(readFileBounded(publicOut, 1024 * 1024), publicOut).key;
    const earlier = await backend.resumeGenerate(request, open);
    if (earlier !== undefined) {
      finishPublicFile(options, earlier.publicKey, earlier.uri, earlier.attestation);
      if (earlier.journal !== undefined) removeFileQuietly(earlier.journal);
      return { ...describe(earlier.uri, earlier.publicKey, earlier.attestation, options.publicOut), resumed: true };
    }
  }
  if (options.publicOut !== undefined && fileExists(options.publicOut)) {
    throw new TufsignError('IO_ERROR', `${options.publicOut} already exists`, {
      file: options.publicOut,
      rule: 'never overwrite',
      suggestion: 'Choose another --public-out path.',
    });
  }
  const g = await backend.generate(request, open);
  if (options.publicOut !== undefined) {
    const f: PublicKeyFile = { key: g.publicKey, keyid: g.publicKey.keyid(), uri: g.uri };
    if (options.owner !== undefined) f.owner = options.owner;
    if (g.attestation !== undefined) f.attestation = g.attestation;
    writePublicFile(options.publicOut, f);
  }
  if (g.journal !== undefined) removeFileQuietly(g.journal);
  return describe(g.uri, g.publicKey, g.attestation, options.publicOut);
}

/**
 * `key generate` re-run after a kill (ADR 0007): the key file is written (atomically) before the public key
 * file, so a kill between them leaves a key without its public file. A re-run that finds the key file opens it
 * with the passphrase — proof that it is this operator's — and writes the missing public file. A key file is
 * never replaced; one that does not open, or holds another scheme, is refused as before.
 */
async function resumeKeyFile(
  options: KeyGenerateOptions,
  outFile: string,
  open: OpenOptions,
): Promise<KeyGenerationResult | undefined> {
  const path = isAbsolute(outFile) ? outFile : resolve(open.baseDir, outFile);
  if (!fileExists(path)) return undefined;
  const uri = `file:${outFile}`;
  const refuse = (why: string, cause?: unknown): TufsignError =>
    new TufsignError('IO_ERROR', `${path} already exists (${why}); refusing to overwrite a key`, {
      file: path,
      rule: 'never overwrite keys',
      suggestion: 'Choose another --out path.',
      ...(cause !== undefined ? { cause } : {}),
    });
  let key: Key;
  try {
    key = (await readPublicKey(parseKeyRef(uri), open)).publicKey;
  } catch (e) {
    throw refuse('it does not open with this passphrase', e);
  }
  if (key.scheme !== options.scheme) throw refuse(`it holds a ${key.scheme} key`);
  finishPublicFile(options, key, uri, undefined);
  return { ...describe(uri, key, undefined, options.publicOut), resumed: true };
}

/**
 * The public key file of a key an interrupted run made: written when missing, kept when it already holds
 * this key (the killed run got that far), refused when it holds another key (never overwritten).
 */
function finishPublicFile(
  options: KeyGenerateOptions,
  key: Key,
  uri: string,
  attestation: JsonObject | undefined,
): void {
  if (options.publicOut === undefined) return;
  if (fileExists(options.publicOut)) {
    const existing = parsePublicKeyFile(readFileBounded(options.publicOut, 1024 * 1024), options.publicOut);
    if (existing.keyid !== key.keyid())
      throw new TufsignError('IO_ERROR', `${options.publicOut} already exists and holds another key`, {
        file: options.publicOut,
        rule: 'never overwrite',
        suggestion: 'Choose another --public-out path.',
      });
    return;
  }
  const f: PublicKeyFile = { key, keyid: key.keyid(), uri };
  if (options.owner !== undefined) f.owner = options.owner;
  if (attestation !== undefined) f.attestation = attestation;
  writePublicFile(options.publicOut, f);
}

/** Read a key's public part from a URI (may ask for a passphrase/PIN) or from a public key file. */
export async function readKey(uriOrFile: KeyRef | string, open: OpenOptions): Promise<PublicKeyFile> {
  if (typeof uriOrFile !== 'string' || backendOfUri(uriOrFile) !== undefined) {
    const g = await readPublicKey(typeof uriOrFile === 'string' ? parseKeyRef(uriOrFile) : uriOrFile, open);
    const f: PublicKeyFile = { key: g.publicKey, keyid: g.publicKey.keyid(), uri: g.uri };
    if (g.attestation !== undefined) f.attestation = g.attestation;
    return f;
  }
  const bytes = readFileBounded(uriOrFile, 1024 * 1024);
  // a key file's PEM named as a path (as ykman and openssl take it): say how tufsign names it
  if (bytes.subarray(0, 11).toString('latin1') === '-----BEGIN ')
    throw new TufsignError('KEY_URI_INVALID', `${uriOrFile} is a PEM key file, not a public key file`, {
      file: uriOrFile,
      rule: 'keys are given as file:/pkcs11:/yubikey: URIs or public key files (key export)',
      suggestion: `Name it as a key URI: file:${uriOrFile}`,
    });
  const f = parsePublicKeyFile(bytes, uriOrFile);
  // An edited claim is refused wherever a key file is read (`key show`, `key export`, `key attest`).
  try {
    assessKeyFileAttestation(f, {
      roots: trustedAttestationRoots(open),
      now: open.now ?? clockFromEnv(open.env).now(),
    });
  } catch (e) {
    if (e instanceof TufsignError) throw e.inFile(uriOrFile);
    throw e;
  }
  return f;
}

export async function exportKey(
  uriOrFile: string,
  out: string,
  owner: string | undefined,
  open: OpenOptions,
): Promise<KeyGenerationResult> {
  const f = await readKey(uriOrFile, open);
  if (owner !== undefined) f.owner = owner;
  writePublicFile(out, f);
  return describe(f.uri ?? uriOrFile, f.key, f.attestation, out);
}

export interface AttestResult {
  keyid: string | null;
  ok: boolean;
  violations: string[];
  /** serial, firmware, policies, form factor, slot, root and the certificates, as recorded in public key files */
  facts: JsonObject | null;
  /** subjects from the key certificate up to the trusted root */
  chain: string[];
}

/** What `key attest` checks: a public key file, a live key (URI), or the raw certificates an auditor holds. */
export type AttestSource =
  { kind: 'key'; value: string } | { kind: 'certs'; keyCert: string; deviceCert: string; intermediates: string[] };

export interface AttestOptions {
  /** "attested": a valid attestation; "root": also the root-key policy (touch always, PIN once or always) */
  policy: 'attested' | 'root';
  /** --attestation-ca: extra trusted roots (PEM files), for key files and live devices alike */
  caFiles: readonly string[];
  /** --serial: the YubiKey the key must come from */
  serial?: number;
  now: Date;
}

const CERT_LIMIT = 64 * 1024;

function result(keyid: string | null, facts: AttestationFacts, policy: KeyPolicy): AttestResult {
  const violations = policyViolations(facts, policy);
  return { keyid, ok: violations.length === 0, violations, facts: attestationToJson(facts), chain: facts.chain };
}

/**
 * `key attest FILE|URI` or `key attest --key-cert F --device-cert F`: verify a key's attestation
 * (every claim of a key file against its certificates, the chain, the validity dates) and check it
 * against a policy. Errors in the evidence throw; policy violations are returned.
 */
export async function attestKey(
  source: AttestSource,
  openOptions: OpenOptions,
  options: AttestOptions,
): Promise<AttestResult> {
  const extra = options.caFiles.map((f) => readFileBounded(f, 1024 * 1024).toString('utf8'));
  const open: OpenOptions = { ...openOptions, attestationRoots: [...(openOptions.attestationRoots ?? []), ...extra] };
  const policy = attestationPolicyFor(open, extra, options.policy === 'root');
  const trust = { roots: policy.roots ?? YUBICO_PIV_ROOTS, now: options.now };
  let facts: AttestationFacts;
  let keyid: string | null;
  if (source.kind === 'certs') {
    facts = verifyAttestationSync({
      keyCert: readFileBounded(source.keyCert, CERT_LIMIT),
      deviceCert: readFileBounded(source.deviceCert, CERT_LIMIT),
      intermediates: [...YUBICO_PIV_INTERMEDIATES, ...source.intermediates.map((f) => readFileBounded(f, CERT_LIMIT))],
      roots: trust.roots,
      now: options.now,
    });
    const scheme = schemeForAlg(algOfKeyObject(facts.publicKey));
    keyid = scheme === undefined ? null : keyFromPublicKeyObject(facts.publicKey, scheme).keyid();
  } else {
    // A live key is attested by the device (the real reason when it cannot be); a file claim by claim.
    const f = await readKey(source.value, { ...open, requireAttestation: true, now: options.now });
    facts = verifyPublicKeyFileAttestation(f, trust);
    keyid = f.keyid;
  }
  if (options.serial !== undefined && facts.serial !== options.serial) {
    throw new TufsignError(
      'ATTESTATION_CLAIM_MISMATCH',
      `the key was attested by YubiKey ${facts.serial}, not YubiKey ${options.serial} (--serial)`,
      {
        rule: 'BAD-58 the attestation names the device',
        details: { field: 'serial', claimed: options.serial, certificate: facts.serial },
      },
    );
  }
  return result(keyid, facts, policy);
}

/** The root-key policy, trusting Yubico's attestation roots plus any given CA files. */
export function rootKeyPolicy(extraCaFiles: string[]): KeyPolicy {
  return rootKeyPolicyWithRoots(extraCaFiles.map((f) => readFileBounded(f, 1024 * 1024).toString('utf8')));
}

export function rootKeyPolicyWithRoots(extraRootsPem: readonly string[]): KeyPolicy {
  return { ...ROOT_KEY_POLICY, roots: [...YUBICO_PIV_ROOTS, ...extraRootsPem] };
}

/** The workspace's persisted root-key policy, if it has one. */
export function workspaceRootKeyPolicy(config: WorkspaceConfig): KeyPolicy | undefined {
  return config.rootKeyPolicy === undefined ? undefined : rootKeyPolicyWithRoots(config.rootKeyPolicy.attestationRoots);
}

/**
 * The policy `key attest` checks. The root-key policy trusts exactly what the workspace's persisted policy trusts
 * (Yubico's roots and the CAs given with --attestation-ca), never TUFSIGN_YUBIKEY_TEST_CA: a test switch in the
 * environment must not be able to pass a key as fit for root. The plain check also trusts the test CA (tests).
 */
export function attestationPolicyFor(open: OpenOptions, extraRootsPem: readonly string[], root: boolean): KeyPolicy {
  if (root) return rootKeyPolicyWithRoots(extraRootsPem);
  return {
    requireAttestation: true,
    roots: trustedAttestationRoots({ env: open.env, attestationRoots: extraRootsPem }),
  };
}

export interface KeyListing {
  keyid: string;
  scheme: string;
  roles: string[];
  owner: string | null;
  backend: string;
  uri: string | null;
  /** "attested" (certificates that agree with every claim) or "unattested-claims"; null without any */
  attestation: { status: 'attested' | 'unattested-claims'; summary: string } | null;
}

function attestationOf(att: JsonObject | undefined): KeyListing['attestation'] {
  const v = viewAttestation(att);
  return v === undefined ? null : { status: v.status, summary: v.summary };
}

export function listKeys(ws: Workspace): KeyListing[] {
  const root = ws.loadRoot().signed;
  return [...root.keys].map(([keyid, key]) => {
    const entry = ws.config.keys.get(keyid);
    return {
      keyid,
      scheme: key.scheme,
      roles: TOP_LEVEL_ROLES.filter((r) => root.role(r).keyids.includes(keyid)),
      owner: entry?.owner ?? null,
      backend: entry?.ref === undefined ? 'offline (public key only)' : backendLabel(entry.ref),
      uri: entry?.ref?.uri ?? null,
      attestation: attestationOf(entry?.attestation),
    };
  });
}
