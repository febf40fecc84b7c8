/**
 * The keyholder as a TUF client: a request is shown and signed only relative
 * to a root the keyholder already trusts (the pin). The request must carry
 * the root chain from the pin to the root it is checked against, each step
 * N → N+1 signed by N's root threshold and by its own (as a client checks a
 * root update), and every diff basis ("trusted" version of another role) must
 * be signed by the threshold the chain-verified root names, with version
 * exactly new − 1. What does not verify is refused with its own code; it is
 * never shown as "no change". Pure: objects in, a verdict out.
 */
import { TufsignError } from '../errors';
import type { Key } from '../tuf/key';
import type { Metadata, Role, Root, Targets, TopLevelRole } from '../tuf/metadata';
import { isTopLevelRole } from '../tuf/metadata';
import { verificationResult } from '../tuf/verify';
import { authorityOf, signedSha256, type SigningRequest } from './request';

/** What this machine already trusts for a repository. */
export interface TrustAnchor {
  /** where the pin comes from, for messages: a workspace, a keyholder trust folder, or a first contact just confirmed */
  source: 'workspace' | 'trust-dir' | 'first-contact';
  /** the pinned root */
  root: Metadata<Root>;
  /** workspace only: the published versions of the other roles; a basis must be exactly these bytes */
  published?: Partial<Record<TopLevelRole, Metadata>>;
  /**
   * workspace only: the published version of a targets role (top-level or delegated) by name, as snapshot lists
   * it; the delegating chain and a delegated role's basis must be exactly these bytes
   */
  publishedTargetsRole?: (name: string) => Metadata | undefined;
}

export interface AnchoredRequest {
  /** the root the request is checked against, verified from the pin (undefined: a new repository) */
  trustedRoot?: Metadata<Root>;
  /** root versions verified on the way from the pin (pin excluded) */
  chain: number[];
  /** the pin the check started from */
  pinnedVersion?: number;
  /**
   * Bases vouched for by an earlier verified root than the trusted one: the trusted root rotated that role's
   * keys after the basis was published (e.g. a snapshot/timestamp follow-up after a rotation). Shown as a danger.
   */
  olderVouchers?: { role: TopLevelRole; basisVersion: number; rootVersion: number }[];
}

/** What a keyholder is told to do when a request fails the trust check, per error code. */
const DO_NOT_SIGN = {
  TRUST_CHAIN_INVALID:
    'Do not sign. This request does not lead from the root you trust to the one it claims; tell the organizer.',
  TRUST_BASIS_INVALID:
    'Do not sign: what the change is compared against is not what your trusted root vouches for. Tell the organizer.',
} as const;

function trustError(
  code: keyof typeof DO_NOT_SIGN,
  message: string,
  file: string | undefined,
  path: string,
  rule: string,
): TufsignError {
  return new TufsignError(code, message, { file, path, rule, suggestion: DO_NOT_SIGN[code] });
}

function chainError(message: string, file: string | undefined, path: string, rule: string): TufsignError {
  return trustError('TRUST_CHAIN_INVALID', message, file, path, rule);
}

function basisError(message: string, file: string | undefined, path: string, rule: string): TufsignError {
  return trustError('TRUST_BASIS_INVALID', message, file, path, rule);
}

/** A root step as a client checks it: version + 1, signed by the previous root's threshold and by its own. */
export function checkRootStep(
  prev: Metadata<Root>,
  next: Metadata<Root>,
  file: string | undefined,
  path: string,
): void {
  const v = prev.signed.version;
  if (next.signed.version !== v + 1)
    throw chainError(
      `root v${next.signed.version} does not follow root v${v}`,
      file,
      path,
      'SPEC-15 root versions go up by exactly one',
    );
  // the previous root's threshold first, then the new root's own (SPEC-14), each checked the same way
  const signers = [
    { by: prev, what: `the threshold of root v${v}`, rule: 'the previous root threshold' },
    { by: next, what: 'its own threshold', rule: 'its own threshold' },
  ];
  for (const { by, what, rule } of signers) {
    const result = verificationResult('root', by.signed.role('root'), by.signed.keys, next);
    if (!result.verified)
      throw chainError(
        `root v${v + 1} is not signed by ${what} (${result.signed.length}/${result.threshold})`,
        file,
        path,
        `SPEC-14 a new root is signed by ${rule}`,
      );
  }
}

