/**
 * `tufsign.json`: what the signed metadata cannot hold — the repository name,
 * where each key's private part lives and who owns it, expiry periods, and
 * backend settings. Keys and thresholds themselves live only in root.json.
 */
import { TufsignError } from '../errors';
import { asObject, reqString } from '../tuf/fields';
import { newObject, parseJson, stringifyPretty, type JsonObject } from '../tuf/json';
import { isTopLevelRole, type TopLevelRole } from '../tuf/metadata';
import { parsePeriod, type Period } from '../tuf/time';
import { parseConfiguredKeyRef, type ConfiguredKeyRef } from '../keystore/key-ref';

export const CONFIG_FILE = 'tufsign.json';
export const CONFIG_FORMAT = 'tufsign-workspace';

export interface KeyEntry {
  /**
   * where the private part lives (absent for a public-only key held by someone else), parsed once when the
   * config is read; a URI that does not parse keeps its error until the key is opened
   */
  ref?: ConfiguredKeyRef;
  owner?: string;
  /** attestation summary carried from the public key file, if any */
  attestation?: JsonObject;
  /**
   * An offline key (root, often targets): used only with its own secret
   * (`secret`, `--passphrase-file KEY=FILE`, TUFSIGN_OFFLINE_PASSPHRASE) or a
   * person at a terminal — never with the online secret of unattended runs.
   */
  offline?: boolean;
  /** where this key's passphrase comes from: `env:NAME` or `file:PATH` (0600) */
  secret?: string;
}

/** `env:NAME` or `file:PATH`: a key's own secret source (ADR 0011). */
export function parseSecretSource(value: string, where: string): { kind: 'env' | 'file'; name: string } {
  const m = /^(env|file):(.+)$/.exec(value);
  if (m === null || (m[1] === 'env' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(m[2] as string))) {
    throw new TufsignError('CONFIG_INVALID', `secret source ${JSON.stringify(value)} is not env:NAME or file:PATH`, {
      path: where,
      rule: 'secret: "env:NAME" | "file:PATH"',
    });
  }
  return { kind: m[1] as 'env' | 'file', name: m[2] as string };
}

export interface WorkspaceConfig {
  name: string;
  /** expiry periods per role, e.g. `90d` (parsed when the config is read; `.text` is written back as read) */
  expiry: Record<TopLevelRole, Period>;
  /** minimum remaining validity when finalizing or signing, per role */
  minValidity: RolePeriods;
  /** the longest expiry a keyholder signs without refusing, per role, when set here (else DEFAULT_MAX_EXPIRY) */
  maxExpiry?: RolePeriods;
  /** how long before expiry a role must be re-signed (`status` resign-by date and `status --check`), per role */
  signingWindow?: RolePeriods;
  keys: Map<string, KeyEntry>;
  pkcs11Module?: string;
  /**
   * Set by `init --require-attested-root-keys`: every root key, at init and at
   * every later rotation, must be an attested YubiKey key with touch "always".
   * `attestationRoots` are extra trusted attestation CAs (PEM) beside Yubico's.
   */
  rootKeyPolicy?: { requireAttestedTouchAlways: true; attestationRoots: string[] };
  /**
   * Expiry periods of delegated roles, by role name; hash bins by `PREFIX-*`
   * (`delegate add/bins --expires`). Roles not listed use the targets period.
   */
  delegatedExpiry?: Map<string, Period>;
  /**
   * Keyids of imported, already-published metadata that are not sha256 of
   * their stored key (tufup-era or tuf-on-ci quirks). The workspace reads them;
   * the keyid gate still refuses them in anything tufsign publishes (ADR 0015).
   */
  legacyKeyids?: string[];
  /** fields from newer versions of tufsign, kept verbatim */
  extra: JsonObject;
}

/** Per-role periods of `tufsign.json` (`min_validity`, `max_expiry`, `signing_window`), parsed when read. */
export type RolePeriods = Partial<Record<TopLevelRole, Period>>;

export const DEFAULT_EXPIRY: Readonly<Record<TopLevelRole, Period>> = {
  root: parsePeriod('365d'),
  targets: parsePeriod('90d'),
  snapshot: parsePeriod('7d'),
  timestamp: parsePeriod('1d'),
};
export const DEFAULT_MIN_VALIDITY: Readonly<RolePeriods> = { root: parsePeriod('7d') };
/** Past these, a keyholder refuses to sign: an expiry far in the future outlives a compromised key. */
export const DEFAULT_MAX_EXPIRY: Readonly<Record<TopLevelRole, Period>> = {
  root: parsePeriod('730d'),
  targets: parsePeriod('730d'),
  snapshot: parsePeriod('365d'),
  timestamp: parsePeriod('365d'),
};

