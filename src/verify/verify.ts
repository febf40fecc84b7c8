/**
 * Verify a repository (workspace or bundle) the way a TUF client does
 * (spec §5.3–5.6): root chain from a trusted root, thresholds with each key
 * counted once, exact version steps, expiry at a given time, timestamp →
 * snapshot → targets consistency, delegations, and every target's length and
 * hashes. It never stops at the first problem: it reports per role what holds
 * and what is wrong.
 */
import { TufsignError, type ErrorCode } from '../errors';
import { hashHex } from '../io/hash';
import {
  Metadata,
  type MetaFile,
  type Root,
  type Snapshot,
  type Targets,
  type Timestamp,
  type ParseOptions,
  type Role,
  type Signed,
} from '../tuf/metadata';
import type { Key } from '../tuf/key';
import { describeKeyidProblem, keyidProblems } from '../tuf/keyids';
import { formatExpires } from '../tuf/time';
import { describeResult, rootVerificationResult, verificationResult } from '../tuf/verify';
import {
  binPrefixProblem,
  delegatedRoleNameProblem,
  findCollision,
  newTargetPathProblem,
  targetPathProblem,
} from '../tuf/paths';
import { metadataFileName, targetFileNames } from '../tuf/naming';
import { isNearLimit, sizeFinding, type SizeFinding } from './limits';

/** Reads files of a published repository layout (`metadata/…`, `targets/…`); undefined when absent. */
export interface RepositorySource {
  read(path: string): Uint8Array | undefined;
  describe(path: string): string;
  /**
   * A target file's length and digests (the algorithms its metadata names), computed in pieces so that a large
   * target (a release archive) is never held; undefined when absent. Without it, targets are `read` whole.
   */
  hash?(path: string, algorithms: readonly string[]): { length: number; hashes: Map<string, string> } | undefined;
}

export interface Check {
  ok: boolean;
  /** what was checked, or what is wrong */
  message: string;
  code?: ErrorCode;
  rule?: string;
}

export interface RoleReport {
  role: string;
  file?: string;
  version?: number;
  expires?: string;
  ok: boolean;
  checks: Check[];
}

export interface VerifyReport {
  ok: boolean;
  at: string;
  trustedRootVersion?: number;
  rootVersion?: number;
  roles: RoleReport[];
  targets: { path: string; ok: boolean; message: string }[];
  /** metadata files at or above 80% of a reference client's size limit (over it is a failed check) */
  nearLimit: SizeFinding[];
}

export interface VerifyOptions extends ParseOptions {
  at: Date;
  /** trusted root bytes (default: metadata/1.root.json from the source) */
  trustedRoot?: { bytes: Uint8Array; file: string };
  /** Whether absent target files are failures (workspace) or notes (bundle carrying only new files). */
  requireTargetFiles: boolean;
  maxRootRotations?: number;
  /**
   * Keyids as tough checks them: every key in every root of the chain and in
   * every delegating targets file must have keyid = sha256(key as stored).
   * Without it, historical roots may carry legacy keyids (reported as notes),
   * and the newest root and delegations must match unless allowLegacyKeyids.
   */
  strictKeyids?: boolean;
}

const ok = (message: string): Check => ({ ok: true, message });
const fail = (message: string, code: ErrorCode, rule?: string): Check => {
  const c: Check = { ok: false, message, code };
  if (rule !== undefined) c.rule = rule;
  return c;
};

function report(role: string): RoleReport {
  return { role, ok: true, checks: [] };
}

function add(r: RoleReport, c: Check): void {
  r.checks.push(c);
  if (!c.ok) r.ok = false;
}

function errorCheck(e: unknown): Check {
  if (e instanceof TufsignError) {
    const where = [e.file, e.path].filter((x) => x !== undefined).join(' ');
    return fail(`${where !== '' ? where + ': ' : ''}${e.message}`, e.code, e.rule);
  }
  return fail(String(e), 'INTERNAL');
}

