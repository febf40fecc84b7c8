import { createHash, createPublicKey } from 'node:crypto';
import {
  addSignatures,
  createRequest,
  diffRequest,
  finalizeRequest,
  mergeRequests,
  parseRequest,
  requestStatus,
  serializeRequest,
  requestFingerprint,
  signableBy,
  requestToJSON,
  type SigningRequest,
} from '../../src/ceremony';
import { TufsignError, type ErrorCode } from '../../src/errors';
import { keyFromPublicKeyObject } from '../../src/tuf/key';
import { Metadata, Targets } from '../../src/tuf/metadata';
import {
  DAY,
  NOW,
  TOOL,
  days,
  keyholders,
  makeKey,
  makeRoot,
  rotation,
  sigOver,
  signMd,
  targetsWith,
  type TestKey,
} from './fixtures';

const ctx = { now: NOW, tool: TOOL };

function code(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof TufsignError) return e.code;
    throw e;
  }
  return undefined;
}

function sign(req: SigningRequest, k: TestKey, role: 'root' | 'targets' = 'root'): SigningRequest {
  const md = req.roles.find((r) => r.role === role)!.metadata;
  return addSignatures(req, [{ role, keyid: k.keyid, signature: sigOver(k, md.signedBytes()) }], ctx).request;
}

function roundTrip(req: SigningRequest): SigningRequest {
  return parseRequest(Buffer.from(serializeRequest(req)), 'req.json');
}

function validCount(req: SigningRequest): number {
  return requestStatus(req, NOW).roles.reduce((n, r) => n + r.sides.reduce((m, s) => m + s.signed.length, 0), 0);
}

describe('request format', () => {
  test('round-trips through the file format and keeps its fingerprint', () => {
    const s = rotation();
    const signed = sign(s.request, s.old[0]!);
    const back = roundTrip(signed);
    expect(serializeRequest(back)).toBe(serializeRequest(signed));
    expect(requestFingerprint(back)).toBe(requestFingerprint(s.request));
    expect(requestFingerprint(back)).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$/);
  });

  test('fingerprint depends only on the signed bytes', () => {
    const a = rotation();
    const b = sign(a.request, a.old[0]!);
    expect(requestFingerprint(b)).toBe(requestFingerprint(a.request));
    const other = rotation();
    expect(requestFingerprint(other.request)).not.toBe(requestFingerprint(a.request));
  });

  test('root version must be exactly previous + 1 (BAD-27)', () => {
    expect(code(() => rotation(2, 1, 1, 2, 2, { version: 3 }))).toBe('VERSION_INVALID');
    expect(code(() => rotation(2, 1, 1, 2, 2, { version: 1 }))).toBe('VERSION_INVALID');
  });

  test('a threshold the keys cannot reach is refused at creation', () => {
    expect(code(() => rotation(2, 1, 0, 1, 2))).toBe('THRESHOLD_INVALID');
  });

  test('a changed payload is refused, never silently re-signed (BAD-30)', () => {
    const s = rotation();
    const json = requestToJSON(sign(s.request, s.old[0]!)) as any;
    json.roles[0].metadata.signed.expires = '2099-01-01T00:00:00Z';
    expect(code(() => parseRequest(Buffer.from(JSON.stringify(json)), 'x'))).toBe('REQUEST_PAYLOAD_CHANGED');
    // even with the digest and fingerprint "fixed up" by hand, the created event pins the payload
    const md = Metadata.fromJSON(json.roles[0].metadata);
    json.roles[0].signed_sha256 = createHash('sha256').update(md.signedBytes()).digest('hex');
    json.fingerprint = requestFingerprint({ roles: [{ role: 'root', metadata: md }], trustedRoot: s.trusted });
    expect(code(() => parseRequest(Buffer.from(JSON.stringify(json)), 'x'))).toBe('REQUEST_PAYLOAD_CHANGED');
  });

  test('unknown fields and an edited plan are refused', () => {
    const s = rotation();
    const json = requestToJSON(s.request) as any;
    expect(code(() => parseRequest(Buffer.from(JSON.stringify({ ...json, extra: 1 })), 'x'))).toBe('REQUEST_INVALID');
    json.roles[0].plan.threshold = 1;
    expect(code(() => parseRequest(Buffer.from(JSON.stringify(json)), 'x'))).toBe('REQUEST_INVALID');
    expect(code(() => parseRequest(Buffer.from('{"format":"nope"}'), 'x'))).toBe('REQUEST_INVALID');
    expect(code(() => parseRequest(Buffer.from('not json'), 'x'))).toBe('REQUEST_INVALID');
  });

  test('a root with the same public key under two keyids is refused (BAD-22)', () => {
    const s = rotation();
    const json = requestToJSON(s.request) as any;
    const k = s.fresh[0]!;
    const pem = keyFromPublicKeyObject(createPublicKey(k.priv), 'ed25519');
    const alt = {
      keytype: 'ed25519',
      scheme: 'ed25519',
      keyval: { public: createPublicKey(k.priv).export({ format: 'pem', type: 'spki' }).toString() },
    };
    expect(pem.keyid()).toBe(k.keyid);
    const altId = keyFromPublicKeyObject(createPublicKey(k.priv), 'ed25519').keyid();
    json.roles[0].metadata.signed.keys['f'.repeat(64)] = alt;
    expect(altId).toBe(k.keyid);
    expect(code(() => parseRequest(Buffer.from(JSON.stringify(json)), 'x'))).toBe('REQUEST_INVALID');
  });
});

