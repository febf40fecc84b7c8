/**
 * The journal of a PKCS#11 `key generate` under way (ADR 0007). The key id tufsign picks is written down before
 * C_GenerateKeyPair: a module that stores the two halves of a pair one after the other (SoftHSM2 writes two
 * object files) can be killed between them, and only this record tells half a pair of tufsign's own making from
 * somebody else's object under the label. Removed once the public key file is written; it holds no secret.
 *
 * `.tufsign-generate-pkcs11-TOKENSERIAL-LABELHASH.json`, in the folder of `--public-out` (else the working
 * directory).
 */
import { sha256Hex } from '../../io/hash';
import { join } from 'node:path';
import { pathKind, readFileBounded, writeFileAtomic } from '../../io/fs';
import { isJsonObject, newObject, parseJson, stringifyPretty } from '../../tuf/json';

const TYPE = 'tufsign-pkcs11-generate';

export interface Pkcs11GenerationJournal {
  tokenSerial: string;
  label: string;
  /** CKA_ID, hex */
  id: string;
  scheme: string;
}

export function pkcs11JournalPath(dir: string, tokenSerial: string, label: string): string {
  const labelHash = sha256Hex(label).slice(0, 16);
  return join(dir, `.tufsign-generate-pkcs11-${tokenSerial.replace(/[^A-Za-z0-9]/g, '_')}-${labelHash}.json`);
}

/** The journal at `path`, or undefined when there is none or it is not one tufsign wrote (then nothing is trusted). */
export function readPkcs11Journal(path: string): Pkcs11GenerationJournal | undefined {
  if (pathKind(path) !== 'file') return undefined;
  let v;
  try {
    v = parseJson(readFileBounded(path, 64 * 1024), path);
  } catch {
    return undefined;
  }
  if (!isJsonObject(v) || v['_type'] !== TYPE) return undefined;
  const { tokenSerial, label, id, scheme } = v;
  if (typeof tokenSerial !== 'string' || typeof label !== 'string' || typeof scheme !== 'string') return undefined;
  if (typeof id !== 'string' || !/^([0-9a-f]{2}){1,64}$/.test(id)) return undefined;
  return { tokenSerial, label, id, scheme };
}

export function writePkcs11Journal(path: string, j: Pkcs11GenerationJournal): void {
  const o = newObject();
  o['_type'] = TYPE;
  o['tokenSerial'] = j.tokenSerial;
  o['label'] = j.label;
  o['id'] = j.id;
  o['scheme'] = j.scheme;
  writeFileAtomic(path, stringifyPretty(o));
}