function parse<T extends 'root' | 'targets' | 'snapshot' | 'timestamp'>(
  src: RepositorySource,
  path: string,
  role: T,
  r: RoleReport,
  options: ParseOptions,
  sizes?: SizeFinding[],
): { md: Metadata<Extract<Root | Targets | Snapshot | Timestamp, { type: T }>>; bytes: Uint8Array } | undefined {
  const bytes = src.read(path);
  r.file = src.describe(path);
  if (bytes === undefined) {
    add(r, fail(`${src.describe(path)} is missing`, 'VERIFY_FAILED', 'every referenced metadata file must exist'));
    return undefined;
  }
  try {
    const parsed = { md: Metadata.fromBytes(bytes, src.describe(path), role, options), bytes };
    const f = sizeFinding(src.describe(path), r.role, role, bytes.length);
    if (f.size > f.limit)
      add(
        r,
        fail(
          `${f.size} bytes, over the ${f.limit}-byte limit of TUF clients for ${role} metadata`,
          'METADATA_TOO_LARGE',
          'python-tuf UpdaterConfig / tuf-js defaults',
        ),
      );
    else if (isNearLimit(f)) sizes?.push(f);
    return parsed;
  } catch (e) {
    add(r, errorCheck(e));
    return undefined;
  }
}

function checkThreshold(
  r: RoleReport,
  roleName: string,
  role: Role,
  keys: ReadonlyMap<string, Key>,
  md: Metadata,
  label = '',
): void {
  const res = verificationResult(roleName, role, keys, md);
  if (res.verified) add(r, ok(`${label}signatures: ${describeResult(res)}`));
  else
    add(
      r,
      fail(
        `${label}signatures: ${describeResult(res)}; missing ${res.missing}`,
        'THRESHOLD_NOT_MET',
        'SPEC-11 threshold of distinct keys',
      ),
    );
}

function checkExpiry(r: RoleReport, md: Metadata, at: Date): void {
  r.version = md.signed.version;
  r.expires = formatExpires(md.signed.expires);
  if (md.signed.isExpired(at))
    add(
      r,
      fail(
        `expired at ${r.expires} (checked at ${formatExpires(at)})`,
        'METADATA_EXPIRED',
        'spec 5.x freeze protection',
      ),
    );
  else add(r, ok(`valid until ${r.expires}`));
}

function checkMetaFile(r: RoleReport, name: string, meta: MetaFile, md: Metadata, bytes: Uint8Array): void {
  if (md.signed.version !== meta.version) {
    add(
      r,
      fail(
        `version ${md.signed.version} but ${name} is listed at version ${meta.version}`,
        'ROLLBACK',
        'SPEC-31 versions must match',
      ),
    );
  } else add(r, ok(`version ${meta.version} matches the reference`));
  if (meta.length !== undefined && meta.length !== bytes.length) {
    add(
      r,
      fail(
        `length ${bytes.length} but the reference says ${meta.length}`,
        'VERIFY_FAILED',
        'SPEC-31 length must match',
      ),
    );
  }
  for (const [alg, digest] of meta.hashes ?? []) {
    const actual = hashHex(alg, bytes);
    if (actual !== digest)
      add(
        r,
        fail(
          `${alg} ${actual.slice(0, 16)}… but the reference says ${digest.slice(0, 16)}…`,
          'VERIFY_FAILED',
          'SPEC-31 hashes must match',
        ),
      );
  }
}