/**
 * Check a request against what this machine trusts. `anchor` undefined means
 * nothing is pinned: only a request for a new repository (root v1, nothing to
 * compare against) passes; anything else is TRUST_UNANCHORED, and the caller
 * may offer a first contact.
 */
export function anchorRequest(req: SigningRequest, anchor: TrustAnchor | undefined, file?: string): AnchoredRequest {
  const trusted = req.trustedRoot;
  if (trusted === undefined) {
    if (req.delegators.length > 0)
      throw chainError(
        'a request for a new repository cannot carry delegated roles',
        file,
        '$.delegators',
        'a delegated role is anchored on published metadata',
      );
    if (anchor !== undefined) {
      throw chainError(
        `this request makes a new repository "${req.repository}", but you already trust its root v${anchor.root.signed.version}`,
        file,
        '$.trusted_root',
        'a pinned repository is never replaced by a new one',
      );
    }
    checkVersionsAgainst(req, undefined, file);
    return { chain: [] };
  }
  if (anchor === undefined) {
    throw new TufsignError(
      'TRUST_UNANCHORED',
      `nothing on this machine pins a root of "${req.repository}": the request's trusted root v${trusted.signed.version} cannot be checked`,
      {
        file,
        path: '$.trusted_root',
        rule: 'a keyholder compares against a root they already trust',
        suggestion:
          'Run inside a copy of the workspace (-w), or confirm the first contact: compare the root fingerprint with the organizer (guided flow), or pass --fingerprint with --yes.',
      },
    );
  }
  const pin = anchor.root;
  const p = pin.signed.version;
  const n = trusted.signed.version;
  if (p > n) {
    throw new TufsignError('REQUEST_STALE', `you already trust root v${p}; this request was made against root v${n}`, {
      file,
      path: '$.trusted_root.signed.version',
      rule: 'a request never goes back behind the root you trust',
      suggestion: 'Ask the organizer for a request made from the current root.',
    });
  }
  const history = new Map<number, Metadata<Root>>();
  for (const r of req.rootHistory) history.set(r.signed.version, r);
  history.set(n, trusted);
  const atPin = history.get(p);
  if (atPin !== undefined && signedSha256(atPin) !== signedSha256(pin)) {
    throw chainError(
      `the request's root v${p} is not the root v${p} you trust`,
      file,
      p === n ? '$.trusted_root' : '$.root_history',
      'one root per version: a different root is another repository or a fork',
    );
  }
  const chain: number[] = [];
  /** the pin and every root verified from it, oldest first: the only roots that may vouch for a basis */
  const verified: Metadata<Root>[] = [pin];
  let prev = pin;
  for (let v = p + 1; v <= n; v++) {
    const next = history.get(v);
    if (next === undefined)
      throw chainError(
        `the request does not carry root v${v}, needed to get from your root v${p} to v${n}`,
        file,
        '$.root_history',
        'the request carries the root chain from the pin',
      );
    checkRootStep(prev, next, file, v === n ? '$.trusted_root' : `$.root_history[v${v}]`);
    chain.push(v);
    verified.push(next);
    prev = next;
  }
  checkVersionsAgainst(req, trusted, file);
  const olderVouchers = checkBases(req, trusted, verified, anchor, file);
  checkDelegatedRoles(req, trusted, anchor, file);
  return {
    trustedRoot: trusted,
    chain,
    pinnedVersion: p,
    ...(olderVouchers.length > 0 ? { olderVouchers } : {}),
  };
}

