/** Typed field readers for the metadata parser: each failure names the JSON path and the rule. */
import { TufsignError } from '../errors';
import { isJsonObject, jsonPathJoin, newObject, type JsonObject, type JsonValue } from './json';

export function schemaError(path: string, message: string, rule: string): TufsignError {
  return new TufsignError('METADATA_SCHEMA', message, { path, rule });
}

export function asObject(value: JsonValue | undefined, path: string, rule = 'must be a JSON object'): JsonObject {
  if (!isJsonObject(value)) throw schemaError(path, value === undefined ? 'missing object' : 'not a JSON object', rule);
  return value;
}

export function reqField(obj: JsonObject, key: string, path: string, rule: string): JsonValue {
  const v = obj[key];
  if (v === undefined) throw schemaError(jsonPathJoin(path, key), `missing field "${key}"`, rule);
  return v;
}

export function reqString(obj: JsonObject, key: string, path: string, rule: string): string {
  const v = reqField(obj, key, path, rule);
  if (typeof v !== 'string') throw schemaError(jsonPathJoin(path, key), `"${key}" must be a string`, rule);
  return v;
}

export function reqInt(obj: JsonObject, key: string, path: string, rule: string, min: number): number {
  const v = reqField(obj, key, path, rule);
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw schemaError(jsonPathJoin(path, key), `"${key}" must be an integer`, rule);
  if (v < min) throw schemaError(jsonPathJoin(path, key), `"${key}" must be at least ${min}, got ${v}`, rule);
  return v;
}

export function optInt(obj: JsonObject, key: string, path: string, rule: string, min: number): number | undefined {
  return obj[key] === undefined ? undefined : reqInt(obj, key, path, rule, min);
}

export function reqBool(obj: JsonObject, key: string, path: string, rule: string): boolean {
  const v = reqField(obj, key, path, rule);
  if (typeof v !== 'boolean') throw schemaError(jsonPathJoin(path, key), `"${key}" must be true or false`, rule);
  return v;
}

export function reqObject(obj: JsonObject, key: string, path: string, rule: string): JsonObject {
  return asObject(reqField(obj, key, path, rule), jsonPathJoin(path, key), rule);
}

export function reqArray(obj: JsonObject, key: string, path: string, rule: string): JsonValue[] {
  const v = reqField(obj, key, path, rule);
  if (!Array.isArray(v)) throw schemaError(jsonPathJoin(path, key), `"${key}" must be a list`, rule);
  return v;
}

export function reqStringArray(obj: JsonObject, key: string, path: string, rule: string): string[] {
  return reqArray(obj, key, path, rule).map((v, i) => {
    if (typeof v !== 'string') throw schemaError(jsonPathJoin(jsonPathJoin(path, key), i), 'must be a string', rule);
    return v;
  });
}

/** Fields not in `known`, kept verbatim so re-serialising and re-signing never drops them (SPEC-04). */
export function unrecognized(obj: JsonObject, known: readonly string[]): JsonObject {
  const out = newObject();
  for (const [k, v] of Object.entries(obj)) if (!known.includes(k)) out[k] = v;
  return out;
}

export const HEX = /^[0-9a-f]+$/;

export function reqHex(obj: JsonObject, key: string, path: string, rule: string): string {
  const v = reqString(obj, key, path, rule);
  if (v.length === 0 || !HEX.test(v))
    throw schemaError(jsonPathJoin(path, key), `"${key}" must be lowercase hex`, rule);
  return v;
}

/** Plain objects from a Map, with null prototype (safe for any key). */
export function mapToObject<V>(map: ReadonlyMap<string, V>, f: (v: V) => JsonValue): JsonObject {
  const out = newObject();
  for (const [k, v] of map) out[k] = f(v);
  return out;
}