export function verifyRepository(source: RepositorySource, options: VerifyOptions): VerifyReport {
  const at = options.at;
  const out: VerifyReport = { ok: false, at: formatExpires(at), roles: [], targets: [], nearLimit: [] };
  // A file the source refuses to read (a symlink in a bundle, over its cap) is reported, then treated as absent.
  const refused = report('files');
  const src: Required<RepositorySource> = {
    read(path) {
      try {
        return source.read(path);
      } catch (e) {
        if (!out.roles.includes(refused)) out.roles.push(refused);
        add(refused, errorCheck(e));
        return undefined;
      }
    },
    describe: (path) => source.describe(path),
    hash(path, algorithms) {
      try {
        if (source.hash !== undefined) return source.hash(path, algorithms);
        const data = source.read(path);
        return data === undefined
          ? undefined
          : { length: data.length, hashes: new Map(algorithms.map((a) => [a, hashHex(a, data)])) };
      } catch (e) {
        if (!out.roles.includes(refused)) out.roles.push(refused);
        add(refused, errorCheck(e));
        return undefined;
      }
    },
  };
  // Parse leniently; keyids and legacy expiry forms are judged below, per role, by the chosen rule.
  const parseOpts: ParseOptions = { allowLegacyKeyids: true, allowLegacyExpires: true };
  const keyidRule = (r: RoleReport, signed: Signed, current: boolean): void => checkKeyids(r, signed, current, options);

  // --- root chain
  const rootReport = report('root');
  out.roles.push(rootReport);
  let trusted: Metadata<Root> | undefined;
  try {
    if (options.trustedRoot !== undefined) {
      trusted = Metadata.fromBytes(options.trustedRoot.bytes, options.trustedRoot.file, 'root', parseOpts);
    } else {
      trusted = parse(src, 'metadata/1.root.json', 'root', rootReport, parseOpts)?.md;
    }
  } catch (e) {
    add(rootReport, errorCheck(e));
  }
  if (trusted === undefined) return finalize(out);
  out.trustedRootVersion = trusted.signed.version;
  const chain: Metadata<Root>[] = [trusted];
  add(
    rootReport,
    ok(
      `trusted root: version ${trusted.signed.version}${options.trustedRoot !== undefined ? ` from ${options.trustedRoot.file}` : ''}`,
    ),
  );
  checkThreshold(
    rootReport,
    'root',
    trusted.signed.role('root'),
    trusted.signed.keys,
    trusted,
    `v${trusted.signed.version} self-`,
  );
  let current = trusted;
  const maxRotations = options.maxRootRotations ?? 256;
  for (let i = 0; i < maxRotations; i++) {
    const nextVersion = current.signed.version + 1;
    const path = `metadata/${nextVersion}.root.json`;
    const bytes = src.read(path);
    if (bytes === undefined) break;
    let next: Metadata<Root>;
    try {
      next = Metadata.fromBytes(bytes, src.describe(path), 'root', parseOpts);
    } catch (e) {
      add(rootReport, errorCheck(e));
      return finalize(out);
    }
    if (next.signed.version !== nextVersion) {
      add(
        rootReport,
        fail(
          `${src.describe(path)} has version ${next.signed.version}, expected ${nextVersion}`,
          'ROLLBACK',
          'SPEC-15/BAD-27 root version is exactly previous + 1',
        ),
      );
      return finalize(out);
    }
    const res = rootVerificationResult(current.signed, next);
    const step = `v${current.signed.version} → v${nextVersion}`;
    if (res.previous.verified)
      add(rootReport, ok(`${step}: previous root threshold met (${describeResult(res.previous)})`));
    else
      add(
        rootReport,
        fail(
          `${step}: previous root threshold NOT met (${describeResult(res.previous)})`,
          'THRESHOLD_NOT_MET',
          'SPEC-14/BAD-28 old threshold',
        ),
      );
    if (res.current.verified) add(rootReport, ok(`${step}: new root threshold met (${describeResult(res.current)})`));
    else
      add(
        rootReport,
        fail(
          `${step}: new root threshold NOT met (${describeResult(res.current)})`,
          'THRESHOLD_NOT_MET',
          'SPEC-14/BAD-28 new threshold',
        ),
      );
    if (!res.verified) return finalize(out);
    current = next;
    chain.push(next);
  }
  for (const md of chain) {
    const newest = md === current;
    keyidRule(rootReport, md.signed, newest);
    if (md.signed.legacyExpires !== undefined) {
      const text = md.signed.legacyExpires.text;
      if (newest)
        add(
          rootReport,
          fail(
            `root v${md.signed.version} expires "${text}" is not YYYY-MM-DDTHH:MM:SSZ`,
            'EXPIRY_INVALID',
            'SPEC-07/BAD-15 (python-tuf refuses it)',
          ),
        );
      else
        add(
          rootReport,
          ok(
            `note: historical root v${md.signed.version} expires "${text}" (fractional seconds/offset): tuf-js reads it, python-tuf cannot walk from it`,
          ),
        );
    }
  }
  out.rootVersion = current.signed.version;
  rootReport.file = src.describe(`metadata/${current.signed.version}.root.json`);
  checkExpiry(rootReport, current, at);
  const root = current.signed;
  const latest = src.read('metadata/root.json');
  if (latest !== undefined) {
    try {
      const l = Metadata.fromBytes(latest, src.describe('metadata/root.json'), 'root', parseOpts);
      if (l.signed.version !== root.version)
        add(
          rootReport,
          fail(
            `root.json is version ${l.signed.version}, but the newest N.root.json is ${root.version}`,
            'VERIFY_FAILED',
            'root.json is the latest root',
          ),
        );
    } catch (e) {
      add(rootReport, errorCheck(e));
    }
  }
  const consistent = root.consistentSnapshot === true;

  // --- timestamp
  const tsReport = report('timestamp');
  out.roles.push(tsReport);
  const ts = parse(src, 'metadata/timestamp.json', 'timestamp', tsReport, parseOpts, out.nearLimit);
  if (ts === undefined) return finalize(out);
  checkThreshold(tsReport, 'timestamp', root.role('timestamp'), root.keys, ts.md);
  checkExpiry(tsReport, ts.md, at);

  // --- snapshot
  const snReport = report('snapshot');
  out.roles.push(snReport);
  const snapMeta = ts.md.signed.snapshotMeta;
  const sn = parse(
    src,
    `metadata/${metadataFileName('snapshot', snapMeta.version, consistent)}`,
    'snapshot',
    snReport,
    parseOpts,
    out.nearLimit,
  );
  if (sn === undefined) return finalize(out);
  checkMetaFile(snReport, 'snapshot.json', snapMeta, sn.md, sn.bytes);
  checkThreshold(snReport, 'snapshot', root.role('snapshot'), root.keys, sn.md);
  for (const metaName of sn.md.signed.meta.keys()) {
    const roleName = metaName.endsWith('.json') ? metaName.slice(0, -'.json'.length) : metaName;
    const unsafe = roleName === 'targets' ? undefined : delegatedRoleNameProblem(roleName);
    if (unsafe !== undefined)
      add(
        snReport,
        fail(`snapshot lists ${JSON.stringify(metaName)}: role name ${unsafe.why}`, 'ROLE_INVALID', unsafe.rule),
      );
  }
  checkExpiry(snReport, sn.md, at);
  if (consistent && sn.md.signed.version > 1) {
    const prevBytes = src.read(`metadata/${sn.md.signed.version - 1}.snapshot.json`);
    if (prevBytes !== undefined) {
      try {
        const prev = Metadata.fromBytes(
          prevBytes,
          src.describe(`metadata/${sn.md.signed.version - 1}.snapshot.json`),
          'snapshot',
          parseOpts,
        );
        for (const [name, m] of prev.signed.meta) {
          const now = sn.md.signed.meta.get(name);
          if (now === undefined)
            add(
              snReport,
              fail(
                `${name} was listed in the previous snapshot and is gone`,
                'ROLLBACK',
                'SPEC-30/BAD-33 snapshots never drop roles',
              ),
            );
          else if (now.version < m.version)
            add(
              snReport,
              fail(
                `${name} goes back from version ${m.version} to ${now.version}`,
                'ROLLBACK',
                'SPEC-30/BAD-31 versions never decrease',
              ),
            );
        }
      } catch (e) {
        add(snReport, errorCheck(e));
      }
    }
  }

  // --- targets and delegations
  const targetsMeta = sn.md.signed.meta.get('targets.json');
  const allTargets = new Map<string, { role: string; tf: import('../tuf/metadata').TargetFile }>();
  const verifyTargetsRole = (
    name: string,
    roleDef: Role,
    keys: ReadonlyMap<string, Key>,
    allowed: ((p: string) => boolean)[],
    depth: number,
  ): void => {
    const r = report(name);
    out.roles.push(r);
    const meta = sn.md.signed.meta.get(`${name}.json`);
    if (meta === undefined) {
      add(
        r,
        fail(`${name}.json is not listed in snapshot`, 'VERIFY_FAILED', 'SPEC-27 snapshot lists every targets role'),
      );
      return;
    }
    const t = parse(
      src,
      `metadata/${metadataFileName(name, meta.version, consistent)}`,
      'targets',
      r,
      parseOpts,
      out.nearLimit,
    );
    if (t === undefined) return;
    checkMetaFile(r, `${name}.json`, meta, t.md, t.bytes);
    keyidRule(r, t.md.signed, true);
    checkThreshold(r, name, roleDef, keys, t.md);
    checkExpiry(r, t.md, at);
    // The write side's name rules, applied to what a signer published (src/tuf/paths.ts).
    for (const [p, tf] of t.md.signed.targets) {
      const unsafe = targetPathProblem(p);
      if (unsafe !== undefined) {
        add(r, fail(`target ${JSON.stringify(p)} in ${name}: ${unsafe.why}`, 'PATH_UNSAFE', unsafe.rule));
        continue;
      }
      // Not refused (the spec and python-tuf allow any path; ZWJ/ZWNJ and bidi marks occur in real names), but
      // named, so an auditor sees a path that may read differently from what is signed (ADR 0019).
      const invisible = newTargetPathProblem(p);
      if (invisible !== undefined)
        add(r, ok(`note: target ${JSON.stringify(p)} in ${name} ${invisible.why}; tufsign would refuse to add it`));
      if (!allowed.every((f) => f(p))) {
        add(
          r,
          fail(
            `target ${JSON.stringify(p)} is outside the paths delegated to ${name}`,
            'VERIFY_FAILED',
            'SPEC-24/BAD-39 targets stay inside delegated paths',
          ),
        );
        continue;
      }
      if (!allTargets.has(p)) allTargets.set(p, { role: name, tf });
    }
    const collision = findCollision(t.md.signed.targets.keys());
    if (collision !== undefined) {
      add(
        r,
        fail(
          `targets ${JSON.stringify(collision[0])} and ${JSON.stringify(collision[1])} in ${name} collide after case folding or Unicode normalisation`,
          'PATH_COLLISION',
          'BAD-44 names must differ on every filesystem',
        ),
      );
    }
    const d = t.md.signed.delegations;
    if (d === undefined || depth >= 32) return;
    const children = d.roles ?? [];
    for (const child of children) {
      const unsafe = delegatedRoleNameProblem(child.name);
      if (unsafe !== undefined) {
        add(
          r,
          fail(`delegated role ${JSON.stringify(child.name)} in ${name}: ${unsafe.why}`, 'ROLE_INVALID', unsafe.rule),
        );
        continue;
      }
      if (sn.md.signed.meta.has(`${child.name}.json`))
        verifyTargetsRole(child.name, child, d.keys, [...allowed, (p) => child.isDelegatedPath(p)], depth + 1);
    }
    const collidingRoles = findCollision(children.map((c) => c.name));
    if (collidingRoles !== undefined) {
      add(
        r,
        fail(
          `delegated roles ${JSON.stringify(collidingRoles[0])} and ${JSON.stringify(collidingRoles[1])} in ${name} collide`,
          'PATH_COLLISION',
          'BAD-44 role file names must differ on every filesystem',
        ),
      );
    }
    const succinct = d.succinctRoles;
    const badBins = succinct === undefined ? undefined : binPrefixProblem(succinct.namePrefix, succinct.bitLength);
    if (succinct !== undefined && badBins !== undefined) {
      add(
        r,
        fail(
          `hash-bin prefix ${JSON.stringify(succinct.namePrefix)} in ${name}: bin names ${badBins.why}`,
          'ROLE_INVALID',
          badBins.rule,
        ),
      );
    } else if (succinct !== undefined) {
      for (const metaName of sn.md.signed.meta.keys()) {
        const roleName = metaName.slice(0, -'.json'.length);
        if (succinct.isDelegatedRole(roleName))
          verifyTargetsRole(
            roleName,
            succinct,
            d.keys,
            [...allowed, (p) => succinct.roleForTarget(p) === roleName],
            depth + 1,
          );
      }
    }
  };
  if (targetsMeta === undefined) {
    const r = report('targets');
    add(r, fail('snapshot does not list targets.json', 'VERIFY_FAILED', 'SPEC-27/BAD-33'));
    out.roles.push(r);
  } else {
    verifyTargetsRole('targets', root.role('targets'), root.keys, [], 0);
  }

  // --- target files
  for (const [path, { tf }] of allTargets) {
    const names = targetFileNames(path, tf.hashes, consistent);
    const problems: string[] = [];
    let found = 0;
    for (const name of names) {
      // hashed in pieces: a release archive is never held
      const got = src.hash(`targets/${name}`, [...tf.hashes.keys()]);
      if (got === undefined) continue;
      found++;
      if (got.length !== tf.length) problems.push(`${name}: length ${got.length}, expected ${tf.length}`);
      for (const [alg, digest] of tf.hashes) {
        if (got.hashes.get(alg) !== digest) problems.push(`${name}: ${alg} does not match`);
      }
    }
    if (found === 0) {
      out.targets.push({
        path,
        ok: !options.requireTargetFiles,
        message: options.requireTargetFiles ? 'target file missing' : 'not included (unchanged target)',
      });
    } else if (problems.length > 0) out.targets.push({ path, ok: false, message: problems.join('; ') });
    else out.targets.push({ path, ok: true, message: `${tf.length} bytes, ${[...tf.hashes.keys()].join('+')} match` });
  }
  return finalize(out);
}

