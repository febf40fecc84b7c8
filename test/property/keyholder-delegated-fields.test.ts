/**
 * Property (issue #9, delegated roles): any change to a field of a valid request for a delegated role
 * (targets → a → b) that no signature or fingerprint covers — labels, notes, stored derived values, who delegates
 * to whom, the chain's signatures and names — either leaves what the keyholder verifiably sees (diff, plan,
 * fingerprint, the chain it was anchored through) and the bytes to be signed unchanged, or the request is refused.
 */
import fc from 'fast-check';
import {
  anchorRequest,
  diffRequest,
  parseRequest,
  planFor,
  requestFingerprint,
  requestToJSON,
  signedSha256,
  type SigningRequest,
} from '../../src/ceremony';
import { delegatedScenario } from '../ceremony/fixtures';

const s = delegatedScenario();
const original = JSON.parse(JSON.stringify(requestToJSON(s.request)));
const keyids: string[] = Object.keys(original.keyholders);

function verifiedView(req: SigningRequest): string {
  const diff = diffRequest(req).map((d) => ({
    ...d,
    keysAdded: d.keysAdded?.map(({ owner: _o, ...k }) => k),
    keysRemoved: d.keysRemoved?.map(({ owner: _o, ...k }) => k),
  }));
  return JSON.stringify({
    diff,
    plan: planFor(req),
    fingerprint: requestFingerprint(req),
    chain: req.delegators.map((d) => [d.role, d.delegatedBy ?? null, signedSha256(d.metadata)]),
    delegatedBy: req.roles.map((r) => r.delegatedBy ?? null),
    signed: req.roles.map((r) => Buffer.from(r.metadata.signedBytes()).toString('hex')),
  });
}

const baseline = verifiedView(s.request);
const anyString = fc.string({ unit: 'binary', maxLength: 24 });
const roleName = fc.oneof(fc.constantFrom('targets', 'a', 'b', 'root', 'x', '../a', ''), anyString);
const anyJson = fc.oneof(
  anyString,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(anyString, { maxLength: 2 }),
);

/** a chain entry (an earlier edit may have removed some) */
const at = (doc: any, i: number): any => doc.delegators[Math.min(i, doc.delegators.length - 1)] ?? {};

const edits: fc.Arbitrary<(doc: any) => void>[] = [
  anyString.map((v) => (doc: any) => void (doc.purpose = v)),
  fc
    .tuple(fc.constantFrom(...keyids, 'f'.repeat(64)), fc.constantFrom('owner', 'serial', 'uri'), anyString)
    .map(([k, f, v]) => (doc: any) => {
      if (typeof doc.keyholders[k] !== 'object' || doc.keyholders[k] === null) doc.keyholders[k] = {};
      doc.keyholders[k][f] = v;
    }),
  fc.tuple(fc.constantFrom('signed_sha256', 'version', 'plan', 'role'), anyJson).map(
    ([k, v]) =>
      (doc: any) =>
        void (doc.roles[0][k] = v),
  ),
  roleName.map((v) => (doc: any) => void (doc.roles[0].delegated_by = v)),
  fc.constant((doc: any) => void delete doc.roles[0].delegated_by),
  fc.tuple(fc.nat(1), fc.constantFrom('role', 'delegated_by'), roleName).map(
    ([i, k, v]) =>
      (doc: any) =>
        void (at(doc, i)[k] = v),
  ),
  fc.nat(1).map((i) => (doc: any) => void delete at(doc, i).delegated_by),
  fc.nat(1).map((i) => (doc: any) => void (at(doc, i).metadata = { ...at(doc, i).metadata, signatures: [] })),
  fc.constant((doc: any) => void doc.delegators.reverse()),
  fc.constant((doc: any) => void doc.delegators.pop()),
  fc.constant((doc: any) => void (doc.format_version = 2)),
  fc.tuple(fc.constantFrom('fingerprint', 'ceremony_id'), anyString).map(
    ([k, v]) =>
      (doc: any) =>
        void (doc[k] = v),
  ),
  fc.tuple(fc.nat(1), fc.constantFrom('time', 'tool', 'purpose', 'role'), anyString).map(([i, k, v]) => (doc: any) => {
    const e = doc.transcript[Math.min(i, doc.transcript.length - 1)];
    e[k] = v;
  }),
];

test('property: unsigned fields of a delegated request never change what the keyholder verifiably sees or signs', () => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.array(fc.oneof(...edits), { minLength: 1, maxLength: 3 }), (mutations) => {
      const doc = JSON.parse(JSON.stringify(original));
      for (const m of mutations) m(doc);
      let req: SigningRequest;
      try {
        req = parseRequest(Buffer.from(JSON.stringify(doc)), 'stick.json');
        anchorRequest(req, { source: 'trust-dir', root: s.root }, 'stick.json');
      } catch (e) {
        expect((e as { code?: string }).code).toMatch(/^[A-Z_]+$/);
        return;
      }
      expect(verifiedView(req)).toBe(baseline);
      accepted++;
    }),
    { numRuns: 200 },
  );
  // not vacuous: many edited copies are accepted (labels, notes), and they still show the same verified content
  expect(accepted).toBeGreaterThan(20);
});
