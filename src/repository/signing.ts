/** Signing metadata with the keys reachable here; every new signature is verified before it is kept. */
import { isTufsignError, TufsignError } from '../errors';
import type { Key } from '../tuf/key';
import { Signature, type Metadata, type Role, type Root, type TopLevelRole } from '../tuf/metadata';
import type { WorkspaceConfig } from './config';
import type { PlannedKey, SigningContext } from './context';

/** The keys of `role` whose valid signature `md` already carries (none when `md` is to be re-signed from scratch). */
export function validSigners(
  md: Metadata | undefined,
  role: Role,
  keys: ReadonlyMap<string, Key>,
  /** `md.signedBytes()` when the caller has it already */
  signedBytes?: Uint8Array,
): Set<string> {
  const signed = new Set<string>();
  if (md === undefined) return signed;
  // Canonicalizing a 16,384-entry snapshot is not free: only when there is a signature to check.
  let data = signedBytes;
  for (const keyid of role.keyids) {
    const existing = md.signatures.get(keyid);
    const key = keys.get(keyid);
    if (existing === undefined || key === undefined) continue;
    data ??= md.signedBytes();
    if (key.verify(existing.bytes(), data)) signed.add(keyid);
  }
  return signed;
}

/**
 * The keys `signWithAvailableKeys` will ask, in its order, to bring `role` to its threshold: keys with a URI
 * here, skipping those that already signed.
 */
export function plannedKeys(
  signed: ReadonlySet<string>,
  role: Role,
  keys: ReadonlyMap<string, Key>,
  config: Pick<WorkspaceConfig, 'keys'>,
  roleName: string,
): PlannedKey[] {
  const out: PlannedKey[] = [];
  for (const keyid of role.keyids) {
    if (signed.size + out.length >= role.threshold) break;
    const key = keys.get(keyid);
    const ref = config.keys.get(keyid)?.ref;
    if (signed.has(keyid) || key === undefined || ref === undefined) continue;
    out.push({ ref, key, role: roleName });
  }
  return out;
}

/**
 * Run the context's device pre-flight over every key a run plans to use (no-op without one). A key planned for
 * several roles (one key for 16,384 hash bins) is checked once.
 */
