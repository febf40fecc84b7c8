/**
 * The keyid rule (ADR 0015): mismatches found as tough finds them (whole stored
 * object), their derivation explained, legacy forms read only when asked, and
 * legacy `expires` text preserved so signatures still verify.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { keyidDerivation, keyidProblems } from '../../../src/tuf/keyids';
import { HISTORY_PARSE, Metadata, Role, Root } from '../../../src/tuf/metadata';
import { keyFromPublicKeyObject, Key } from '../../../src/tuf/key';
import { assertPublishableKeyids } from '../../../src/repository/keyid-gate';
import { TufsignError } from '../../../src/errors';
import { newObject } from '../../../src/tuf/json';
import { parseThreshold } from '../../../src/tuf/threshold';

const TUFUP_ROOT = join(__dirname, '..', '..', 'fixtures', 'import', 'tufup', 'repository', 'metadata', '2.root.json');
const bytes = readFileSync(TUFUP_ROOT);

describe('keyids of a real tufup root', () => {
  it('strict parsing refuses them (BAD-21), history parsing reads them', () => {
    expect(() => Metadata.fromBytes(bytes, '2.root.json', 'root')).toThrow(
      expect.objectContaining({ code: 'KEYID_MISMATCH' }),
    );
    const md = Metadata.fromBytes(bytes, '2.root.json', 'root', HISTORY_PARSE);
    expect(md.signed.keys.size).toBe(4);
  });

  it('every keyid is recognised as a legacy securesystemslib keyid', () => {
    const md = Metadata.fromBytes(bytes, '2.root.json', 'root', HISTORY_PARSE);
    const problems = keyidProblems(md.signed);
    expect(problems).toHaveLength(4);
    for (const p of problems) {
      expect(p.derivation).toBe('securesystemslib-legacy');
      expect(p.expected).toBe(md.signed.keys.get(p.keyid)?.keyid());
    }
  });

  it('only the listed legacy keyids are accepted when a set is given', () => {
    const md = Metadata.fromBytes(bytes, '2.root.json', 'root', HISTORY_PARSE);
    const ids = [...md.signed.keys.keys()];
    expect(() => Metadata.fromBytes(bytes, 'x', 'root', { allowLegacyKeyids: new Set(ids.slice(1)) })).toThrow(
      expect.objectContaining({ code: 'KEYID_MISMATCH' }),
    );
    expect(Metadata.fromBytes(bytes, 'x', 'root', { allowLegacyKeyids: new Set(ids) }).signed.version).toBe(2);
  });

  it('the publish gate refuses a root with them, naming both keyids and the fix', () => {
    const md = Metadata.fromBytes(bytes, '2.root.json', 'root', HISTORY_PARSE);
    let err: TufsignError | undefined;
    try {
      assertPublishableKeyids([md]);
    } catch (e) {
      err = e as TufsignError;
    }
    expect(err?.code).toBe('KEYID_MISMATCH');
    const first = keyidProblems(md.signed)[0];
    expect(err?.message).toContain(first?.keyid);
    expect(err?.message).toContain(first?.expected);
    expect(err?.suggestion).toContain('root rotate --fix-keyids');
  });
});

describe('keyid derivations', () => {
  const key = keyFromPublicKeyObject(generateKeyPairSync('ed25519').publicKey, 'ed25519');
  it('a key with an x- field added after its keyid was computed', () => {
    const extra = newObject();
    extra['x-tuf-on-ci-keyowner'] = '@alice';
    const edited = new Key(key.keytype, key.scheme, key.keyval, extra);
    expect(edited.keyid()).not.toBe(key.keyid());
    expect(keyidDerivation(edited, key.keyid())).toBe('without-extra-fields');
  });
  it('a keyid that does not follow from the key at all', () => {
    expect(keyidDerivation(key, 'ab'.repeat(32))).toBe('unknown');
  });
  it('a key stored with keyid_hash_algorithms (go-tuf v0) hashes the field and matches strictly', () => {
    const extra = newObject();
    extra['keyid_hash_algorithms'] = ['sha256', 'sha512'];
    const stored = new Key(key.keytype, key.scheme, key.keyval, extra);
    const root = new Root(1, new Date('2030-01-01T00:00:00Z'), new Map(), new Map());
    for (const r of ['root', 'targets', 'snapshot', 'timestamp'] as const)
      root.roles.set(r, new Role([], parseThreshold(1)));
    root.addKey(stored, 'root');
    expect(keyidProblems(root)).toEqual([]);
  });
});

describe('legacy expires in historical roots', () => {
  const md = Metadata.fromBytes(bytes, '2.root.json', 'root', HISTORY_PARSE);
  const json = md.toJSON() as any;
  json.signed.expires = '2021-12-18T13:28:12.99008-06:00';
  it('is refused by default and read with HISTORY_PARSE, the text kept byte for byte', () => {
    expect(() => Metadata.fromJSON(json, { expectedType: 'root', allowLegacyKeyids: true })).toThrow(
      expect.objectContaining({ code: 'EXPIRY_INVALID' }),
    );
    const legacy = Metadata.fromJSON(json, { expectedType: 'root', ...HISTORY_PARSE });
    expect((legacy.toJSON() as any).signed.expires).toBe('2021-12-18T13:28:12.99008-06:00');
    expect(legacy.signed.expires.toISOString()).toBe('2021-12-18T19:28:12.990Z');
  });
  it('is rewritten in the strict form once expires changes', () => {
    const legacy = Metadata.fromJSON(json, { expectedType: 'root', ...HISTORY_PARSE });
    legacy.signed.expires = new Date('2031-01-01T00:00:00Z');
    expect((legacy.toJSON() as any).signed.expires).toBe('2031-01-01T00:00:00Z');
  });
});
