/**
 * planKeyidsOf: a key is matched to a request's plan by its public key, under
 * every keyid the request's roots list it with — the tufup-era keyid in the
 * trusted root and the correct one in a keyid-migration root (ADR 0015) — and
 * never matches another key. Built from the real tufup fixture's root v2.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planKeyidsOf } from '../../src/ceremony';
import { keyFromPublicKeyObject, type Scheme } from '../../src/tuf/key';
import { HISTORY_PARSE, Metadata, type Root } from '../../src/tuf/metadata';

const file = join(__dirname, '..', 'fixtures', 'import', 'tufup', 'repository', 'metadata', '2.root.json');
const load = (): Metadata<Root> => Metadata.fromBytes(readFileSync(file), file, 'root', HISTORY_PARSE);

test('the legacy keyid of the trusted root and the correct keyid of the new root, for the same key only', () => {
  const trusted = load();
  const next = load();
  const root = next.signed;
  root.version += 1;
  const legacy = root.role('root').keyids[0]!;
  const key = root.keys.get(legacy)!;
  const correct = key.keyid();
  expect(correct).not.toBe(legacy);
  root.keys.delete(legacy);
  root.keys.set(correct, key);
  root.role('root').keyids[0] = correct;
  const req = { roles: [{ role: 'root' as const, metadata: next }], trustedRoot: trusted };
  expect(planKeyidsOf(req, key).sort()).toEqual([legacy, correct].sort());
  // the same public key as a signer sees it (no stored fields) matches as well
  expect(planKeyidsOf(req, keyFromPublicKeyObject(key.keyObject(), key.scheme as Scheme)).sort()).toEqual(
    [legacy, correct].sort(),
  );
  // the timestamp key is not in a root-only plan; a stranger key never matches
  const ts = root.keys.get(root.role('timestamp').keyids[0]!)!;
  expect(planKeyidsOf(req, ts)).toEqual([]);
  const stranger = keyFromPublicKeyObject(createPublicKey(generateKeyPairSync('ed25519').privateKey), 'ed25519');
  expect(planKeyidsOf(req, stranger)).toEqual([]);
});
