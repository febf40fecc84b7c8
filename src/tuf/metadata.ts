/**
 * The TUF metadata model, shaped like python-tuf's Metadata API: a generic
 * `Metadata<T>` envelope around a `Signed` payload per role. Parsing is strict
 * (every failure names the JSON path and the rule) and lossless: fields we do
 * not know are kept in `unrecognizedFields` and signed again (SPEC-04).
 */
import { hashHex, sha256Hex } from '../io/hash';
import { createHash } from 'node:crypto';
import { TufsignError } from '../errors';
import { canonicalize } from './canonical-json';
import { parseThreshold, type Threshold } from './threshold';
import {
  asObject,
  mapToObject,
  optInt,
  reqArray,
  reqBool,
  reqField,
  reqInt,
  reqObject,
  reqString,
  reqStringArray,
  schemaError,
  unrecognized,
} from './fields';
import { jsonPathJoin, newObject, parseJson, type JsonObject, type JsonValue } from './json';
import { Key } from './key';
import { formatExpires, parseExpires, parseLegacyExpires } from './time';
import { roleFileNameProblem } from './paths';
import { snapshotCanonical } from './snapshot-text';

export const SPEC_VERSION = '1.0.31';
export const TOP_LEVEL_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type TopLevelRole = (typeof TOP_LEVEL_ROLES)[number];
export type RoleType = TopLevelRole;

export function isTopLevelRole(name: string): name is TopLevelRole {
  return (TOP_LEVEL_ROLES as readonly string[]).includes(name);
}

/** Digest lengths (hex chars) of the hash algorithms tufsign understands (BAD-35). */
/**
 * Hashes tufsign records for a new target: sha256 only, as python-tuf's `TargetFile.from_data` and tufup do.
 * With consistent snapshots each hash is one more file name clients may request, so one hash means one stored
 * and uploaded copy (ADR 0017). Targets listing more hashes (older workspaces, imports) keep them.
 */
export const TARGET_HASH_ALGORITHMS = ['sha256'] as const;
export const HASH_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

export interface ParseOptions {
  /**
   * Accept keyids that are not sha256 of the canonical key (tufup and other
   * legacy repositories). Off by default: the spec says clients must recompute.
   */
  allowLegacyKeyids?: boolean | ReadonlySet<string>;
  /**
   * Accept RFC 3339 `expires` with fractional seconds or an offset (roots
   * written by go-tuf v0, kept in tuf-on-ci and Sigstore root histories). The
   * original text is kept so signatures still verify; tufsign never writes it.
   */
  allowLegacyExpires?: boolean;
}

/** How tufsign reads metadata that is already published (its own workspace, a request's trusted root): keyids and expiry forms as they were signed. */
export const HISTORY_PARSE: ParseOptions = Object.freeze({ allowLegacyKeyids: true, allowLegacyExpires: true });

function legacyKeyidAllowed(options: ParseOptions, keyid: string): boolean {
  const a = options.allowLegacyKeyids;
  return a === true || (a instanceof Set && a.has(keyid));
}

// ---------------------------------------------------------------- signatures

export class Signature {
  constructor(
    readonly keyid: string,
    readonly sig: string,
    readonly unrecognizedFields: JsonObject = newObject(),
  ) {}

  static fromJSON(value: JsonValue | undefined, path: string): Signature {
    const obj = asObject(value, path, 'BAD-17 signature object');
    const keyid = reqString(obj, 'keyid', path, 'BAD-17 signature needs keyid');
    const sig = reqString(obj, 'sig', path, 'BAD-17 signature needs sig');
    if (!/^[0-9a-f]*$/.test(sig)) throw schemaError(`${path}.sig`, 'sig must be lowercase hex', 'BAD-17 hex signature');
    if (obj['method'] !== undefined)
      throw schemaError(
        `${path}.method`,
        'signature carries a "method" field',
        'BAD-19 no per-signature method (TAP 9)',
      );
    return new Signature(keyid, sig, unrecognized(obj, ['keyid', 'sig']));
  }

  toJSON(): JsonObject {
    const out = newObject();
    Object.assign(out, this.unrecognizedFields);
    out['keyid'] = this.keyid;
    out['sig'] = this.sig;
    return out;
  }

  bytes(): Buffer {
    return Buffer.from(this.sig, 'hex');
  }
}

// ---------------------------------------------------------------- roles and files

export class Role {
  constructor(
    public keyids: string[],
    public threshold: Threshold,
    readonly unrecognizedFields: JsonObject = newObject(),
  ) {}

  static fromJSON(value: JsonValue | undefined, path: string): Role {
    const obj = asObject(value, path);
    const { keyids, threshold } = readKeyidsAndThreshold(obj, path);
    return new Role(keyids, threshold, unrecognized(obj, ['keyids', 'threshold']));
  }