describe('sign', () => {
  test('adds a verified signature and a transcript event', () => {
    const s = rotation();
    const out = addSignatures(
      s.request,
      [{ role: 'root', keyid: s.fresh[0]!.keyid, signature: sigOver(s.fresh[0]!, s.next.signedBytes()) }],
      ctx,
    );
    expect(out.added).toHaveLength(1);
    expect(out.request.transcript).toHaveLength(s.request.transcript.length + 1);
    expect(out.request.transcript.at(-1)!['keyid']).toBe(s.fresh[0]!.keyid);
    expect(out.request.transcript.at(-1)!['device_serial']).toBe('1002');
    // the input is untouched
    expect(s.request.roles[0]!.metadata.signatures.size).toBe(0);
  });

  test('a key not in the plan is refused (BAD-29)', () => {
    const s = rotation();
    const stranger = makeKey('stranger');
    expect(code(() => sign(s.request, stranger))).toBe('SIGNATURE_REFUSED');
    expect(code(() => sign(s.request, s.online))).toBe('SIGNATURE_REFUSED');
  });

  test('a signature over other bytes is refused (BAD-30)', () => {
    const s = rotation();
    const k = s.fresh[0]!;
    expect(
      code(() =>
        addSignatures(
          s.request,
          [{ role: 'root', keyid: k.keyid, signature: sigOver(k, Buffer.from('other bytes')) }],
          ctx,
        ),
      ),
    ).toBe('SIGNATURE_REFUSED');
    // a signature by another key under this keyid
    expect(
      code(() =>
        addSignatures(
          s.request,
          [{ role: 'root', keyid: k.keyid, signature: sigOver(s.fresh[1]!, s.next.signedBytes()) }],
          ctx,
        ),
      ),
    ).toBe('SIGNATURE_REFUSED');
  });

  test('a role not in the request is refused', () => {
    const s = rotation();
    expect(
      code(() =>
        addSignatures(s.request, [{ role: 'targets', keyid: s.online.keyid, signature: new Uint8Array(64) }], ctx),
      ),
    ).toBe('SIGNATURE_REFUSED');
  });

  test('signing twice with the same key adds nothing', () => {
    const s = rotation();
    const once = sign(s.request, s.fresh[0]!);
    const again = addSignatures(
      once,
      [{ role: 'root', keyid: s.fresh[0]!.keyid, signature: sigOver(s.fresh[0]!, s.next.signedBytes()) }],
      ctx,
    );
    expect(again.added).toHaveLength(0);
    expect(again.unchanged).toHaveLength(1);
    expect(serializeRequest(again.request)).toBe(serializeRequest(once));
  });

  test('a batch with one bad signature changes nothing', () => {
    const s = rotation();
    const good = {
      role: 'root' as const,
      keyid: s.fresh[0]!.keyid,
      signature: sigOver(s.fresh[0]!, s.next.signedBytes()),
    };
    const bad = { role: 'root' as const, keyid: s.fresh[1]!.keyid, signature: new Uint8Array(64) };
    expect(code(() => addSignatures(s.request, [good, bad], ctx))).toBe('SIGNATURE_REFUSED');
    expect(s.request.roles[0]!.metadata.signatures.size).toBe(0);
  });

  test('expired metadata is not signed (BAD-16)', () => {
    const s = rotation(2, 1, 1, 2, 2, { expires: days(10) });
    const k = s.fresh[0]!;
    expect(
      code(() =>
        addSignatures(s.request, [{ role: 'root', keyid: k.keyid, signature: sigOver(k, s.next.signedBytes()) }], {
          now: days(11),
          tool: TOOL,
        }),
      ),
    ).toBe('EXPIRY_TOO_SHORT');
  });
});

