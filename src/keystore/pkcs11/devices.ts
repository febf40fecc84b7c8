/**
 * `tufsign devices` for PKCS#11: every module tufsign knows or was given, its
 * slots and tokens with their PIN state, and the keys tufsign can use. Never
 * logs in (listing must not cost a PIN try) and never throws for one broken
 * module: each problem becomes a line with a suggestion.
 */
import { TufsignError } from '../../errors';
import type { JsonObject, JsonValue } from '../../tuf/json';
import type { DeviceReport, OpenOptions } from '../backend';
import { CKO_PUBLIC_KEY } from './api';
import { chooseModule, moduleIdentity, wellKnownModules, type ModuleSource } from './modules';
import { findKeys, generatableSchemes, readPublicKeyObject, signingSchemes, tufKey } from './objects';
import { loadModule, type LoadedModule, type TokenDescription } from './runtime';
import { formatPkcs11Uri } from './uri';

interface Candidate {
  path: string;
  source: ModuleSource;
  name?: string;
}

function candidates(options: OpenOptions, wellKnown: boolean): Candidate[] {
  const out: Candidate[] = [];
  const push = (c: Candidate): void => {
    if (!out.some((o) => moduleIdentity(o.path) === moduleIdentity(c.path))) out.push(c);
  };
  if (options.pkcs11Module !== undefined && options.pkcs11Module !== '') {
    const c = chooseModule({}, { baseDir: options.baseDir, env: {}, pkcs11Module: options.pkcs11Module });
    push(c);
  }
  const env = options.env['TUFSIGN_PKCS11_MODULE'];
  if (env !== undefined && env !== '')
    push(chooseModule({}, { baseDir: options.baseDir, env: { TUFSIGN_PKCS11_MODULE: env } }));
  if (wellKnown) for (const k of wellKnownModules()) push({ path: k.path, source: 'well-known', name: k.name });
  return out;
}

function tokenJson(
  module: LoadedModule,
  slot: Buffer,
  t: TokenDescription,
  modulePath: string,
  source: ModuleSource,
): JsonObject {
  const flags: JsonObject = { ...t.flags };
  const out: JsonObject = {
    label: t.label,
    serial: t.serial,
    manufacturer: t.manufacturer,
    model: t.model,
    flags,
  };
  const warnings: string[] = [];
  if (t.flags.pinLocked) warnings.push('user PIN locked: unlock it with the SO PIN (vendor tool)');
  else if (t.flags.pinFinalTry) warnings.push('user PIN: final try; the next wrong PIN locks it');
  else if (t.flags.pinCountLow) warnings.push('user PIN: a wrong PIN was entered since the last good login');
  if (t.flags.pinToBeChanged) warnings.push('user PIN must be changed before use');
  if (!t.flags.tokenInitialized) warnings.push('token not initialized');
  out['warnings'] = warnings;
  if (!t.flags.tokenInitialized) return out;
  try {
    const mechs = module.mechanisms(slot, t);
    out['signingSchemes'] = signingSchemes(mechs);
    out['generateSchemes'] = generatableSchemes(mechs);
    const session = module.session(slot, t);
    const keys: JsonValue[] = [];
    for (const k of findKeys(session, CKO_PUBLIC_KEY, {})) {
      const entry: JsonObject = { label: k.label, id: k.id.toString('hex') };
      try {
        const pk = readPublicKeyObject(session, k.handle);
        if (pk === undefined) {
          entry['usable'] = false;
        } else {
          const key = tufKey(pk, undefined);
          entry['scheme'] = pk.scheme;
          entry['keyid'] = key.keyid();
          entry['usable'] = (out['signingSchemes'] as string[]).includes(pk.scheme);
        }
      } catch (e) {
        entry['usable'] = false;
        entry['reason'] = e instanceof TufsignError ? e.message : 'unreadable public key';
      }
      // CKA_ID pairs a public key with its private key; labels need not match (ykcs11 names them
      // "Public key for …" / "Private key for …"), so a URI with an id addresses the pair by id alone.
      const uri: Parameters<typeof formatPkcs11Uri>[0] =
        k.id.length > 0 ? { token: t.label, id: k.id } : { token: t.label, object: k.label };
      if (source === 'well-known' || source === 'env' || source === 'request') uri.modulePath = modulePath;
      entry['uri'] = formatPkcs11Uri(uri);
      keys.push(entry);
    }
    out['keys'] = keys;
    if (keys.length === 0 && t.flags.loginRequired)
      out['keysNote'] = 'no public keys visible without login; private keys may still exist';
  } catch (e) {
    out['error'] = e instanceof TufsignError ? e.message : String(e);
  }
  return out;
}