/** Root exactly trusted + 1 (1 for a new repository); other roles exactly their basis + 1. */
function checkVersionsAgainst(
  req: SigningRequest,
  trusted: Metadata<Root> | undefined,
  file: string | undefined,
): void {
  req.roles.forEach((r, i) => {
    const v = r.metadata.signed.version;
    if (r.role === 'root') {
      const expected = (trusted?.signed.version ?? 0) + 1;
      if (v !== expected) {
        throw new TufsignError('VERSION_INVALID', `root v${v} is not the trusted root's version + 1 (v${expected})`, {
          file,
          path: `$.roles[${i}].metadata.signed.version`,
          rule: 'SPEC-15/BAD-27 root version is exactly previous + 1',
        });
      }
    } else if (r.trusted !== undefined && v !== r.trusted.signed.version + 1) {
      throw new TufsignError(
        'VERSION_INVALID',
        `${r.role} v${v} is not its trusted version + 1 (v${r.trusted.signed.version + 1})`,
        {
          file,
          path: `$.roles[${i}].metadata.signed.version`,
          rule: 'a ceremony signs the next version of what is trusted',
        },
      );
    }
  });
}

/**
 * Every basis is signed by the threshold the trusted root names for its role
 * (in a workspace: is what was published). When the trusted root rotated that
 * role's keys, the basis was published under an earlier root: it may then be
 * vouched for by the newest root of the verified chain (pin included, never a
 * root below the pin) whose threshold for that role it meets. Returned so the
 * screen says so.
 */
function checkBases(
  req: SigningRequest,
  trusted: Metadata<Root>,
  verified: readonly Metadata<Root>[],
  anchor: TrustAnchor,
  file: string | undefined,
): NonNullable<AnchoredRequest['olderVouchers']> {
  const older: NonNullable<AnchoredRequest['olderVouchers']> = [];
  req.roles.forEach((entry, i) => {
    const name = entry.role;
    if (name === 'root' || entry.delegatedBy !== undefined || !isTopLevelRole(name)) return;
    const r = { ...entry, role: name };
    const path = `$.roles[${i}].trusted`;
    const basis = r.trusted;
    const published = anchor.published?.[r.role];
    // Version 1 replaces nothing: the first snapshot/timestamp of a repository whose root v1 is already final
    // (their keys were elsewhere when it was finalized).
    if (basis === undefined && r.metadata.signed.version === 1 && published === undefined) return;
    if (basis === undefined) {
      throw basisError(
        `${r.role} carries no trusted version to compare against, in an existing repository`,
        file,
        path,
        'every change is shown against the version it replaces',
      );
    }
    if (published !== undefined) {
      // In a workspace the published version is the local truth (it may be signed by keys a rotation just replaced).
      if (signedSha256(published) !== signedSha256(basis)) {
        throw basisError(
          `the trusted ${r.role} v${basis.signed.version} in the request is not the ${r.role} v${published.signed.version} this workspace holds`,
          file,
          path,
          'a diff basis is what was published',
        );
      }
      return;
    }
    const res = verificationResult(r.role, trusted.signed.role(r.role), trusted.signed.keys, basis);
    if (res.verified) return;
    const voucher = [...verified]
      .reverse()
      .find(
        (root) =>
          !sameRole(root.signed.role(r.role), trusted.signed.role(r.role)) &&
          verificationResult(r.role, root.signed.role(r.role), root.signed.keys, basis).verified,
      );
    if (voucher !== undefined) {
      older.push({ role: r.role, basisVersion: basis.signed.version, rootVersion: voucher.signed.version });
      return;
    }
    throw basisError(
      `the trusted ${r.role} v${basis.signed.version} the diff is computed against is not signed by the ${r.role} threshold of root v${trusted.signed.version} (${res.signed.length}/${res.threshold}), nor by that of an earlier root verified from your pin`,
      file,
      path,
      'a diff basis verifies under the trusted root (or, after a key rotation, under the verified root it was published with)',
    );
  });
  return older;
}

function delegationError(message: string, file: string | undefined, path: string): TufsignError {
  return new TufsignError('TRUST_CHAIN_INVALID', message, {
    file,
    path,
    rule: 'each delegating role is signed by the threshold its parent names, from the trusted root down',
    suggestion:
      'Do not sign. This request does not show, from the root you trust, who may sign its delegated role; tell the organizer.',
  });
}

/**
 * Delegated roles: the delegating chain is believed only from the trusted root down — top-level targets signed
 * by the targets threshold of the chain-verified root, each later role delegated by the role before it and signed
 * by the threshold that role names (in a workspace: exactly the bytes it published). Each delegated role's basis
 * is then signed by the threshold its parent names (in a workspace: what was published), version exactly new − 1.
 */