describe('status', () => {
  test('reports both root thresholds and who is still needed, by owner and serial', () => {
    const s = rotation(2, 2, 1, 2, 2);
    const st = requestStatus(s.request, NOW);
    const root = st.roles[0]!;
    expect(root.sides.map((x) => [x.side, x.threshold, x.missing])).toEqual([
      ['new', 2, 2],
      ['previous', 2, 2],
    ]);
    expect(root.sides[1]!.needed.map((n) => n.owner)).toEqual(['old-0', 'old-1']);
    expect(root.sides[0]!.needed.map((n) => n.serial)).toEqual(['1000', '1002', '1003']);
    expect(st.canFinalize).toBe(false);
    const after = sign(sign(s.request, s.old[0]!), s.fresh[0]!);
    const st2 = requestStatus(after, NOW);
    expect(st2.roles[0]!.sides.map((x) => x.missing)).toEqual([0, 1]);
    expect(signableBy(after, s.old[1]!.keyid)).toEqual([{ role: 'root', stillNeeded: true }]);
    expect(signableBy(after, s.fresh[1]!.keyid)).toEqual([{ role: 'root', stillNeeded: false }]);
    expect(signableBy(after, s.fresh[0]!.keyid)).toEqual([]);
  });

  test('reports a broken chain', () => {
    const s = rotation();
    const json = requestToJSON(sign(s.request, s.old[0]!)) as any;
    json.transcript[1].time = '2020-01-01T00:00:00Z';
    const req = parseRequest(Buffer.from(JSON.stringify(json)), 'x');
    const st = requestStatus(req, NOW);
    expect(st.transcript.ok).toBe(false);
    expect(st.problems[0]!.code).toBe('TRANSCRIPT_BROKEN');
    expect(st.canFinalize).toBe(false);
  });
});

