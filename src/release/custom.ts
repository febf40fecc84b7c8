/** tufup's custom target metadata (v0.7+ shape `{"user": …, "tufup": {…}}`, v0.6 flat shape read too). */
import { isJsonObject, newObject, type JsonObject, type JsonValue } from '../tuf/json';
import type { TargetFile } from '../tuf/metadata';

export function archiveCustom(meta: JsonValue | null | undefined, required: boolean): JsonObject {
  const tufup = newObject();
  tufup['required'] = required;
  const out = newObject();
  out['user'] = meta ?? null;
  out['tufup'] = tufup;
  return out;
}

export function patchCustom(tarHash: string, tarSize: number): JsonObject {
  const tufup = newObject();
  tufup['tar_hash'] = tarHash;
  tufup['tar_hash_algorithm'] = 'sha256';
  tufup['tar_size'] = tarSize;
  const out = newObject();
  out['user'] = null;
  out['tufup'] = tufup;
  return out;
}

export interface TufupCustom {
  user: JsonValue | null;
  tufup: JsonObject;
}

/** As tufup's `TargetMeta._get_custom_metadata`: anything but exactly {user, tufup} is all internal metadata. */
export function readTufupCustom(target: TargetFile): TufupCustom {
  const custom = target.custom;
  if (!isJsonObject(custom)) return { user: null, tufup: newObject() };
  const keys = Object.keys(custom).sort();
  const tufup = custom['tufup'];
  if (keys.length === 2 && keys[0] === 'tufup' && keys[1] === 'user' && isJsonObject(tufup))
    return { user: custom['user'] ?? null, tufup };
  return { user: null, tufup: custom };
}