/** A period read from a file, parsed once: CONFIG_INVALID naming the field and the rule (the caller adds the file). */
export function readPeriod(text: string, path: string): Period {
  try {
    return parsePeriod(text, path.replace(/^\$\./, ''));
  } catch (e) {
    throw new TufsignError('CONFIG_INVALID', e instanceof Error ? e.message : String(e), {
      path,
      rule: 'period = number + s|m|h|d|w|y',
    });
  }
}

const KNOWN = [
  'format',
  'version',
  'name',
  'expiry',
  'min_validity',
  'max_expiry',
  'signing_window',
  'keys',
  'pkcs11_module',
  'root_key_policy',
  'legacy_keyids',
  'delegated_expiry',
];

/** A `{role: "90d"}` map; every period is parsed here, once. */
export function readPeriods(obj: JsonObject, field: string): RolePeriods {
  const out: RolePeriods = {};
  const map = obj[field] === undefined ? newObject() : asObject(obj[field], `$.${field}`);
  for (const [role, period] of Object.entries(map)) {
    if (!isTopLevelRole(role) || typeof period !== 'string') {
      throw new TufsignError('CONFIG_INVALID', `bad ${field} entry ${role}`, {
        path: `$.${field}.${role}`,
        rule: `${field}: {role: "7d"} for root, targets, snapshot, timestamp`,
      });
    }
    out[role] = readPeriod(period, `$.${field}.${role}`);
  }
  return out;
}

export function parseConfig(bytes: Uint8Array, file: string): WorkspaceConfig {
  try {
    const obj = asObject(parseJson(bytes, file), '$');
    if (obj['format'] !== CONFIG_FORMAT) {
      throw new TufsignError(
        'CONFIG_INVALID',
        `not a tufsign workspace config (format ${JSON.stringify(obj['format'])})`,
        { path: '$.format', rule: `format "${CONFIG_FORMAT}"` },
      );
    }
    if (obj['version'] !== 1)
      throw new TufsignError('CONFIG_INVALID', `unsupported config version ${JSON.stringify(obj['version'])}`, {
        path: '$.version',
        rule: 'config version 1',
      });
    const name = reqString(obj, 'name', '$', 'workspace needs a name');
    const expiry = { ...DEFAULT_EXPIRY, ...readPeriods(obj, 'expiry') };
    const minValidity = { ...DEFAULT_MIN_VALIDITY, ...readPeriods(obj, 'min_validity') };
    const keys = new Map<string, KeyEntry>();
    const keysObj = obj['keys'] === undefined ? newObject() : asObject(obj['keys'], '$.keys');
    for (const [keyid, entryValue] of Object.entries(keysObj)) {
      const e = asObject(entryValue, `$.keys.${keyid}`);
      const entry: KeyEntry = {};
      const uri = e['uri'];
      if (typeof e['owner'] === 'string') entry.owner = e['owner'];
      if (e['attestation'] !== undefined) entry.attestation = asObject(e['attestation'], `$.keys.${keyid}.attestation`);
      if (e['offline'] !== undefined) {
        if (typeof e['offline'] !== 'boolean')
          throw new TufsignError('CONFIG_INVALID', 'offline must be true or false', {
            path: `$.keys.${keyid}.offline`,
            rule: 'offline: boolean',
          });
        if (e['offline']) entry.offline = true;
      }
      if (e['secret'] !== undefined) {
        if (typeof e['secret'] !== 'string')
          throw new TufsignError('CONFIG_INVALID', 'secret must be a string', {
            path: `$.keys.${keyid}.secret`,
            rule: 'secret: "env:NAME" | "file:PATH"',
          });
        parseSecretSource(e['secret'], `$.keys.${keyid}.secret`);
        entry.secret = e['secret'];
      }
      if (typeof uri === 'string') {
        if (/[?&;]pin-value=/.test(uri)) {
          throw new TufsignError('SECRET_IN_ARGV', 'a key URI in the config contains pin-value', {
            file,
            path: `$.keys.${keyid}.uri`,
            rule: 'secrets never in config files',
          });
        }
        entry.ref = parseConfiguredKeyRef(uri);
      }
      keys.set(keyid, entry);
    }
    const delegatedExpiry = new Map<string, Period>();
    const de =
      obj['delegated_expiry'] === undefined ? newObject() : asObject(obj['delegated_expiry'], '$.delegated_expiry');
    for (const [role, period] of Object.entries(de)) {
      if (typeof period !== 'string')
        throw new TufsignError('CONFIG_INVALID', `bad delegated_expiry entry ${role}`, {
          path: `$.delegated_expiry.${role}`,
          rule: 'delegated_expiry: {role: "90d"}',
        });
      delegatedExpiry.set(role, readPeriod(period, `$.delegated_expiry.${role}`));
    }
    const config: WorkspaceConfig = { name, expiry, minValidity, keys, delegatedExpiry, extra: newObject() };
    if (obj['max_expiry'] !== undefined) config.maxExpiry = readPeriods(obj, 'max_expiry');
    if (obj['signing_window'] !== undefined) config.signingWindow = readPeriods(obj, 'signing_window');
    if (typeof obj['pkcs11_module'] === 'string') config.pkcs11Module = obj['pkcs11_module'];
    if (obj['root_key_policy'] !== undefined) {
      const p = asObject(obj['root_key_policy'], '$.root_key_policy');
      const roots = p['attestation_roots'] ?? [];
      if (
        p['require_attested_touch_always'] !== true ||
        !Array.isArray(roots) ||
        roots.some((r) => typeof r !== 'string')
      ) {
        throw new TufsignError(
          'CONFIG_INVALID',
          'root_key_policy must be {"require_attested_touch_always": true, "attestation_roots": [PEM...]}',
          { path: '$.root_key_policy', rule: 'root key policy' },
        );
      }
      config.rootKeyPolicy = { requireAttestedTouchAlways: true, attestationRoots: roots as string[] };
    }
    if (obj['legacy_keyids'] !== undefined) {
      const ids = obj['legacy_keyids'];
      if (!Array.isArray(ids) || ids.some((k) => typeof k !== 'string' || !/^[0-9a-f]{64}$/.test(k))) {
        throw new TufsignError('CONFIG_INVALID', 'legacy_keyids must be a list of 64-hex keyids', {
          path: '$.legacy_keyids',
          rule: 'legacy_keyids: ["<keyid>", ...]',
        });
      }
      config.legacyKeyids = ids as string[];
    }
    for (const [k, v] of Object.entries(obj)) if (!KNOWN.includes(k)) config.extra[k] = v;
    return config;
  } catch (e) {
    if (e instanceof TufsignError)
      throw e.code === 'METADATA_SCHEMA'
        ? new TufsignError('CONFIG_INVALID', e.message, { file, path: e.path, rule: e.rule })
        : e.inFile(file);
    throw e;
  }
}