  toJSON(): JsonObject {
    const out = newObject();
    Object.assign(out, this.unrecognizedFields);
    out['keyids'] = [...this.keyids];
    out['threshold'] = this.threshold;
    return out;
  }
}

/** keyids (unique) and threshold (≥ 1), shared by top-level, delegated and succinct roles. */
function readKeyidsAndThreshold(obj: JsonObject, path: string): { keyids: string[]; threshold: Threshold } {
  const keyids = reqStringArray(obj, 'keyids', path, 'SPEC-12/SPEC-23 role keyids');
  checkUniqueKeyids(keyids, `${path}.keyids`);
  // reqInt refuses what is not a safe integer ≥ 1 with the schema error and JSON path; the brand comes from the parser.
  const threshold = parseThreshold(reqInt(obj, 'threshold', path, 'SPEC-10/BAD-24 threshold is a positive integer', 1));
  return { keyids, threshold };
}

function checkUniqueKeyids(keyids: readonly string[], path: string): void {
  const seen = new Set<string>();
  keyids.forEach((k, i) => {
    if (seen.has(k))
      throw schemaError(`${path}[${i}]`, `keyid ${k} listed twice`, 'BAD-26 no duplicate keyids in a role');
    seen.add(k);
  });
}

function readHashes(obj: JsonObject, path: string): Map<string, string> {
  const hashesObj = reqObject(obj, 'hashes', path, 'SPEC-21 hashes object');
  const hashes = new Map<string, string>();
  for (const [alg, digest] of Object.entries(hashesObj)) {
    const p = jsonPathJoin(`${path}.hashes`, alg);
    const expected = HASH_HEX_LENGTH[alg];
    if (expected === undefined)
      throw schemaError(p, `unknown hash algorithm "${alg}"`, 'BAD-35 known hash algorithms: sha256, sha512');
    if (typeof digest !== 'string' || digest.length !== expected || !/^[0-9a-f]+$/.test(digest)) {
      throw schemaError(p, `${alg} digest must be ${expected} lowercase hex characters`, 'BAD-35 well-formed digest');
    }
    hashes.set(alg, digest);
  }
  if (hashes.size === 0) throw schemaError(`${path}.hashes`, 'hashes is empty', 'BAD-35 at least one hash');
  return hashes;
}

/** N when `value` is exactly `{"version": N}` with N a valid version (what `MetaFile.fromJSON` accepts as such). */
function onlyVersion(value: JsonValue | undefined): number | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== 'version') return undefined;
  const v = value['version'];
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : undefined;
}

export class MetaFile {
  constructor(
    public version: number,
    public length?: number,
    public hashes?: Map<string, string>,
    readonly unrecognizedFields: JsonObject = newObject(),
  ) {}

  static fromJSON(value: JsonValue | undefined, path: string): MetaFile {
    const obj = asObject(value, path);
    const version = reqInt(obj, 'version', path, 'SPEC-09 version is an integer > 0', 1);
    const length = optInt(obj, 'length', path, 'BAD-35 length is a non-negative integer', 0);
    const hashes = obj['hashes'] === undefined ? undefined : readHashes(obj, path);
    return new MetaFile(version, length, hashes, unrecognized(obj, ['version', 'length', 'hashes']));
  }

  toJSON(): JsonObject {
    const out = newObject();
    Object.assign(out, this.unrecognizedFields);
    out['version'] = this.version;
    if (this.length !== undefined) out['length'] = this.length;
    if (this.hashes !== undefined) out['hashes'] = mapToObject(this.hashes, (v) => v);
    return out;
  }
}

export class TargetFile {
  constructor(
    public length: number,
    public hashes: Map<string, string>,
    /** `custom` and any other extra fields live here, kept verbatim. */
    readonly unrecognizedFields: JsonObject = newObject(),
  ) {}

  get custom(): JsonValue | undefined {
    return this.unrecognizedFields['custom'];
  }

  static fromJSON(value: JsonValue | undefined, path: string): TargetFile {
    const obj = asObject(value, path);
    const length = reqInt(obj, 'length', path, 'SPEC-21 length is a non-negative integer', 0);
    const hashes = readHashes(obj, path);
    const custom = obj['custom'];
    if (custom !== undefined && (typeof custom !== 'object' || custom === null || Array.isArray(custom))) {
      throw schemaError(`${path}.custom`, 'custom must be an object', 'SPEC-21 custom is an object');
    }
    return new TargetFile(length, hashes, unrecognized(obj, ['length', 'hashes']));
  }