function checkDelegatedRoles(
  req: SigningRequest,
  trusted: Metadata<Root>,
  anchor: TrustAnchor,
  file: string | undefined,
): void {
  if (!req.roles.some((r) => r.delegatedBy !== undefined)) return;
  const chain = new Map<string, Metadata<Targets>>();
  const published = anchor.publishedTargetsRole;
  req.delegators.forEach((d, i) => {
    const path = `$.delegators[${i}]`;
    let signer: { role: Role; keys: ReadonlyMap<string, Key>; by: string };
    if (d.delegatedBy === undefined) {
      signer = {
        role: trusted.signed.role('targets'),
        keys: trusted.signed.keys,
        by: `root v${trusted.signed.version}`,
      };
    } else {
      const parent = chain.get(d.delegatedBy);
      const role = parent?.signed.delegations?.getRole(d.role);
      if (parent === undefined || role === undefined || parent.signed.delegations === undefined)
        throw delegationError(`${d.delegatedBy} does not delegate to ${d.role}`, file, `${path}.delegated_by`);
      signer = { role, keys: parent.signed.delegations.keys, by: d.delegatedBy };
    }
    if (published !== undefined) {
      const pub = published(d.role);
      if (pub === undefined || signedSha256(pub) !== signedSha256(d.metadata))
        throw delegationError(
          `${d.role} v${d.metadata.signed.version} in the request's delegating chain is not the ${d.role}${pub === undefined ? '' : ` v${pub.signed.version}`} this workspace published`,
          file,
          path,
        );
    } else {
      const res = verificationResult(d.role, signer.role, signer.keys, d.metadata);
      if (!res.verified)
        throw delegationError(
          `${d.role} v${d.metadata.signed.version} in the request's delegating chain is not signed by the threshold ${signer.by} names for it (${res.signed.length}/${res.threshold})`,
          file,
          path,
        );
    }
    chain.set(d.role, d.metadata);
  });
  req.roles.forEach((r, i) => {
    if (r.delegatedBy === undefined) return;
    const path = `$.roles[${i}].trusted`;
    const basis = r.trusted;
    const parentInRequest = req.roles.find((o) => o.role === r.delegatedBy && o.trusted !== undefined);
    if (basis === undefined && parentInRequest !== undefined) {
      // A role this request creates: its keys are named by its parent's new version, which is itself checked
      // above (targets under the trusted root, a delegated parent under its chain); it replaces nothing.
      authorityOf(req, r);
      if (published?.(r.role) !== undefined)
        throw basisError(
          `${r.role} is presented as a new role, but this workspace already publishes it`,
          file,
          path,
          'a new role replaces nothing',
        );
      return;
    }
    if (basis === undefined)
      throw basisError(
        `${r.role} carries no trusted version to compare against`,
        file,
        path,
        'every change is shown against the version it replaces',
      );
    // authorityOf: the parent in the verified chain must delegate to the role (TRUST_CHAIN_INVALID otherwise)
    const who = authorityOf(req, r);
    if (published !== undefined) {
      const pub = published(r.role);
      if (pub === undefined || signedSha256(pub) !== signedSha256(basis))
        throw basisError(
          `the trusted ${r.role} v${basis.signed.version} in the request is not the ${r.role}${pub === undefined ? '' : ` v${pub.signed.version}`} this workspace holds`,
          file,
          path,
          'a diff basis is what was published',
        );
      return;
    }
    const res = verificationResult(r.role, who.role, who.keys, basis);
    if (!res.verified)
      throw basisError(
        `the trusted ${r.role} v${basis.signed.version} the diff is computed against is not signed by the threshold ${r.delegatedBy ?? ''} names for ${r.role} (${res.signed.length}/${res.threshold})`,
        file,
        path,
        "a delegated role's basis verifies under the delegation of its verified parent",
      );
  });
}

function sameRole(a: Role, b: Role): boolean {
  return (
    a.threshold === b.threshold && a.keyids.length === b.keyids.length && a.keyids.every((k) => b.keyids.includes(k))
  );
}