/**
 * `scope: 'configured'` looks only at the modules this machine's configuration names (`pkcs11Module`,
 * TUFSIGN_PKCS11_MODULE), never at the well-known install paths: the keyholder's key detection loads
 * nothing else.
 */
export function listPkcs11Devices(options: OpenOptions, scope: 'all' | 'configured' = 'all'): Promise<DeviceReport> {
  const report: DeviceReport = { backend: 'pkcs11', available: false, problems: [], devices: [] };
  let list: Candidate[];
  try {
    list = candidates(options, scope === 'all');
  } catch (e) {
    report.problems.push(problemOf(e));
    return Promise.resolve(report);
  }
  if (list.length === 0) {
    report.problems.push({
      message: 'no PKCS#11 module was given or found in the usual places',
      suggestion:
        "Install your token's PKCS#11 library (to try tufsign: apt install softhsm2) and set TUFSIGN_PKCS11_MODULE or pkcs11Module in tufsign.json.",
    });
    return Promise.resolve(report);
  }
  for (const c of list) {
    const entry: JsonObject = { module: c.path, source: c.source };
    if (c.name !== undefined) entry['name'] = c.name;
    let mod: LoadedModule;
    try {
      mod = loadModule(c.path);
    } catch (e) {
      const p = problemOf(e);
      report.problems.push(p);
      entry['loaded'] = false;
      entry['problem'] = p.message;
      report.devices.push(entry);
      // Without pkcs11js nothing else can load either.
      if (e instanceof TufsignError && e.code === 'DEPENDENCY_MISSING') break;
      continue;
    }
    entry['loaded'] = true;
    report.available = true;
    try {
      const info = mod.info();
      entry['library'] = {
        manufacturer: info.manufacturerID.replace(/[\s\0]+$/, ''),
        description: info.libraryDescription.replace(/[\s\0]+$/, ''),
        version: `${info.libraryVersion.major}.${info.libraryVersion.minor}`,
        cryptoki: `${info.cryptokiVersion.major}.${info.cryptokiVersion.minor}`,
      };
      const slots: JsonValue[] = [];
      for (const slot of mod.api.C_GetSlotList(false)) {
        let slotJson: JsonObject;
        try {
          const t = mod.describeSlot(slot);
          slotJson = {
            slotId: t.slotId,
            description: t.slotDescription,
            tokenPresent: true,
            token: tokenJson(mod, slot, t, c.path, c.source),
          };
        } catch {
          // C_GetTokenInfo fails for an empty slot (no card in the reader)
          const si = mod.api.C_GetSlotInfo(slot);
          slotJson = { description: si.slotDescription.replace(/[\s\0]+$/, ''), tokenPresent: false };
        }
        slots.push(slotJson);
      }
      entry['slots'] = slots;
      if (slots.length === 0) {
        report.problems.push({
          message: `${c.path} sees no slots`,
          suggestion:
            c.path.includes('ykcs11') || c.path.includes('opensc')
              ? 'Plug in the card or YubiKey and make sure pcscd is running.'
              : 'Check the module configuration (for SoftHSM2: SOFTHSM2_CONF and softhsm2-util --init-token).',
        });
      }
    } catch (e) {
      const p = problemOf(e);
      report.problems.push(p);
      entry['problem'] = p.message;
    }
    report.devices.push(entry);
  }
  return Promise.resolve(report);
}

function problemOf(e: unknown): { message: string; suggestion: string } {
  if (e instanceof TufsignError)
    return { message: e.message, suggestion: e.suggestion ?? 'Run with --debug for details.' };
  return { message: e instanceof Error ? e.message : String(e), suggestion: 'Run with --debug for details.' };
}