  static fromData(data: Uint8Array, custom?: JsonObject): TargetFile {
    const hashes = new Map<string, string>();
    for (const alg of TARGET_HASH_ALGORITHMS) hashes.set(alg, hashHex(alg, data));
    return TargetFile.fromDigests(data.length, hashes, custom);
  }

  /** From a length and TARGET_HASH_ALGORITHMS digests computed elsewhere (a file hashed as it was streamed). */
  static fromDigests(length: number, hashes: Map<string, string>, custom?: JsonObject): TargetFile {
    const extra = newObject();
    if (custom !== undefined) extra['custom'] = custom;
    return new TargetFile(length, hashes, extra);
  }

  toJSON(): JsonObject {
    const out = newObject();
    Object.assign(out, this.unrecognizedFields);
    out['length'] = this.length;
    out['hashes'] = mapToObject(this.hashes, (v) => v);
    return out;
  }
}

// ---------------------------------------------------------------- delegations

export function checkDelegatedRoleName(name: string, path: string): void {
  if (name === '' || isTopLevelRole(name)) {
    throw schemaError(
      path,
      `delegated role name "${name}" is empty or a top-level role`,
      'BAD-36 delegated role names',
    );
  }
  const unsafe = roleFileNameProblem(name);
  if (unsafe !== undefined)
    throw schemaError(path, `delegated role name ${JSON.stringify(name)} ${unsafe.why}`, unsafe.rule);
}

export class DelegatedRole extends Role {
  constructor(
    readonly name: string,
    keyids: string[],
    threshold: Threshold,
    public terminating: boolean,
    public paths?: string[],
    public pathHashPrefixes?: string[],
    unrecognizedFields: JsonObject = newObject(),
  ) {
    super(keyids, threshold, unrecognizedFields);
  }

  static override fromJSON(value: JsonValue | undefined, path: string): DelegatedRole {
    const obj = asObject(value, path);
    const name = reqString(obj, 'name', path, 'SPEC-23 delegated role name');
    checkDelegatedRoleName(name, `${path}.name`);
    const { keyids, threshold } = readKeyidsAndThreshold(obj, path);
    const terminating = reqBool(obj, 'terminating', path, 'SPEC-23 terminating');
    const hasPaths = obj['paths'] !== undefined;
    const hasPrefixes = obj['path_hash_prefixes'] !== undefined;
    if (hasPaths === hasPrefixes) {
      throw schemaError(
        path,
        'a delegated role needs exactly one of "paths" and "path_hash_prefixes"',
        'BAD-37 paths xor path_hash_prefixes',
      );
    }
    const paths = hasPaths ? reqStringArray(obj, 'paths', path, 'SPEC-23 paths') : undefined;
    let prefixes: string[] | undefined;
    if (hasPrefixes) {
      prefixes = reqStringArray(obj, 'path_hash_prefixes', path, 'SPEC-25 path_hash_prefixes');
      prefixes.forEach((p, i) => {
        if (!/^[0-9a-f]+$/.test(p))
          throw schemaError(
            `${path}.path_hash_prefixes[${i}]`,
            'hash prefix is not lowercase hex',
            'BAD-37 hex prefixes',
          );
      });
    }
    return new DelegatedRole(
      name,
      keyids,
      threshold,
      terminating,
      paths,
      prefixes,
      unrecognized(obj, ['name', 'keyids', 'threshold', 'terminating', 'paths', 'path_hash_prefixes']),
    );
  }

  override toJSON(): JsonObject {
    const out = super.toJSON();
    out['name'] = this.name;
    out['terminating'] = this.terminating;
    if (this.paths !== undefined) out['paths'] = [...this.paths];
    if (this.pathHashPrefixes !== undefined) out['path_hash_prefixes'] = [...this.pathHashPrefixes];
    return out;
  }

  /** Whether this role is trusted for `targetPath` (SPEC-24, SPEC-25). */
  isDelegatedPath(targetPath: string): boolean {
    if (this.paths !== undefined) return this.paths.some((pattern) => matchPathPattern(targetPath, pattern));
    const digest = sha256Hex(targetPath);
    return (this.pathHashPrefixes ?? []).some((prefix) => digest.startsWith(prefix));
  }
}

/**
 * Shell-glob match as python-tuf does it: the pattern and the path must have
 * the same number of `/`-separated parts, and each part is matched with
 * fnmatch rules (`*`, `?`, `[...]`) — so a wildcard never crosses `/`.
 * Case-sensitive on every host (BAD-39).
 */
export function matchPathPattern(targetPath: string, pattern: string): boolean {
  const targetParts = targetPath.split('/');
  const patternParts = pattern.split('/');
  if (targetParts.length !== patternParts.length) return false;
  return patternParts.every((p, i) => fnmatchToRegExp(p).test(targetParts[i] ?? ''));
}

function fnmatchToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp('^' + re + '$', 's');
}

/** TAP 15 succinct hash bin delegations. */
export class SuccinctRoles extends Role {
  constructor(
    keyids: string[],
    threshold: Threshold,
    readonly bitLength: number,
    readonly namePrefix: string,
    unrecognizedFields: JsonObject = newObject(),
  ) {
    super(keyids, threshold, unrecognizedFields);
  }

  static override fromJSON(value: JsonValue | undefined, path: string): SuccinctRoles {
    const obj = asObject(value, path);
    const { keyids, threshold } = readKeyidsAndThreshold(obj, path);
    const bitLength = reqInt(obj, 'bit_length', path, 'TAP 15 bit_length in 1..32', 1);
    if (bitLength > 32)
      throw schemaError(`${path}.bit_length`, 'bit_length must be at most 32', 'TAP 15 bit_length in 1..32');
    const namePrefix = reqString(obj, 'name_prefix', path, 'TAP 15 name_prefix');
    return new SuccinctRoles(
      keyids,
      threshold,
      bitLength,
      namePrefix,
      unrecognized(obj, ['keyids', 'threshold', 'bit_length', 'name_prefix']),
    );
  }

  override toJSON(): JsonObject {
    const out = super.toJSON();
    out['bit_length'] = this.bitLength;
    out['name_prefix'] = this.namePrefix;
    return out;
  }

  get numberOfBins(): number {
    return 2 ** this.bitLength;
  }

  private suffixLength(): number {
    return (this.numberOfBins - 1).toString(16).length;
  }

  /** The bin role that is responsible for `targetPath`. */
  roleForTarget(targetPath: string): string {
    const digest = createHash('sha256').update(targetPath, 'utf8').digest();
    const bin = digest.readUInt32BE(0) >>> (32 - this.bitLength);
    return this.roleName(bin);
  }

  roleName(bin: number): string {
    return `${this.namePrefix}-${bin.toString(16).padStart(this.suffixLength(), '0')}`;
  }

  isDelegatedRole(name: string): boolean {
    const prefix = `${this.namePrefix}-`;
    if (!name.startsWith(prefix)) return false;
    const suffix = name.slice(prefix.length);
    if (suffix.length !== this.suffixLength() || !/^[0-9a-f]+$/.test(suffix)) return false;
    return parseInt(suffix, 16) < this.numberOfBins;
  }
}

export class Delegations {
  constructor(
    readonly keys: Map<string, Key>,
    readonly roles?: DelegatedRole[],
    readonly succinctRoles?: SuccinctRoles,
    readonly unrecognizedFields: JsonObject = newObject(),
  ) {}

  static fromJSON(value: JsonValue | undefined, path: string, options: ParseOptions): Delegations {
    const obj = asObject(value, path);
    const keys = readKeys(reqObject(obj, 'keys', path, 'SPEC-23 delegations.keys'), `${path}.keys`, options);
    const hasRoles = obj['roles'] !== undefined;
    const hasSuccinct = obj['succinct_roles'] !== undefined;
    if (hasRoles === hasSuccinct) {
      throw schemaError(
        path,
        'delegations need exactly one of "roles" and "succinct_roles"',
        'SPEC-23/TAP 15 roles xor succinct_roles',
      );
    }
    let roles: DelegatedRole[] | undefined;
    let succinct: SuccinctRoles | undefined;
    if (hasRoles) {
      const seen = new Set<string>();
      roles = reqArray(obj, 'roles', path, 'SPEC-23 roles list').map((r, i) => {
        const role = DelegatedRole.fromJSON(r, `${path}.roles[${i}]`);
        if (seen.has(role.name))
          throw schemaError(
            `${path}.roles[${i}].name`,
            `role "${role.name}" delegated twice`,
            'BAD-36 unique delegated role names',
          );
        seen.add(role.name);
        checkRoleKeyids(role, keys, `${path}.roles[${i}]`);
        return role;
      });
    } else {
      succinct = SuccinctRoles.fromJSON(obj['succinct_roles'], `${path}.succinct_roles`);
      checkRoleKeyids(succinct, keys, `${path}.succinct_roles`);
    }
    return new Delegations(keys, roles, succinct, unrecognized(obj, ['keys', 'roles', 'succinct_roles']));
  }

  toJSON(): JsonObject {
    const out = newObject();
    Object.assign(out, this.unrecognizedFields);
    out['keys'] = mapToObject(this.keys, (k) => k.toJSON());
    if (this.roles !== undefined) out['roles'] = this.roles.map((r) => r.toJSON());
    if (this.succinctRoles !== undefined) out['succinct_roles'] = this.succinctRoles.toJSON();
    return out;
  }

