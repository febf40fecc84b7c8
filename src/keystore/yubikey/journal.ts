/**
 * The journal of a YubiKey `key generate` under way (ADR 0007). A PIV slot has no name tufsign could look its key
 * up by (a PKCS#11 key has its label), so without a record a re-run after a kill cannot tell the key the killed run
 * made from anybody else's key in that slot. The journal is that record: written (atomically) after the checks
 * and before GENERATE reaches the device, rewritten with the public key as soon as the device returns it, and
 * removed once the public key file is written. It holds no secret.
 *
 * `.tufsign-generate-yubikey-SERIAL-SLOT.json`, in the folder of `--public-out` (else the working directory).
 */
import { join } from 'node:path';
import { pathKind, readFileBounded, writeFileAtomic } from '../../io/fs';
import { isJsonObject, newObject, parseJson, stringifyPretty } from '../../tuf/json';
import { isScheme, type Scheme } from '../../tuf/key';
import { slotName } from './piv';

const TYPE = 'tufsign-yubikey-generate';
const MAX_BYTES = 64 * 1024;
const PIN_POLICIES = ['always', 'once', 'never', 'default'] as const;
const TOUCH_POLICIES = ['always', 'cached', 'never', 'default'] as const;

export interface GenerationJournal {
  serial: number;
  /** e.g. "9c" */
  slot: string;
  scheme: Scheme;
  pinPolicy: (typeof PIN_POLICIES)[number];
  touchPolicy: (typeof TOUCH_POLICIES)[number];
  /** when the run started (ISO 8601), for the operator */
  started: string;
  /** SubjectPublicKeyInfo (DER, base64) the device returned; absent while GENERATE may still be under way */
  publicKey?: string;
}

/** What a journal file held: nothing, a journal, or something tufsign did not write (with the JSON path at fault). */
export type JournalRead =
  { kind: 'none' } | { kind: 'journal'; journal: GenerationJournal } | { kind: 'invalid'; why: string; path: string };

export function journalPath(dir: string, serial: number, slot: number): string {
  return join(dir, `.tufsign-generate-yubikey-${serial}-${slotName(slot)}.json`);
}

export function readJournal(path: string): JournalRead {
  const kind = pathKind(path);
  if (kind === 'missing') return { kind: 'none' };
  if (kind !== 'file') return { kind: 'invalid', why: 'it is not a regular file', path: '$' };
  let value;
  try {
    value = parseJson(readFileBounded(path, MAX_BYTES), path);
  } catch (e) {
    return { kind: 'invalid', why: e instanceof Error ? e.message : String(e), path: '$' };
  }
  if (!isJsonObject(value)) return { kind: 'invalid', why: 'not a JSON object', path: '$' };
  const bad = (field: string, why: string): JournalRead => ({ kind: 'invalid', why, path: `$.${field}` });
  if (value['_type'] !== TYPE) return bad('_type', `must be "${TYPE}"`);
  const { serial, slot, scheme, pinPolicy, touchPolicy, started, publicKey } = value;
  if (typeof serial !== 'number' || !Number.isSafeInteger(serial) || serial < 0) return bad('serial', 'not a serial');
  if (typeof slot !== 'string' || !/^[0-9a-f]{2}$/.test(slot)) return bad('slot', 'not a slot');
  if (typeof scheme !== 'string' || !isScheme(scheme)) return bad('scheme', 'not a scheme');
  if (!PIN_POLICIES.includes(pinPolicy as never)) return bad('pinPolicy', 'not a PIN policy');
  if (!TOUCH_POLICIES.includes(touchPolicy as never)) return bad('touchPolicy', 'not a touch policy');
  if (typeof started !== 'string') return bad('started', 'not a time');
  if (publicKey !== undefined && (typeof publicKey !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(publicKey)))
    return bad('publicKey', 'not base64');
  const journal: GenerationJournal = {
    serial,
    slot,
    scheme,
    pinPolicy: pinPolicy as GenerationJournal['pinPolicy'],
    touchPolicy: touchPolicy as GenerationJournal['touchPolicy'],
    started,
  };
  if (publicKey !== undefined) journal.publicKey = publicKey;
  return { kind: 'journal', journal };
}

export function writeJournal(path: string, journal: GenerationJournal): void {
  const o = newObject();
  o['_type'] = TYPE;
  for (const [k, v] of Object.entries(journal)) if (v !== undefined) o[k] = v as string | number;
  writeFileAtomic(path, stringifyPretty(o));
}