describe('tampering (BAD-64)', () => {
  test('an edited transcript is refused by every transition', () => {
    const s = rotation();
    const json = requestToJSON(sign(s.request, s.old[0]!)) as any;
    json.transcript[1].device_serial = '999';
    const req = parseRequest(Buffer.from(JSON.stringify(json)), 'x');
    expect(code(() => sign(req, s.fresh[0]!))).toBe('TRANSCRIPT_BROKEN');
    expect(code(() => finalizeRequest(req, ctx))).toBe('TRANSCRIPT_BROKEN');
    expect(
      code(() =>
        mergeRequests(
          [
            { request: s.request, label: 'a' },
            { request: req, label: 'b' },
          ],
          ctx,
        ),
      ),
    ).toBe('TRANSCRIPT_BROKEN');
  });

  test('a dropped transcript event is refused', () => {
    const s = rotation();
    const json = requestToJSON(sign(sign(s.request, s.old[0]!), s.fresh[0]!)) as any;
    json.transcript.splice(1, 1);
    const req = parseRequest(Buffer.from(JSON.stringify(json)), 'x');
    expect(code(() => sign(req, s.fresh[1]!))).toBe('TRANSCRIPT_BROKEN');
  });

  test('a signature pasted in by hand (valid, but not in the transcript) is refused', () => {
    const s = rotation();
    const json = requestToJSON(s.request) as any;
    json.roles[0].metadata.signatures.push({
      keyid: s.fresh[0]!.keyid,
      sig: Buffer.from(sigOver(s.fresh[0]!, s.next.signedBytes())).toString('hex'),
    });
    const req = parseRequest(Buffer.from(JSON.stringify(json)), 'x');
    expect(code(() => finalizeRequest(req, ctx))).toBe('TRANSCRIPT_BROKEN');
  });

  test('a signature removed by hand is refused (never silently dropped)', () => {
    const s = rotation();
    const json = requestToJSON(sign(s.request, s.fresh[0]!)) as any;
    json.roles[0].metadata.signatures = [];
    const req = parseRequest(Buffer.from(JSON.stringify(json)), 'x');
    expect(code(() => sign(req, s.fresh[1]!))).toBe('TRANSCRIPT_BROKEN');
  });

  test('a corrupted signature is refused', () => {
    const s = rotation();
    const json = requestToJSON(sign(s.request, s.fresh[0]!)) as any;
    json.roles[0].metadata.signatures[0].sig = '00'.repeat(64);
    const req = parseRequest(Buffer.from(JSON.stringify(json)), 'x');
    expect(code(() => finalizeRequest(req, ctx))).toBe('REQUEST_INVALID');
  });
});