  /** The role object governing `name`, if this delegation names it. */
  getRole(name: string): Role | undefined {
    if (this.roles !== undefined) return this.roles.find((r) => r.name === name);
    if (this.succinctRoles?.isDelegatedRole(name) === true) return this.succinctRoles;
    return undefined;
  }

  /** Delegated role names responsible for a target path, in priority order, with their terminating flag. */
  rolesForTarget(targetPath: string): { name: string; terminating: boolean }[] {
    if (this.succinctRoles !== undefined)
      return [{ name: this.succinctRoles.roleForTarget(targetPath), terminating: true }];
    return (this.roles ?? [])
      .filter((r) => r.isDelegatedPath(targetPath))
      .map((r) => ({ name: r.name, terminating: r.terminating }));
  }
}

function checkRoleKeyids(role: Role, keys: Map<string, Key>, path: string): void {
  role.keyids.forEach((k, i) => {
    if (!keys.has(k))
      throw schemaError(
        `${path}.keyids[${i}]`,
        `keyid ${k} is not in the keys list`,
        'BAD-26 every role keyid must name a key',
      );
  });
}

function readKeys(obj: JsonObject, path: string, options: ParseOptions): Map<string, Key> {
  const keys = new Map<string, Key>();
  const byFingerprint = new Map<string, string>();
  for (const [keyid, value] of Object.entries(obj)) {
    const p = jsonPathJoin(path, keyid);
    const key = Key.fromJSON(value, p);
    if (key.keyid() !== keyid && !legacyKeyidAllowed(options, keyid)) {
      throw new TufsignError(
        'KEYID_MISMATCH',
        `keyid ${keyid} is not the sha256 of its key (expected ${key.keyid()})`,
        {
          path: p,
          rule: 'SPEC-05/BAD-21 keyid = sha256(canonical key)',
          suggestion:
            'Legacy repositories (e.g. tufup) can be read with --allow-legacy-keyids; `tufsign root rotate --fix-keyids` re-lists the keys under their correct keyids.',
        },
      );
    }
    const fp = key.publicKeyFingerprint();
    const other = byFingerprint.get(fp);
    if (other !== undefined) {
      throw new TufsignError('DUPLICATE_KEY', `the same public key is listed under keyids ${other} and ${keyid}`, {
        path: p,
        rule: 'BAD-22 one public key, one keyid',
      });
    }
    byFingerprint.set(fp, keyid);
    keys.set(keyid, key);
  }
  return keys;
}

// ---------------------------------------------------------------- signed payloads

abstract class SignedBase {
  abstract readonly type: RoleType;
  /** `expires` exactly as read, when it was a legacy (fractional/offset) form; written back only while `expires` is unchanged */
  legacyExpires?: { text: string; date: Date };
  constructor(
    public version: number,
    public expires: Date,
    public specVersion: string,
    readonly unrecognizedFields: JsonObject,
  ) {}

  protected baseJSON(): JsonObject {
    const out = newObject();
    Object.assign(out, this.unrecognizedFields);
    out['_type'] = this.type;
    out['spec_version'] = this.specVersion;
    out['version'] = this.version;
    out['expires'] = this.legacyExpires?.date === this.expires ? this.legacyExpires.text : formatExpires(this.expires);
    return out;
  }

  abstract toJSON(): JsonObject;

  isExpired(at: Date): boolean {
    return this.expires.getTime() <= at.getTime();
  }
}

const BASE_FIELDS = ['_type', 'spec_version', 'version', 'expires'];

function readBase(
  obj: JsonObject,
  path: string,
  options: ParseOptions = {},
): { version: number; expires: Date; specVersion: string; legacyExpires?: { text: string; date: Date } } {
  const specVersion = reqString(obj, 'spec_version', path, 'SPEC-08 spec_version');
  if (!/^1\.\d+(\.\d+)?$/.test(specVersion)) {
    throw schemaError(
      `${path}.spec_version`,
      `unsupported spec_version "${specVersion}"`,
      'SPEC-08/BAD-14 spec_version 1.x.y',
    );
  }
  const version = reqInt(obj, 'version', path, 'SPEC-09/BAD-13 version is an integer > 0', 1);
  const text = reqString(obj, 'expires', path, 'SPEC-07 expires');
  if (options.allowLegacyExpires === true) {
    const expires = parseLegacyExpires(text, `${path}.expires`);
    if (formatExpires(expires) !== text)
      return { version, expires, specVersion, legacyExpires: { text, date: expires } };
    return { version, expires, specVersion };
  }
  const expires = parseExpires(text, `${path}.expires`);
  return { version, expires, specVersion };
}

