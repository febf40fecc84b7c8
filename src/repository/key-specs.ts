/**
 * Turning what a user names on the command line into role keys: a key URI
 * (a key this machine can sign with) or a public key file from `key export`
 * (a key held by someone else, signed with later in a ceremony).
 */
import { publicPartPath, serializePublicKeyFile } from '../keystore/public-key-file';
import { TufsignError } from '../errors';
import { fileExists, readFileBounded } from '../io/fs';
import type { OpenOptions } from '../keystore/backend';
import { createPublicKey } from 'node:crypto';
import { sha256Hex } from '../io/hash';
import { generatePrivateKey, PrivateKeySigner } from '../keystore/file';
import { checkNewPassphrase, encryptPrivateKey } from '../keystore/file/pkcs8';
import { parsePublicKeyFile } from '../keystore/public-key-file';
import { clockFromEnv } from '../io/clock';
import { trustedAttestationRoots } from '../keystore/yubikey/roots';
import { assessKeyFileAttestation, attestationForConfig } from '../keystore/yubikey/claims';
import { parseKeyRef, type ConfiguredKeyRef } from '../keystore/key-ref';
import { readPublicKey } from '../keystore/registry';
import { backendOfUri, type SecretsHandler, type Signer } from '../keystore/signer';
import { keyFromPublicKeyObject, type Key, type Scheme } from '../tuf/key';
import type { JsonObject } from '../tuf/json';
import type { SigningContext } from './context';
import { TOP_LEVEL_ROLES, type TopLevelRole } from '../tuf/metadata';
import { parseThreshold, type Threshold } from '../tuf/threshold';
import { KEYS_DIR, OFFLINE_KEYS_DIR } from './workspace';

export interface RoleKeySpec {
  key: Key;
  /** where the private part lives, parsed; absent for a public-only key */
  ref?: ConfiguredKeyRef;
  owner?: string;
  attestation?: JsonObject;
  /** an offline key: its file lives under offline-keys/ with a passphrase of its own (ADR 0011) */
  offline?: boolean;
}

export async function resolveKeySpec(value: string, options: OpenOptions): Promise<RoleKeySpec> {
  if (backendOfUri(value) !== undefined) {
    const ref = parseKeyRef(value);
    const g = await readPublicKey(ref, options);
    const spec: RoleKeySpec = { key: g.publicKey, ref };
    if (g.attestation !== undefined) spec.attestation = g.attestation;
    return spec;
  }
  if (!fileExists(value)) {
    throw new TufsignError('KEY_NOT_FOUND', `"${value}" is neither a key URI nor an existing public key file`, {
      rule: 'keys are given as file:/pkcs11:/yubikey: URIs or public key files',
      suggestion: 'Use e.g. file:keys/root-1.pem, or a file written by `tufsign key export`.',
    });
  }
  const pub = parsePublicKeyFile(readFileBounded(value, 1024 * 1024), value);
  const spec: RoleKeySpec = { key: pub.key };
  if (pub.owner !== undefined) spec.owner = pub.owner;
  // Every claim is checked against the certificates; what is kept is the verified facts, or bare claims
  // that are shown as "unattested claims" everywhere (ADR 0004).
  try {
    const a = assessKeyFileAttestation(pub, {
      roots: trustedAttestationRoots(options),
      now: options.now ?? clockFromEnv(options.env).now(),
    });
    if (a !== undefined) spec.attestation = attestationForConfig(a);
  } catch (e) {
    if (e instanceof TufsignError) throw e.inFile(value);
    throw e;
  }
  return spec;
}

export interface GeneratedKeyFile {
  spec: RoleKeySpec;
  /** relative path inside the workspace */
  path: string;
  pem: string;
  /** the public part written beside it (`KEY.pem.pub.json`, ADR 0008): its keyid is known without the passphrase */
  publicPart: { path: string; data: string };
  signer: Signer;
}

/** Generate key files in memory (written only when the whole init succeeds), all under one new passphrase. */
export async function generateKeyFiles(
  requests: { path: string; scheme: Scheme }[],
  secrets: SecretsHandler,
): Promise<GeneratedKeyFile[]> {
  if (requests.length === 0) return [];
  const passphrase = await secrets.getSecret({
    kind: 'new-passphrase',
    label: `the new key files (${requests.map((r) => r.path).join(', ')})`,
  });
  try {
    checkNewPassphrase(passphrase);
    return requests.map((r) => {
      const privateKey = generatePrivateKey(r.scheme);
      const uri = `file:${r.path}`;
      const key: Key = keyFromPublicKeyObject(createPublicKey(privateKey), r.scheme);
      return {
        spec: { key, ref: parseKeyRef(uri) },
        path: r.path,
        pem: encryptPrivateKey(privateKey, passphrase),
        publicPart: { path: publicPartPath(r.path), data: serializePublicKeyFile({ key, keyid: key.keyid(), uri }) },
        signer: new PrivateKeySigner(uri, privateKey, r.scheme),
      };
    });
  } finally {
    passphrase.fill(0);
  }
}

