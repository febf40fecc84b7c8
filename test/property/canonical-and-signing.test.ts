import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { canonicalString } from '../../src/tuf/canonical-json';
import { parseJson, stringifyPretty } from '../../src/tuf/json';
import { Metadata, Signature, TargetFile } from '../../src/tuf/metadata';
import { verificationResult } from '../../src/tuf/verify';
import { buildTestRepo, mutableJson, type TestRepo } from '../helpers/repo';
import { requireComponent } from '../helpers/requirements';
import { SYSTEM_PYTHON } from '../helpers/cli';

const wellFormed = fc
  .string({ unit: 'binary', maxLength: 12 })
  .filter((s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed());
const key = wellFormed.filter((k) => k !== '__proto__');
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.integer(),
    wellFormed,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;

let repo: TestRepo;
beforeAll(async () => {
  repo = await buildTestRepo();
});

describe('properties', () => {
  it('parse ∘ serialize = id (pretty and canonical forms)', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        const canonical = canonicalString(v);
        expect(canonicalString(parseJson(stringifyPretty(v)))).toBe(canonical);
      }),
      { numRuns: 300 },
    );
  });

  it('canonical bytes equal securesystemslib encode_canonical on random values', () => {
    if (!requireComponent('python3-securesystemslib', existsSync(SYSTEM_PYTHON))) return;
    const samples = fc.sample(jsonValue, 200);
    const script = [
      'import json,sys',
      'from securesystemslib.formats import encode_canonical',
      'for line in sys.stdin:',
      '    sys.stdout.write(encode_canonical(json.loads(line)).encode("utf-8").hex()+"\\n")',
    ].join('\n');
    const r = spawnSync(SYSTEM_PYTHON, ['-c', script], {
      input: samples.map((s) => JSON.stringify(s)).join('\n') + '\n',
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const theirs = r.stdout.trim().split('\n');
    expect(theirs).toHaveLength(samples.length);
    samples.forEach((s, i) => expect(Buffer.from(canonicalString(s), 'utf8').toString('hex')).toBe(theirs[i]));
  });

  it('signing then verifying holds for any target set and custom data', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/), fc.uint8Array({ maxLength: 64 }), {
          maxKeys: 5,
        }),
        async (files) => {
          const md = Metadata.fromJSON(mutableJson(repo.targets)) as typeof repo.targets;
          md.signed.targets.clear();
          for (const [p, data] of Object.entries(files)) md.signed.targets.set(p, TargetFile.fromData(data));
          md.clearSignatures();
          const { keyid, signature } = await repo.signers.targets.sign(md.signedBytes());
          md.addSignature(new Signature(keyid, Buffer.from(signature).toString('hex')));
          const reparsed = Metadata.fromBytes(Buffer.from(stringifyPretty(md.toJSON())), 't.json');
          expect(
            verificationResult('targets', repo.root.signed.role('targets'), repo.root.signed.keys, reparsed).verified,
          ).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('tampering with any byte of the signed content breaks verification', () => {
    const bytes = Buffer.from(repo.targets.signedBytes());
    const sig = repo.targets.signatures.values().next().value!;
    const key = repo.signers.targets.publicKey;
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, delta) => {
        const tampered = Buffer.from(bytes);
        tampered[index] = (tampered[index]! + delta) % 256;
        expect(key.verify(sig.bytes(), tampered)).toBe(false);
      }),
      { numRuns: 300 },
    );
    expect(key.verify(sig.bytes(), bytes)).toBe(true);
  });
});