export class Root extends SignedBase {
  readonly type = 'root' as const;
  constructor(
    version: number,
    expires: Date,
    readonly keys: Map<string, Key>,
    readonly roles: Map<TopLevelRole, Role>,
    public consistentSnapshot: boolean | undefined = true,
    specVersion = SPEC_VERSION,
    unrecognizedFields: JsonObject = newObject(),
  ) {
    super(version, expires, specVersion, unrecognizedFields);
  }

  static fromJSON(obj: JsonObject, path: string, options: ParseOptions = {}): Root {
    const base = readBase(obj, path, options);
    const keys = readKeys(reqObject(obj, 'keys', path, 'SPEC-12 root keys'), `${path}.keys`, options);
    const rolesObj = reqObject(obj, 'roles', path, 'SPEC-12 root roles');
    const roles = new Map<TopLevelRole, Role>();
    for (const name of Object.keys(rolesObj)) {
      if (!isTopLevelRole(name)) {
        throw schemaError(
          jsonPathJoin(`${path}.roles`, name),
          `unknown role "${name}" in root`,
          'SPEC-13/BAD-23 root lists exactly root, targets, snapshot, timestamp',
        );
      }
    }
    for (const name of TOP_LEVEL_ROLES) {
      const role = Role.fromJSON(
        reqField(rolesObj, name, `${path}.roles`, 'SPEC-13/BAD-23 root lists every top-level role'),
        `${path}.roles.${name}`,
      );
      checkRoleKeyids(role, keys, `${path}.roles.${name}`);
      roles.set(name, role);
    }
    const cs = obj['consistent_snapshot'];
    if (cs !== undefined && typeof cs !== 'boolean')
      throw schemaError(`${path}.consistent_snapshot`, 'must be true or false', 'SPEC-12 consistent_snapshot');
    const root = new Root(
      base.version,
      base.expires,
      keys,
      roles,
      cs,
      base.specVersion,
      unrecognized(obj, [...BASE_FIELDS, 'keys', 'roles', 'consistent_snapshot']),
    );
    if (base.legacyExpires !== undefined) root.legacyExpires = base.legacyExpires;
    // absent stays absent (false for clients, as python-tuf reads it): the constructor's default is for new roots
    root.consistentSnapshot = cs;
    return root;
  }

  toJSON(): JsonObject {
    const out = this.baseJSON();
    out['keys'] = mapToObject(this.keys, (k) => k.toJSON());
    const roles = newObject();
    for (const name of TOP_LEVEL_ROLES) {
      const role = this.roles.get(name);
      if (role !== undefined) roles[name] = role.toJSON();
    }
    out['roles'] = roles;
    if (this.consistentSnapshot !== undefined) out['consistent_snapshot'] = this.consistentSnapshot;
    return out;
  }

  role(name: TopLevelRole): Role {
    const role = this.roles.get(name);
    if (role === undefined) throw new TufsignError('METADATA_SCHEMA', `root has no role ${name}`, { rule: 'SPEC-13' });
    return role;
  }

  /** Keys of one role (keyid → key), in the role's keyid order. */
  roleKeys(name: TopLevelRole): Map<string, Key> {
    const out = new Map<string, Key>();
    for (const keyid of this.role(name).keyids) {
      const key = this.keys.get(keyid);
      if (key !== undefined) out.set(keyid, key);
    }
    return out;
  }

  /** Add a key to a role (and to `keys`); idempotent. */
  addKey(key: Key, role: TopLevelRole): string {
    const keyid = key.keyid();
    this.keys.set(keyid, key);
    const r = this.role(role);
    if (!r.keyids.includes(keyid)) r.keyids.push(keyid);
    return keyid;
  }

  /** Remove a key from a role; drop it from `keys` when no role uses it any more. */
  revokeKey(keyid: string, role: TopLevelRole): void {
    const r = this.role(role);
    if (!r.keyids.includes(keyid)) {
      throw new TufsignError('KEY_NOT_FOUND', `key ${keyid} is not a ${role} key`, {
        rule: 'revoke only keys the role has',
      });
    }
    r.keyids = r.keyids.filter((k) => k !== keyid);
    if (![...this.roles.values()].some((x) => x.keyids.includes(keyid))) this.keys.delete(keyid);
  }
}

export class Targets extends SignedBase {
  readonly type = 'targets' as const;
  constructor(
    version: number,
    expires: Date,
    readonly targets: Map<string, TargetFile> = new Map(),
    public delegations?: Delegations,
    specVersion = SPEC_VERSION,
    unrecognizedFields: JsonObject = newObject(),
  ) {
    super(version, expires, specVersion, unrecognizedFields);
  }