export async function preflight(ctx: SigningContext, planned: readonly PlannedKey[]): Promise<void> {
  if (ctx.preflight === undefined || planned.length === 0) return;
  const seen = new Set<string>();
  const unique = planned.filter((k) => {
    const id = `${k.key.keyid()}\0${k.ref.uri}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  await ctx.preflight(unique);
}

/** One `signWithAvailableKeys` call on a metadata: the role (and its keys) whose threshold it brings `md` to. */
export interface SigningPass {
  role: Role;
  keys: ReadonlyMap<string, Key>;
}

/**
 * The keys successive passes over one metadata will ask (a new root: the previous root's threshold, then its
 * own), each pass counting the keys the passes before it will have signed with, as the signing does.
 */
export function plannedPasses(
  md: Metadata | undefined,
  passes: readonly SigningPass[],
  config: Pick<WorkspaceConfig, 'keys'>,
  roleName: string,
): PlannedKey[] {
  const before = new Set<string>();
  return passes.flatMap((p) => {
    const signed = validSigners(md, p.role, p.keys);
    for (const k of before) if (p.role.keyids.includes(k)) signed.add(k);
    const planned = plannedKeys(signed, p.role, p.keys, config, roleName);
    for (const k of planned) before.add(k.key.keyid());
    return planned;
  });
}

/**
 * The pre-flight of a whole run (ADR 0004): every key that will sign any of these top-level roles from scratch,
 * checked before the first PIN or touch of the run, so a command never signs the first role and then finds the
 * device of the third one missing.
 */
export async function preflightRoles(
  ctx: SigningContext,
  root: Root,
  roles: readonly TopLevelRole[],
  config: Pick<WorkspaceConfig, 'keys'>,
  more: readonly PlannedKey[] = [],
): Promise<void> {
  await preflight(ctx, [...more, ...roles.flatMap((r) => plannedKeys(new Set(), root.role(r), root.keys, config, r))]);
}

/**
 * Sign `md` for one role with the keys whose private part is reachable here,
 * until `thresholdTarget` distinct keys have signed. Keys without a URI are
 * left for a ceremony.
 */
export async function signWithAvailableKeys(
  md: Metadata,
  role: Role,
  keys: ReadonlyMap<string, Key>,
  config: Pick<WorkspaceConfig, 'keys'>,
  ctx: SigningContext,
  alsoCount?: (signedKeyids: Set<string>) => boolean,
  /** the role's name when it is not the metadata type (a delegated role) */
  roleName?: string,
  /**
   * An offline key that cannot be opened unattended (OFFLINE_KEY_UNAVAILABLE, refused before anything is
   * opened) is left unsigned for a signing request instead of failing the run.
   */
  leaveOfflineKeys = false,
): Promise<Uint8Array> {
  const data = md.signedBytes();
  const signedBy = validSigners(md, role, keys, data);
  // Every device this role needs is checked before the first of them is asked for a PIN or a touch.
  await preflight(ctx, plannedKeys(signedBy, role, keys, config, roleName ?? md.signed.type));
  for (const keyid of role.keyids) {
    if (signedBy.size >= role.threshold && (alsoCount === undefined || alsoCount(signedBy))) break;
    if (signedBy.has(keyid)) continue;
    const key = keys.get(keyid);
    const ref = config.keys.get(keyid)?.ref;
    if (key === undefined || ref === undefined) continue;
    const uri = ref.uri;
    ctx.progress?.(`signing ${roleName ?? md.signed.type} v${md.signed.version} with ${uri}`);
    let signer;
    try {
      signer = await ctx.openSigner(ref, key, roleName ?? md.signed.type);
    } catch (e) {
      if (!leaveOfflineKeys || !isTufsignError(e, 'OFFLINE_KEY_UNAVAILABLE')) throw e;
      ctx.progress?.(`  ${uri} is an offline key without its own secret here: left for the signing request`);
      continue;
    }
    const { signature } = await signer.sign(data);
    // Verify against the key the role expects before the signature is kept (never trust the backend alone).
    if (!key.verify(signature, data)) {
      throw new TufsignError(
        'SIGNATURE_INVALID',
        `the signature from ${uri} does not verify with key ${keyid.slice(0, 16)}…`,
        {
          rule: 'every new signature is verified before it is saved',
        },
      );
    }
    md.addSignature(new Signature(keyid, Buffer.from(signature).toString('hex')));
    signedBy.add(keyid);
  }
  // the bytes signed: callers that verify the result next need not canonicalize again
  return data;
}

/**
 * Open, before any long work, every signer `signWithAvailableKeys` will use for these roles (the same keys in
 * the same order, up to each threshold), so a missing or wrong secret fails the command at once. The signing
 * context caches opened signers: the later signing asks nothing again.
 */
export async function openSignersFor(
  root: Root,
  roles: readonly TopLevelRole[],
  config: Pick<WorkspaceConfig, 'keys'>,
  ctx: SigningContext,
): Promise<void> {
  // Devices first, without a PIN: opening a token's signer logs in, and that must not happen before the
  // device of a later role is known to be here.
  await preflightRoles(ctx, root, roles, config);
  for (const name of roles) {
    const role = root.role(name);
    let opened = 0;
    for (const keyid of role.keyids) {
      if (opened >= role.threshold) break;
      const key = root.keys.get(keyid);
      const ref = config.keys.get(keyid)?.ref;
      if (key === undefined || ref === undefined) continue;
      await ctx.openSigner(ref, key);
      opened++;
    }
  }
}

/** Sign each metadata with the keys reachable here: root with the previous and the new root keys, others with the governing root's. */
export async function signAvailable(
  trustedRoot: Metadata<Root> | undefined,
  mds: Metadata[],
  config: Pick<WorkspaceConfig, 'keys'>,
  ctx: SigningContext,
): Promise<void> {
  const rootMd = mds.find((m) => m.signed.type === 'root') as Metadata<Root> | undefined;
  const governing = rootMd?.signed ?? trustedRoot?.signed;
  if (governing === undefined) throw new TufsignError('INTERNAL', 'no root to sign against');
  // Every device of every metadata here is checked before the first PIN or touch (ADR 0004).
  await preflight(
    ctx,
    mds.flatMap((md) => {
      const role = md.signed.type;
      const passes: SigningPass[] =
        role === 'root' && trustedRoot !== undefined
          ? [{ role: trustedRoot.signed.role('root'), keys: trustedRoot.signed.keys }]
          : [];
      passes.push({ role: governing.role(role), keys: governing.keys });
      return plannedPasses(md, passes, config, role);
    }),
  );
  for (const md of mds) {
    const role = md.signed.type;
    if (role === 'root' && trustedRoot !== undefined)
      await signWithAvailableKeys(md, trustedRoot.signed.role('root'), trustedRoot.signed.keys, config, ctx);
    await signWithAvailableKeys(md, governing.role(role), governing.keys, config, ctx);
  }
}