export function serializeConfig(config: WorkspaceConfig): string {
  const out = newObject();
  Object.assign(out, config.extra);
  out['format'] = CONFIG_FORMAT;
  out['version'] = 1;
  out['name'] = config.name;
  const expiry = newObject();
  for (const [role, period] of Object.entries(config.expiry)) expiry[role] = period.text;
  out['expiry'] = expiry;
  const mv = newObject();
  for (const [role, period] of Object.entries(config.minValidity)) if (period !== undefined) mv[role] = period.text;
  out['min_validity'] = mv;
  if (config.maxExpiry !== undefined) {
    const mx = newObject();
    for (const [role, period] of Object.entries(config.maxExpiry)) if (period !== undefined) mx[role] = period.text;
    out['max_expiry'] = mx;
  }
  if (config.signingWindow !== undefined) {
    const sw = newObject();
    for (const [role, period] of Object.entries(config.signingWindow)) if (period !== undefined) sw[role] = period.text;
    out['signing_window'] = sw;
  }
  const keys = newObject();
  for (const [keyid, entry] of config.keys) {
    const e = newObject();
    if (entry.ref !== undefined) e['uri'] = entry.ref.uri;
    if (entry.owner !== undefined) e['owner'] = entry.owner;
    if (entry.attestation !== undefined) e['attestation'] = entry.attestation;
    if (entry.offline === true) e['offline'] = true;
    if (entry.secret !== undefined) e['secret'] = entry.secret;
    keys[keyid] = e;
  }
  out['keys'] = keys;
  if (config.pkcs11Module !== undefined) out['pkcs11_module'] = config.pkcs11Module;
  if (config.delegatedExpiry !== undefined && config.delegatedExpiry.size > 0) {
    const de = newObject();
    for (const [role, period] of [...config.delegatedExpiry].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      de[role] = period.text;
    out['delegated_expiry'] = de;
  }
  if (config.rootKeyPolicy !== undefined) {
    const p = newObject();
    p['require_attested_touch_always'] = true;
    p['attestation_roots'] = [...config.rootKeyPolicy.attestationRoots];
    out['root_key_policy'] = p;
  }
  if (config.legacyKeyids !== undefined && config.legacyKeyids.length > 0)
    out['legacy_keyids'] = [...config.legacyKeyids];
  return stringifyPretty(out);
}