  static fromJSON(obj: JsonObject, path: string, options: ParseOptions = {}): Targets {
    const base = readBase(obj, path);
    const targetsObj = reqObject(obj, 'targets', path, 'SPEC-20 targets map');
    const targets = new Map<string, TargetFile>();
    for (const [p, v] of Object.entries(targetsObj))
      targets.set(p, TargetFile.fromJSON(v, jsonPathJoin(`${path}.targets`, p)));
    const delegations =
      obj['delegations'] === undefined
        ? undefined
        : Delegations.fromJSON(obj['delegations'], `${path}.delegations`, options);
    return new Targets(
      base.version,
      base.expires,
      targets,
      delegations,
      base.specVersion,
      unrecognized(obj, [...BASE_FIELDS, 'targets', 'delegations']),
    );
  }

  toJSON(): JsonObject {
    const out = this.baseJSON();
    out['targets'] = mapToObject(this.targets, (t) => t.toJSON());
    if (this.delegations !== undefined) out['delegations'] = this.delegations.toJSON();
    return out;
  }
}

export class Snapshot extends SignedBase {
  readonly type = 'snapshot' as const;
  constructor(
    version: number,
    expires: Date,
    readonly meta: Map<string, MetaFile> = new Map([['targets.json', new MetaFile(1)]]),
    specVersion = SPEC_VERSION,
    unrecognizedFields: JsonObject = newObject(),
  ) {
    super(version, expires, specVersion, unrecognizedFields);
  }

  static fromJSON(obj: JsonObject, path: string): Snapshot {
    const base = readBase(obj, path);
    const metaObj = reqObject(obj, 'meta', path, 'SPEC-27 snapshot meta');
    const meta = new Map<string, MetaFile>();
    for (const [name, v] of Object.entries(metaObj)) {
      if (!name.endsWith('.json') || /^\d+\./.test(name))
        throw schemaError(
          jsonPathJoin(`${path}.meta`, name),
          `"${name}" is not an unprefixed metadata file name`,
          'SPEC-29 METAPATH is ROLE.json',
        );
      // A 16,384-bin snapshot is 16,384 `{"version": N}` entries: those skip the general reader (same result).
      const version = onlyVersion(v);
      meta.set(
        name,
        version !== undefined ? new MetaFile(version) : MetaFile.fromJSON(v, jsonPathJoin(`${path}.meta`, name)),
      );
    }
    if (!meta.has('targets.json'))
      throw schemaError(
        `${path}.meta`,
        'snapshot does not list targets.json',
        'SPEC-27/BAD-33 snapshot lists targets.json',
      );
    return new Snapshot(
      base.version,
      base.expires,
      meta,
      base.specVersion,
      unrecognized(obj, [...BASE_FIELDS, 'meta']),
    );
  }

  toJSON(): JsonObject {
    const out = this.baseJSON();
    out['meta'] = mapToObject(this.meta, (m) => m.toJSON());
    return out;
  }

  /** `toJSON()` with `meta` empty, for the writers of snapshot-text.ts, which fill it in. */
  toJSONWithoutMeta(): JsonObject {
    const out = this.baseJSON();
    out['meta'] = newObject();
    return out;
  }
}

export class Timestamp extends SignedBase {
  readonly type = 'timestamp' as const;
  constructor(
    version: number,
    expires: Date,
    public snapshotMeta: MetaFile = new MetaFile(1),
    specVersion = SPEC_VERSION,
    unrecognizedFields: JsonObject = newObject(),
  ) {
    super(version, expires, specVersion, unrecognizedFields);
  }

  static fromJSON(obj: JsonObject, path: string): Timestamp {
    const base = readBase(obj, path);
    const metaObj = reqObject(obj, 'meta', path, 'SPEC-32 timestamp meta');
    const names = Object.keys(metaObj);
    if (names.length !== 1 || names[0] !== 'snapshot.json') {
      throw schemaError(
        `${path}.meta`,
        `timestamp meta must list only "snapshot.json" (found ${names.map((n) => JSON.stringify(n)).join(', ') || 'nothing'})`,
        'SPEC-32/BAD-34 timestamp describes only snapshot.json',
      );
    }
    const snapshotMeta = MetaFile.fromJSON(metaObj['snapshot.json'], `${path}.meta["snapshot.json"]`);
    return new Timestamp(
      base.version,
      base.expires,
      snapshotMeta,
      base.specVersion,
      unrecognized(obj, [...BASE_FIELDS, 'meta']),
    );
  }

  toJSON(): JsonObject {
    const out = this.baseJSON();
    const meta = newObject();
    meta['snapshot.json'] = this.snapshotMeta.toJSON();
    out['meta'] = meta;
    return out;
  }
}

