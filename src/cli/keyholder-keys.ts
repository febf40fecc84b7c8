/**
 * The keyholder's machine, as key detection sees it: the YubiKeys plugged in
 * (over PC/SC, no module loaded), the tokens behind the PKCS#11 modules this
 * machine's OWN configuration names (`--pkcs11-module`, the workspace's
 * `pkcs11_module`, TUFSIGN_PKCS11_MODULE; never a well-known path, never a
 * module named by the request), and a PIN-less look at a device key's public
 * part. Nothing here takes a URI, path or module from the request.
 */
import { listPkcs11Devices } from '../keystore/pkcs11/devices';
import { parseKeyRef, type KeyRef } from '../keystore/key-ref';
import { BACKENDS, readPublicKey } from '../keystore/registry';
import type { DeviceReport } from '../keystore/backend';
import type { KeyholderContext, KeySources } from '../repository/keyholder-sign';
import type { Workspace } from '../repository/workspace';
import type { Key } from '../tuf/key';
import type { JsonValue } from '../tuf/json';
import { ceremonyContext } from './ceremony';
import type { RunContext } from './context';

export interface KeyholderMachine {
  run: RunContext;
  /** folder relative `file:` URIs resolve against */
  baseDir: string;
  workspace?: Workspace | undefined;
  /** `--pkcs11-module`: overrides the workspace's pkcs11_module */
  pkcs11Module?: string | undefined;
}

const isObject = (v: JsonValue | undefined): v is Record<string, JsonValue> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function options(m: KeyholderMachine): ReturnType<RunContext['openOptions']> {
  return m.run.openOptions(m.baseDir, m.workspace, m.pkcs11Module);
}

/** YubiKey slots with a key, found over PC/SC. */
export async function pluggedYubiKeys(m: KeyholderMachine): Promise<KeyRef[]> {
  const yubikeys = BACKENDS.yubikey;
  if (yubikeys.listDevices === undefined) return [];
  let report: DeviceReport;
  try {
    report = await yubikeys.listDevices(options(m));
  } catch {
    return []; // no PC/SC here: no YubiKeys to offer
  }
  const uris: string[] = [];
  for (const d of report.devices) {
    const serial = d['serial'];
    const slots = d['slots'];
    if (typeof serial !== 'number' || !Array.isArray(slots)) continue;
    for (const s of slots)
      if (isObject(s) && typeof s['slot'] === 'string' && typeof s['scheme'] === 'string')
        uris.push(`yubikey:serial=${serial};slot=${s['slot']}`);
  }
  return uris.map((u) => parseKeyRef(u));
}

/** Usable keys on the tokens behind the PKCS#11 modules this machine's configuration names (none named: none). */
export async function configuredTokenKeys(m: KeyholderMachine): Promise<KeyRef[]> {
  const o = options(m);
  const env = o.env['TUFSIGN_PKCS11_MODULE'];
  if ((o.pkcs11Module ?? '') === '' && (env ?? '') === '') return [];
  let report: DeviceReport;
  try {
    report = await listPkcs11Devices(o, 'configured');
  } catch {
    return [];
  }
  const uris: string[] = [];
  for (const d of report.devices) {
    const slots = d['slots'];
    if (!Array.isArray(slots)) continue;
    for (const slot of slots) {
      const token = isObject(slot) ? slot['token'] : undefined;
      const keys = isObject(token) ? token['keys'] : undefined;
      if (!Array.isArray(keys)) continue;
      for (const k of keys)
        if (isObject(k) && k['usable'] === true && typeof k['uri'] === 'string') uris.push(k['uri']);
    }
  }
  return uris.map((u) => parseKeyRef(u));
}

/** The public key behind a device URI, read without a PIN; undefined when it is not here. */
export async function probePublicKey(m: KeyholderMachine, ref: KeyRef): Promise<Key | undefined> {
  if (ref.backend === 'file') return undefined;
  try {
    return (await readPublicKey(ref, options(m))).publicKey;
  } catch {
    return undefined;
  }
}

/** The keyholder's ceremony context: signers for this machine, `file:` URIs resolved here, a PIN-less probe. */
export function keyholderContext(m: KeyholderMachine, tool: string): KeyholderContext {
  return {
    ...ceremonyContext(m.run, m.baseDir, m.workspace, tool, m.pkcs11Module),
    keyBaseDir: m.baseDir,
    probe: (ref) => probePublicKey(m, ref),
  };
}

/** Where detection looks on this machine (used when the keyholder names no --key). */
export function machineKeySources(m: KeyholderMachine): Pick<KeySources, 'pluggedKeys' | 'tokenKeys' | 'probe'> {
  return {
    pluggedKeys: () => pluggedYubiKeys(m),
    tokenKeys: () => configuredTokenKeys(m),
    probe: (ref) => probePublicKey(m, ref),
  };
}
