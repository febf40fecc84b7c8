import fc from 'fast-check';
import { addSignatures, finalizeRequest, mergeRequests, requestStatus, type SigningRequest } from '../../src/ceremony';
import { TufsignError } from '../../src/errors';
import { makeKey, NOW, rotation, sigOver, TOOL } from './fixtures';

const ctx = { now: NOW, tool: TOOL };
const scenario = rotation(3, 2, 1, 3, 2);
const stranger = makeKey('stranger');
const signers = [...scenario.old, ...scenario.fresh, stranger, scenario.online];

function valid(req: SigningRequest): number {
  return requestStatus(req, NOW).roles.reduce((n, r) => n + r.sides.reduce((m, s) => m + s.signed.length, 0), 0);
}

function thresholdsMet(req: SigningRequest): boolean {
  return requestStatus(req, NOW).roles.every((r) => r.sides.every((s) => s.verified));
}

type Action = { kind: 'sign'; signer: number; corrupt: boolean } | { kind: 'merge'; other: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('sign' as const), signer: fc.nat(signers.length - 1), corrupt: fc.boolean() }),
  fc.record({ kind: fc.constant('merge' as const), other: fc.nat(20) }),
);

describe('ceremony properties', () => {
  test('no transition lowers the number of valid signatures, and finalize succeeds exactly when every threshold is met', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 12 }), (actions) => {
        const copies: SigningRequest[] = [scenario.request];
        let current = scenario.request;
        for (const a of actions) {
          const before = valid(current);
          let next = current;
          try {
            if (a.kind === 'sign') {
              const k = signers[a.signer]!;
              const data = current.roles[0]!.metadata.signedBytes();
              const signature = a.corrupt
                ? sigOver(k, Buffer.concat([Buffer.from(data), Buffer.from('x')]))
                : sigOver(k, data);
              next = addSignatures(current, [{ role: 'root', keyid: k.keyid, signature }], ctx).request;
            } else {
              const other = copies[a.other % copies.length]!;
              next = mergeRequests(
                [
                  { request: current, label: 'a' },
                  { request: other, label: 'b' },
                ],
                ctx,
              ).request;
            }
          } catch (e) {
            expect(e).toBeInstanceOf(TufsignError);
            expect(['SIGNATURE_REFUSED']).toContain((e as TufsignError).code);
          }
          expect(valid(next)).toBeGreaterThanOrEqual(before);
          copies.push(next);
          // every copy fork may continue: sometimes restart from an older copy (a keyholder with an old stick)
          current = a.kind === 'sign' && a.signer % 3 === 0 ? (copies[a.signer % copies.length] ?? next) : next;
        }
        for (const c of copies) {
          let finalized = true;
          try {
            finalizeRequest(c, ctx);
          } catch (e) {
            expect((e as TufsignError).code).toBe('THRESHOLD_NOT_MET');
            finalized = false;
          }
          expect(finalized).toBe(thresholdsMet(c));
        }
      }),
      { numRuns: 60 },
    );
  });
});
