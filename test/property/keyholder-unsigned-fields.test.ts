/**
 * Property (issue #9): any change to a field of a valid request that no
 * signature or fingerprint covers either leaves what the keyholder's screen
 * verifiably says (the anchored diff, the plan, the dangerous changes, the
 * fingerprint) and the bytes to be signed unchanged, or the request is refused.
 */
import fc from 'fast-check';
import {
  anchorRequest,
  dangerousChanges,
  diffRequest,
  parseRequest,
  planFor,
  requestFingerprint,
  requestToJSON,
  type SigningRequest,
} from '../../src/ceremony';
import { DAY, NOW, rotation } from '../ceremony/fixtures';

const POLICY = { root: 730 * DAY, targets: 730 * DAY, snapshot: 365 * DAY, timestamp: 365 * DAY };
const s = rotation(3, 2, 2, 1, 2);
const original = JSON.parse(JSON.stringify(requestToJSON(s.request)));
const keyids: string[] = Object.keys(original.keyholders);

/** What the screen says that is verified: the diff without labels, the plan, the dangers, the fingerprint, and the bytes signed. */
function verifiedView(req: SigningRequest): string {
  const diff = diffRequest(req).map((d) => ({
    ...d,
    keysAdded: d.keysAdded?.map(({ owner: _o, ...k }) => k),
    keysRemoved: d.keysRemoved?.map(({ owner: _o, ...k }) => k),
  }));
  return JSON.stringify({
    diff,
    plan: planFor(req),
    dangers: dangerousChanges(diffRequest(req), req.trustedRoot?.signed, NOW, POLICY),
    fingerprint: requestFingerprint(req),
    signed: req.roles.map((r) => Buffer.from(r.metadata.signedBytes()).toString('hex')),
  });
}

const baseline = verifiedView(s.request);
const anyString = fc.string({ unit: 'binary', maxLength: 40 });
const anyJson = fc.oneof(
  anyString,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(anyString, { maxLength: 2 }),
  fc.dictionary(anyString, anyString, { maxKeys: 2 }),
);

/** Edits to fields outside the fingerprint: labels and hints, notes, stored derived values, transcript, history. */
const edits: fc.Arbitrary<(doc: any) => void>[] = [
  anyString.map((v) => (doc: any) => void (doc.purpose = v)),
  fc
    .tuple(
      fc.constantFrom(...keyids, 'f'.repeat(64)),
      fc.constantFrom('owner', 'serial', 'uri', 'attestation'),
      anyString,
    )
    .map(([k, f, v]) => (doc: any) => {
      if (typeof doc.keyholders[k] !== 'object' || doc.keyholders[k] === null || Array.isArray(doc.keyholders[k]))
        doc.keyholders[k] = {};
      doc.keyholders[k][f] = v;
    }),
  fc.tuple(fc.constantFrom(...keyids), anyJson).map(
    ([k, v]) =>
      (doc: any) =>
        void (doc.keyholders[k] = v),
  ),
  fc.tuple(fc.constantFrom('root', 'targets', 'snapshot', 'timestamp', 'x'), anyJson).map(
    ([k, v]) =>
      (doc: any) =>
        void (doc.base[k] = v),
  ),
  fc.tuple(fc.constantFrom('fingerprint', 'ceremony_id', 'repository'), anyString).map(
    ([k, v]) =>
      (doc: any) =>
        void (doc[k] = v),
  ),
  fc.tuple(fc.constantFrom('signed_sha256', 'version', 'plan'), anyJson).map(
    ([k, v]) =>
      (doc: any) =>
        void (doc.roles[0][k] = v),
  ),
  fc
    .tuple(fc.nat(3), fc.constantFrom('time', 'tool', 'owner', 'purpose', 'hash', 'prev'), anyString)
    .map(([i, k, v]) => (doc: any) => {
      const e = doc.transcript[Math.min(i, doc.transcript.length - 1)];
      e[k] = v;
    }),
  anyJson.map((v) => (doc: any) => void (doc.root_history = v)),
  fc.constantFrom('signatures').map(() => (doc: any) => void (doc.roles[0].metadata.signatures = [])),
];

test('property: unsigned fields never change what the keyholder verifiably sees or signs', () => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.array(fc.oneof(...edits), { minLength: 1, maxLength: 3 }), (mutations) => {
      const doc = JSON.parse(JSON.stringify(original));
      for (const m of mutations) m(doc);
      let req: SigningRequest;
      try {
        req = parseRequest(Buffer.from(JSON.stringify(doc)), 'stick.json');
        anchorRequest(req, { source: 'trust-dir', root: s.trusted }, 'stick.json');
      } catch (e) {
        expect((e as { code?: string }).code).toMatch(/^[A-Z_]+$/);
        return;
      }
      expect(verifiedView(req)).toBe(baseline);
      accepted++;
    }),
    { numRuns: 300 },
  );
  // not vacuous: many edited copies are accepted (labels, notes, base), and they still show the same verified content
  expect(accepted).toBeGreaterThan(30);
});
