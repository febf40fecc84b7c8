/**
 * The public key file a keyholder hands to an organizer (`key export`,
 * `key generate --public-out`): the TUF key, its keyid, where the private part
 * lives, who owns it, and (for YubiKeys) the attestation.
 */
import { TufsignError } from '../errors';
import { asObject, reqField, reqString } from '../tuf/fields';
import { newObject, parseJson, stringifyPretty, type JsonObject } from '../tuf/json';
import { Key } from '../tuf/key';

export const PUBLIC_KEY_FORMAT = 'tufsign-public-key';

/** `keys/alice.pem` → `keys/alice.pem.pub.json`: the public part beside an encrypted key file (ADR 0008). */
export const PUBLIC_PART_SUFFIX = '.pub.json';

export function publicPartPath(keyFile: string): string {
  return `${keyFile}${PUBLIC_PART_SUFFIX}`;
}

export interface PublicKeyFile {
  key: Key;
  keyid: string;
  uri?: string;
  owner?: string;
  attestation?: JsonObject;
}

export function serializePublicKeyFile(f: PublicKeyFile): string {
  const out = newObject();
  out['format'] = PUBLIC_KEY_FORMAT;
  out['version'] = 1;
  out['keyid'] = f.keyid;
  out['key'] = f.key.toJSON();
  if (f.uri !== undefined) out['uri'] = f.uri;
  if (f.owner !== undefined) out['owner'] = f.owner;
  if (f.attestation !== undefined) out['attestation'] = f.attestation;
  return stringifyPretty(out);
}

/** Parse a public key file; also accepts a bare TUF key object (`{keytype, scheme, keyval}`). */
export function parsePublicKeyFile(bytes: Uint8Array, file: string): PublicKeyFile {
  try {
    const obj = asObject(parseJson(bytes, file), '$', 'a public key file is a JSON object');
    if (obj['format'] === undefined && obj['keytype'] !== undefined) {
      const key = Key.fromJSON(obj, '$');
      return { key, keyid: key.keyid() };
    }
    if (obj['format'] !== PUBLIC_KEY_FORMAT) {
      throw new TufsignError('KEY_INVALID', `not a tufsign public key file (format ${JSON.stringify(obj['format'])})`, {
        path: '$.format',
        rule: `format "${PUBLIC_KEY_FORMAT}"`,
      });
    }
    const key = Key.fromJSON(reqField(obj, 'key', '$', 'public key file needs "key"'), '$.key');
    const keyid = reqString(obj, 'keyid', '$', 'public key file needs "keyid"');
    if (keyid !== key.keyid()) {
      throw new TufsignError('KEYID_MISMATCH', `keyid ${keyid} does not match the key (${key.keyid()})`, {
        path: '$.keyid',
        rule: 'SPEC-05 keyid = sha256(canonical key)',
      });
    }
    const result: PublicKeyFile = { key, keyid };
    if (typeof obj['uri'] === 'string') result.uri = obj['uri'];
    if (typeof obj['owner'] === 'string') result.owner = obj['owner'];
    const att = obj['attestation'];
    if (att !== undefined) result.attestation = asObject(att, '$.attestation');
    return result;
  } catch (e) {
    if (e instanceof TufsignError) throw e.inFile(file);
    throw e;
  }
}