describe('merge', () => {
  test('combines signatures from separately signed copies; merging again adds nothing', () => {
    const s = rotation(2, 1, 1, 2, 2);
    const a = sign(s.request, s.fresh[0]!);
    const b = sign(sign(s.request, s.fresh[1]!), s.old[0]!);
    const m = mergeRequests(
      [
        { request: a, label: 'a' },
        { request: b, label: 'b' },
      ],
      ctx,
    );
    expect(m.added.map((x) => x.keyid).sort()).toEqual([s.fresh[1]!.keyid, s.old[0]!.keyid].sort());
    const merged = roundTrip(m.request);
    expect(requestStatus(merged, NOW).canFinalize).toBe(true);
    expect(merged.transcript.at(-1)!.event).toBe('merged');
    const again = mergeRequests(
      [
        { request: merged, label: 'm' },
        { request: b, label: 'b' },
        { request: a, label: 'a' },
      ],
      ctx,
    );
    expect(again.added).toHaveLength(0);
    expect(serializeRequest(again.request)).toBe(serializeRequest(merged));
    // merging a merged copy back into one of its sources gives the same signatures
    const back = mergeRequests(
      [
        { request: b, label: 'b' },
        { request: merged, label: 'm' },
      ],
      ctx,
    );
    expect(validCount(back.request)).toBe(validCount(merged));
  });

  test('copies with different signed bytes are refused and named', () => {
    const s = rotation();
    const other = createRequest({
      repository: 'demo',
      purpose: 'rotate root keys',
      trustedRoot: s.trusted,
      base: { root: 1 },
      roles: [{ metadata: new Metadata(makeRoot(2, s.fresh, 1, s.online, days(200))) }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });
    try {
      mergeRequests(
        [
          { request: s.request, label: 'a.json' },
          { request: other, label: 'evil.json' },
        ],
        ctx,
      );
      throw new Error('merge should fail');
    } catch (e) {
      expect((e as TufsignError).code).toBe('MERGE_CONFLICT');
      expect((e as TufsignError).file).toBe('evil.json');
    }
  });

  test('copies from another repository or trusted root are refused', () => {
    const s = rotation();
    const foreign = createRequest({
      repository: 'other',
      purpose: 'x',
      trustedRoot: s.trusted,
      base: {},
      roles: [{ metadata: s.next }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });
    expect(
      code(() =>
        mergeRequests(
          [
            { request: s.request, label: 'a' },
            { request: foreign, label: 'b' },
          ],
          ctx,
        ),
      ),
    ).toBe('REQUEST_FOREIGN');
    const t = rotation();
    expect(
      code(() =>
        mergeRequests(
          [
            { request: s.request, label: 'a' },
            { request: t.request, label: 'b' },
          ],
          ctx,
        ),
      ),
    ).toBe('REQUEST_FOREIGN');
    // same content, another ceremony (created at another time)
    const later = createRequest({
      repository: 'demo',
      purpose: 'rotate root keys',
      trustedRoot: s.trusted,
      base: { root: 1, targets: 1, snapshot: 1, timestamp: 1 },
      roles: [{ metadata: s.next }],
      keyholders: keyholders([...s.old, ...s.fresh]),
      now: days(1),
      tool: TOOL,
    });
    expect(
      code(() =>
        mergeRequests(
          [
            { request: s.request, label: 'a' },
            { request: later, label: 'b' },
          ],
          ctx,
        ),
      ),
    ).toBe('REQUEST_FOREIGN');
  });
});

describe('finalize', () => {
  test('refuses below threshold, then succeeds and publishes only counted signatures', () => {
    const s = rotation(1, 1, 0, 3, 2);
    let req = sign(s.request, s.old[0]!);
    expect(code(() => finalizeRequest(req, ctx))).toBe('THRESHOLD_NOT_MET');
    req = sign(req, s.fresh[0]!);
    expect(code(() => finalizeRequest(req, ctx))).toBe('THRESHOLD_NOT_MET');
    req = sign(req, s.fresh[2]!);
    const out = finalizeRequest(req, { ...ctx, minValidity: { root: 7 * DAY } });
    expect(out.metadata).toHaveLength(1);
    expect([...out.metadata[0]!.signatures.keys()].sort()).toEqual(
      [s.old[0]!.keyid, s.fresh[0]!.keyid, s.fresh[2]!.keyid].sort(),
    );
    expect(out.request.transcript.at(-1)!.event).toBe('finalized');
  });

  test('BAD-28: a root meeting only the new threshold names the previous one as missing, and the reverse', () => {
    // old: 2 keys, threshold 2; new: removes one old key, adds two, threshold raised to 3 of 3
    const s = rotation(2, 2, 1, 2, 3);
    const onlyNew = sign(sign(sign(s.request, s.old[0]!), s.fresh[0]!), s.fresh[1]!);
    const e1 = (() => {
      try {
        finalizeRequest(onlyNew, ctx);
      } catch (e) {
        return e as TufsignError;
      }
      throw new Error('expected refusal');
    })();
    expect(e1.code).toBe('THRESHOLD_NOT_MET');
    expect((e1.details!['missing'] as { side: string }[]).map((m) => m.side)).toEqual(['previous']);

    const onlyOld = sign(sign(s.request, s.old[0]!), s.old[1]!);
    const e2 = (() => {
      try {
        finalizeRequest(onlyOld, ctx);
      } catch (e) {
        return e as TufsignError;
      }
      throw new Error('expected refusal');
    })();
    expect(e2.code).toBe('THRESHOLD_NOT_MET');
    expect((e2.details!['missing'] as { side: string }[]).map((m) => m.side)).toEqual(['new']);

    const both = sign(sign(onlyNew, s.old[1]!), s.fresh[1]!);
    expect(finalizeRequest(both, ctx).metadata[0]!.signatures.size).toBe(4);
  });

  test('refuses expired metadata always, and short validity unless allowed', () => {
    const s = rotation(1, 1, 1, 0, 1, { expires: days(3) });
    const req = sign(s.request, s.old[0]!);
    expect(code(() => finalizeRequest(req, { ...ctx, minValidity: { root: 7 * DAY } }))).toBe('EXPIRY_TOO_SHORT');
    expect(
      finalizeRequest(req, { ...ctx, minValidity: { root: 7 * DAY }, allowShortExpiry: true }).metadata,
    ).toHaveLength(1);
    expect(code(() => finalizeRequest(req, { now: days(4), tool: TOOL, allowShortExpiry: true }))).toBe(
      'EXPIRY_TOO_SHORT',
    );
  });

  test('a root v1 for a new repository needs only its own threshold', () => {
    const keys = [makeKey('a'), makeKey('b')];
    const online = makeKey('online');
    const root = new Metadata(makeRoot(1, keys, 2, online));
    const targets = new Metadata(new Targets(1, days(90)));
    let req = createRequest({
      repository: 'demo',
      purpose: 'init',
      base: {},
      roles: [{ metadata: targets }, { metadata: root }],
      keyholders: keyholders(keys),
      now: NOW,
      tool: TOOL,
    });
    expect(req.roles.map((r) => r.role)).toEqual(['root', 'targets']);
    req = sign(sign(req, keys[0]!), keys[1]!);
    expect(code(() => finalizeRequest(req, ctx))).toBe('THRESHOLD_NOT_MET');
    req = addSignatures(
      req,
      [{ role: 'targets', keyid: online.keyid, signature: sigOver(online, targets.signedBytes()) }],
      ctx,
    ).request;
    expect(finalizeRequest(req, ctx).metadata.map((m) => m.signed.type)).toEqual(['root', 'targets']);
  });

  test('targets may not go back in version', () => {
    const online = makeKey('online');
    const k = makeKey('root');
    const trusted = signMd(new Metadata(makeRoot(1, [k], 1, online)), k) as Metadata<any>;
    const old = new Metadata(targetsWith(5, {}));
    expect(
      code(() =>
        createRequest({
          repository: 'r',
          purpose: 'p',
          trustedRoot: trusted,
          base: {},
          roles: [{ metadata: new Metadata(targetsWith(5, {})), trusted: old }],
          keyholders: new Map(),
          now: NOW,
          tool: TOOL,
        }),
      ),
    ).toBe('VERSION_INVALID');
  });
});

describe('diff', () => {
  test('root: keys added and removed, threshold changes', () => {
    const s = rotation(2, 1, 1, 2, 2);
    const [d] = diffRequest(s.request);
    expect(d!.versionFrom).toBe(1);
    expect(d!.versionTo).toBe(2);
    expect(d!.keysAdded!.map((k) => k.owner).sort()).toEqual(['new-0', 'new-1']);
    expect(d!.keysRemoved!.map((k) => k.owner)).toEqual(['old-1']);
    expect(d!.roleChanges).toEqual([
      {
        role: 'root',
        thresholdFrom: 1,
        thresholdTo: 2,
        keysAdded: [s.fresh[0]!.keyid, s.fresh[1]!.keyid],
        keysRemoved: [s.old[1]!.keyid],
      },
    ]);
  });

  test('targets: added, changed and removed with sizes and hashes', () => {
    const online = makeKey('online');
    const k = makeKey('root');
    const trusted = signMd(new Metadata(makeRoot(1, [k], 1, online)), k) as Metadata<any>;
    const before = new Metadata(targetsWith(1, { 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' }));
    const after = new Metadata(targetsWith(2, { 'a.txt': 'a', 'b.txt': 'bb', 'd.txt': 'dddd' }));
    const req = createRequest({
      repository: 'r',
      purpose: 'p',
      trustedRoot: trusted,
      base: {},
      roles: [{ metadata: after, trusted: before }],
      keyholders: new Map(),
      now: NOW,
      tool: TOOL,
    });
    const [d] = diffRequest(req);
    expect(d!.targetsAdded!.map((t) => [t.path, t.length])).toEqual([['d.txt', 4]]);
    expect(d!.targetsChanged!.map((t) => [t.path, t.from.length, t.to.length])).toEqual([['b.txt', 1, 2]]);
    expect(d!.targetsRemoved!.map((t) => t.path)).toEqual(['c.txt']);
    expect(d!.targetsAdded![0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