export type Signed = Root | Targets | Snapshot | Timestamp;
export type SignedFor<T extends RoleType> = Extract<Signed, { type: T }>;

// ---------------------------------------------------------------- envelope

export class Metadata<T extends Signed = Signed> {
  constructor(
    readonly signed: T,
    /** keyid → signature; one per keyid (SPEC-03). */
    readonly signatures: Map<string, Signature> = new Map(),
    readonly unrecognizedFields: JsonObject = newObject(),
  ) {}

  /** The canonical bytes every signature is made over. */
  signedBytes(): Uint8Array {
    // A 16,384-bin snapshot's entries are written without building an object each (same bytes).
    const snapshot = this.signed instanceof Snapshot ? snapshotCanonical(this.signed) : undefined;
    return snapshot !== undefined ? new TextEncoder().encode(snapshot) : canonicalize(this.signed.toJSON());
  }

  static fromJSON(value: JsonValue, options: ParseOptions & { expectedType?: RoleType } = {}): Metadata {
    const obj = asObject(value, '$', 'SPEC-01 metadata is an object');
    const signedObj = asObject(
      reqField(obj, 'signed', '$', 'SPEC-01/BAD-11 metadata needs "signed"'),
      '$.signed',
      'SPEC-01/BAD-11 "signed" is an object',
    );
    const sigList = reqArray(obj, 'signatures', '$', 'SPEC-01/BAD-11 "signatures" is a list');
    const signatures = new Map<string, Signature>();
    sigList.forEach((s, i) => {
      const sig = Signature.fromJSON(s, `$.signatures[${i}]`);
      if (signatures.has(sig.keyid))
        throw schemaError(
          `$.signatures[${i}].keyid`,
          `two signatures for keyid ${sig.keyid}`,
          'SPEC-03 one signature per keyid',
        );
      signatures.set(sig.keyid, sig);
    });
    const type = reqString(signedObj, '_type', '$.signed', 'BAD-12 _type names the role');
    if (options.expectedType !== undefined && type !== options.expectedType) {
      throw new TufsignError('METADATA_TYPE', `expected ${options.expectedType} metadata, found _type "${type}"`, {
        path: '$.signed._type',
        rule: 'BAD-12 _type must match the file',
      });
    }
    let signed: Signed;
    switch (type) {
      case 'root':
        signed = Root.fromJSON(signedObj, '$.signed', options);
        break;
      case 'targets':
        signed = Targets.fromJSON(signedObj, '$.signed', options);
        break;
      case 'snapshot':
        signed = Snapshot.fromJSON(signedObj, '$.signed');
        break;
      case 'timestamp':
        signed = Timestamp.fromJSON(signedObj, '$.signed');
        break;
      default:
        throw new TufsignError('METADATA_TYPE', `unknown _type "${type}"`, {
          path: '$.signed._type',
          rule: 'BAD-12 _type is root, targets, snapshot or timestamp',
        });
    }
    return new Metadata(signed, signatures, unrecognized(obj, ['signed', 'signatures']));
  }

  /** Parse bytes strictly; errors carry `file`. */
  static fromBytes<R extends RoleType>(
    bytes: Uint8Array,
    file: string,
    expectedType: R,
    options?: ParseOptions,
  ): Metadata<SignedFor<R>>;
  static fromBytes(bytes: Uint8Array, file: string, expectedType?: RoleType, options?: ParseOptions): Metadata;
  static fromBytes(bytes: Uint8Array, file: string, expectedType?: RoleType, options: ParseOptions = {}): Metadata {
    try {
      return Metadata.fromJSON(parseJson(bytes, file), { ...options, expectedType });
    } catch (e) {
      if (e instanceof TufsignError) throw e.inFile(file);
      throw e;
    }
  }

  toJSON(): JsonObject {
    const out = newObject();
    Object.assign(out, this.unrecognizedFields);
    out['signed'] = this.signed.toJSON();
    out['signatures'] = [...this.signatures.values()].map((s) => s.toJSON());
    return out;
  }

  /** Add or replace the signature of one key. */
  addSignature(signature: Signature): void {
    this.signatures.set(signature.keyid, signature);
  }

  clearSignatures(): void {
    this.signatures.clear();
  }
}

export function isRoot(md: Metadata): md is Metadata<Root> {
  return md.signed.type === 'root';
}

export function hexDigest(alg: 'sha256' | 'sha512', data: Uint8Array): string {
  return hashHex(alg, data);
}

/** The keyid helper for raw key JSON, used by callers that only hold JSON. */
export function keyidOf(keyJson: JsonValue): string {
  return Key.fromJSON(keyJson, '$').keyid();
}