/** The keyid rule for one file's keys (ADR 0015): strict everywhere with strictKeyids; the newest root and delegations unless allowLegacyKeyids. */
function checkKeyids(r: RoleReport, signed: Signed, current: boolean, options: VerifyOptions): void {
  const name = signed.type === 'targets' ? r.role : signed.type;
  for (const p of keyidProblems(signed, name)) {
    const message = describeKeyidProblem(p);
    if (options.strictKeyids === true)
      add(
        r,
        fail(
          message,
          'KEYID_MISMATCH',
          'SPEC-05 keyid = sha256(key as stored), checked as tough does (--strict-keyids)',
        ),
      );
    else if (current && options.allowLegacyKeyids !== true) {
      add(
        r,
        fail(
          `${message}; a strict client (tough, sigstore-rs) refuses it`,
          'KEYID_MISMATCH',
          'SPEC-05/BAD-21 (read legacy repositories with --allow-legacy-keyids; fix with `tufsign root rotate --fix-keyids`)',
        ),
      );
    } else
      add(
        r,
        ok(
          `note: ${message}; accepted ${current ? 'with --allow-legacy-keyids' : 'in a historical root'}, strict clients (tough) refuse it`,
        ),
      );
  }
}

function finalize(out: VerifyReport): VerifyReport {
  out.ok = out.roles.length >= 4 && out.roles.every((r) => r.ok) && out.targets.every((t) => t.ok);
  return out;
}
