/**
 * A snapshot's two texts — the pretty file and the canonical bytes that are signed — written without a JSON
 * object per `meta` entry. A 16,384-bin snapshot is 16,384 `{"version": N}` entries under plain names, and
 * building, sorting and walking them as objects twice per change was a large part of adding one target at
 * PEP 458 scale (ADR 0010). Anything else (a length, hashes, unrecognized fields, a name that needs escaping)
 * gives undefined and the caller uses the general writers, whose bytes these match exactly.
 */
import { canonicalString, sortedKeys } from './canonical-json';
import { newObject, stringifyPretty } from './json';
import type { Metadata, Snapshot } from './metadata';

/** Written the same by both writers: printable ASCII without quote or backslash. */
const PLAIN_NAME = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;

function isEmpty(obj: object): boolean {
  for (const _ in obj) return false;
  return true;
}

/** The entries in code-point order when every one is a plain name with only a version, else undefined. */
function plainEntries(snapshot: Snapshot): [string, number][] | undefined {
  if (!isEmpty(snapshot.unrecognizedFields)) return undefined;
  const names = sortedKeys([...snapshot.meta.keys()]);
  const entries: [string, number][] = [];
  for (const name of names) {
    const m = snapshot.meta.get(name);
    if (m === undefined || m.length !== undefined || m.hashes !== undefined || !isEmpty(m.unrecognizedFields))
      return undefined;
    if (!Number.isSafeInteger(m.version) || Object.is(m.version, -0) || !PLAIN_NAME.test(name)) return undefined;
    entries.push([name, m.version]);
  }
  return entries;
}

/** `text` with its only occurrence of `empty` replaced by `filled`; undefined if it occurs other than once. */
function fillOnce(text: string, empty: string, filled: string): string | undefined {
  const at = text.indexOf(empty);
  if (at < 0 || text.indexOf(empty, at + 1) >= 0) return undefined;
  return text.slice(0, at) + filled + text.slice(at + empty.length);
}

/** `canonicalString(snapshot.toJSON())`, or undefined where the general encoder is needed. */
export function snapshotCanonical(snapshot: Snapshot): string | undefined {
  const entries = plainEntries(snapshot);
  if (entries === undefined) return undefined;
  const parts = entries.map(([name, version]) => '"' + name + '":{"version":' + String(version) + '}');
  return fillOnce(canonicalString(snapshot.toJSONWithoutMeta()), '"meta":{}', '"meta":{' + parts.join(',') + '}');
}

/** `stringifyPretty(md.toJSON())`, or undefined where the general writer is needed. */
export function snapshotPretty(md: Metadata<Snapshot>): string | undefined {
  if (!isEmpty(md.unrecognizedFields)) return undefined;
  const entries = plainEntries(md.signed);
  if (entries === undefined) return undefined;
  const rest = newObject();
  rest['signed'] = md.signed.toJSONWithoutMeta();
  rest['signatures'] = [...md.signatures.values()].map((s) => s.toJSON());
  // `meta` is a key of "signed", at four spaces; its entries at six
  const parts = entries.map(
    ([name, version]) => '      "' + name + '": {\n        "version": ' + String(version) + '\n      }',
  );
  return fillOnce(stringifyPretty(rest), '\n    "meta": {}', '\n    "meta": {\n' + parts.join(',\n') + '\n    }');
}
