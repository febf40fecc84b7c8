/** Shared bits for the YubiKey tests: a secrets handler that records what it was asked, and an in-memory device source. */
import { TufsignError, isTufsignError } from '../../src/errors';
import type { SecretRequest, SecretsHandler } from '../../src/keystore/signer';
import type { DeviceSource } from '../../src/keystore/yubikey';
import type { PivCard } from '../fixtures/piv/piv-card';

export interface RecordingSecrets extends SecretsHandler {
  asked: SecretRequest[];
  notes: string[];
}

/** Answers PIN requests from `pins` in order (never more than given) and management-key requests with `mgmt`. */
export function recordingSecrets(pins: string[] = [], mgmt?: string): RecordingSecrets {
  const queue = [...pins];
  const asked: SecretRequest[] = [];
  const notes: string[] = [];
  return {
    asked,
    notes,
    getSecret(r: SecretRequest): Promise<Buffer> {
      asked.push(r);
      if (r.kind === 'pin') {
        const p = queue.shift();
        if (p !== undefined) return Promise.resolve(Buffer.from(p));
      }
      if (r.kind === 'management-key' && mgmt !== undefined) return Promise.resolve(Buffer.from(mgmt));
      return Promise.reject(new TufsignError('SECRET_REQUIRED', `test has no ${r.kind} for ${r.label}`));
    },
    notify(m: string): void {
      notes.push(m);
    },
  };
}

/** The emulator straight through CardTransport, no pcscd: each connection is a fresh card session. */
export function memorySource(cards: PivCard[]): () => DeviceSource {
  return () => ({
    cards: () =>
      Promise.resolve(
        cards.map((card, i) => {
          card.resetSession();
          return { label: `memory ${i}`, transport: card, release: () => Promise.resolve(card.resetSession()) };
        }),
      ),
    close: () => Promise.resolve(),
  });
}

export async function errorCode(p: Promise<unknown> | (() => Promise<unknown>)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'OK';
  } catch (e) {
    if (isTufsignError(e)) return e.code;
    throw e;
  }
}

export async function caught(p: Promise<unknown>): Promise<TufsignError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TufsignError) return e;
    throw e;
  }
  throw new Error('expected a TufsignError');
}