/** A signing context that uses already-open signers first (freshly generated keys), then the real backends. */
export function withPreopenedSigners(ctx: SigningContext, signers: Signer[]): SigningContext {
  const byUri = new Map(signers.map((s) => [s.uri, s]));
  const out: SigningContext = {
    ...ctx,
    openSigner: (ref, key) => {
      const s = byUri.get(ref.uri);
      return s !== undefined ? Promise.resolve(s) : ctx.openSigner(ref, key);
    },
  };
  // a key made in this run is in memory (its file is written with the workspace): nothing to check
  if (ctx.preflight !== undefined)
    out.preflight = async (keys) => {
      await ctx.preflight?.(keys.filter((k) => !byUri.has(k.ref.uri)));
    };
  return out;
}

/** A role given no keys gets `threshold` new key files; more than this is a typo, not a plan. */
export const MAX_GENERATED_KEYS = 64;

export interface RoleKeyPlan {
  roles: Record<TopLevelRole, { keys: RoleKeySpec[]; threshold: Threshold }>;
  /** key files generated (in memory) for roles given no keys; written with the workspace */
  generated: GeneratedKeyFile[];
}

/**
 * The keys of each top-level role for `init`: the keys named (URIs or public key
 * files), or — for a role given none — `threshold` new encrypted key files under
 * keys/, all under one new passphrase.
 */
export async function planRoleKeys(
  keyValues: Record<TopLevelRole, string[]>,
  thresholds: Record<TopLevelRole, Threshold | undefined>,
  scheme: Scheme,
  options: OpenOptions,
  progress?: (message: string) => void,
  /** roles whose keys are offline: generated files go to offline-keys/ under their own passphrase (ADR 0011) */
  offline?: { roles: ReadonlySet<TopLevelRole>; secrets: SecretsHandler },
): Promise<RoleKeyPlan> {
  const roles = {} as RoleKeyPlan['roles'];
  const toGenerate: { role: TopLevelRole; path: string; scheme: Scheme }[] = [];
  for (const role of TOP_LEVEL_ROLES) {
    const keys: RoleKeySpec[] = [];
    for (const v of keyValues[role]) keys.push(await resolveKeySpec(v, options));
    const threshold = thresholds[role] ?? parseThreshold(1);
    const isOffline = offline?.roles.has(role) === true;
    if (isOffline) for (const k of keys) k.offline = true;
    if (keys.length === 0 && threshold > MAX_GENERATED_KEYS)
      throw new TufsignError(
        'THRESHOLD_INVALID',
        `${role} threshold ${threshold} would generate ${threshold} key files; init generates at most ${MAX_GENERATED_KEYS}`,
        {
          rule: 'a role given no keys gets threshold new key files',
          suggestion: `Give ${role}'s keys with --${role}-key.`,
        },
      );
    if (keys.length === 0)
      for (let i = 1; i <= threshold; i++)
        toGenerate.push({ role, path: `${isOffline ? OFFLINE_KEYS_DIR : KEYS_DIR}/${role}-${i}.pem`, scheme });
    roles[role] = { keys, threshold };
  }
  if (toGenerate.length === 0) return { roles, generated: [] };
  const online = toGenerate.filter((g) => offline?.roles.has(g.role) !== true);
  const offlineGen = toGenerate.filter((g) => offline?.roles.has(g.role) === true);
  const generated: GeneratedKeyFile[] = [];
  // The two passphrases are compared by digest only: an offline key under the online secret would not be offline.
  const digests: string[] = [];
  const remember = (h: SecretsHandler): SecretsHandler => ({
    ...h,
    getSecret: async (req) => {
      const b = await h.getSecret(req);
      digests.push(sha256Hex(b));
      return b;
    },
  });
  for (const [group, secrets, what] of [
    [online, options.secrets, 'key file(s)'],
    [offlineGen, offline?.secrets ?? options.secrets, 'OFFLINE key file(s), under their own passphrase'],
  ] as const) {
    if (group.length === 0) continue;
    progress?.(`generating ${group.length} ${scheme} ${what}: ${group.map((g) => g.path).join(', ')}`);
    const files = await generateKeyFiles(group, remember(secrets));
    files.forEach((g, i) => {
      const role = group[i]?.role ?? 'root';
      if (offline?.roles.has(role) === true) g.spec.offline = true;
      roles[role].keys.push(g.spec);
    });
    generated.push(...files);
  }
  if (online.length > 0 && offlineGen.length > 0 && digests[0] === digests[1]) {
    throw new TufsignError('USAGE', 'the offline key files need a passphrase of their own, not the online one', {
      rule: 'offline keys never share the online secret (ADR 0011)',
      suggestion: 'Set TUFSIGN_OFFLINE_PASSPHRASE to a different passphrase, or answer the prompt with one.',
    });
  }
  return { roles, generated };
}
