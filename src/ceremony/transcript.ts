/**
 * The ceremony transcript: an append-only, hash-chained list of events
 * (created, signed, merged, finalized). Each event carries the hash of the
 * one before it, and its own hash is sha256 over its canonical JSON without
 * the `hash` field, so editing, dropping or reordering any event breaks the
 * chain. Never holds a secret: only keyids, digests, serials and times.
 * Events written by the standalone executable also carry
 * `executable_sha256`, the hash of the binary that wrote them (ADR 0012).
 */
import { TufsignError } from '../errors';
import { sha256Hex } from '../io/hash';
import { canonicalize } from '../tuf/canonical-json';
import { newObject, type JsonObject, type JsonValue } from '../tuf/json';
import { formatExpires } from '../tuf/time';

export const GENESIS_HASH = '0'.repeat(64);

/** The sha256 of the executable writing events in this process: set once by the standalone entry (ADR 0012). */
let writerDigest: (() => string) | undefined;
export function setExecutableDigest(digest: (() => string) | undefined): void {
  writerDigest = digest;
}
export const EVENT_TYPES = ['created', 'signed', 'merged', 'finalized'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One event as stored; `hash` covers every other field. */
export type TranscriptEvent = JsonObject & {
  seq: number;
  event: EventType;
  time: string;
  tool: string;
  prev: string;
  hash: string;
};

export interface TranscriptCheck {
  ok: boolean;
  events: number;
  /** hash of the last event (the head), when the chain holds */
  head?: string;
  /** first problem found, in words */
  problem?: string;
  /** index of the first bad event */
  at?: number;
}

export function eventHash(event: JsonObject): string {
  const copy = newObject();
  for (const [k, v] of Object.entries(event)) if (k !== 'hash') copy[k] = v;
  return sha256Hex(canonicalize(copy));
}

/** Append an event (fields without seq/prev/hash/time/tool) and return the new list; the input is not changed. */
export function appendEvent(
  events: readonly TranscriptEvent[],
  type: EventType,
  fields: JsonObject,
  now: Date,
  tool: string,
): TranscriptEvent[] {
  const last = events[events.length - 1];
  const e = newObject();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) e[k] = v;
  e['seq'] = events.length;
  e['event'] = type;
  e['time'] = formatExpires(now);
  e['tool'] = tool;
  if (writerDigest !== undefined) e['executable_sha256'] = writerDigest();
  e['prev'] = last === undefined ? GENESIS_HASH : last.hash;
  e['hash'] = eventHash(e);
  return [...events, e as TranscriptEvent];
}

/** Read stored events; shape errors are REQUEST_INVALID (the chain itself is judged by `checkChain`). */
export function readEvents(value: JsonValue | undefined, file?: string): TranscriptEvent[] {
  if (!Array.isArray(value))
    throw new TufsignError('REQUEST_INVALID', 'transcript must be a list of events', {
      file,
      path: '$.transcript',
      rule: 'DESIGN §5 transcript',
    });
  return value.map((v, i) => {
    const path = `$.transcript[${i}]`;
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new TufsignError('REQUEST_INVALID', 'transcript event must be an object', { file, path });
    const o = v;
    const str = (k: string): void => {
      if (typeof o[k] !== 'string')
        throw new TufsignError('REQUEST_INVALID', `transcript event needs a string "${k}"`, {
          file,
          path: `${path}.${k}`,
        });
    };
    ['event', 'time', 'tool', 'prev', 'hash'].forEach(str);
    if (
      o['executable_sha256'] !== undefined &&
      (typeof o['executable_sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(o['executable_sha256']))
    ) {
      throw new TufsignError(
        'REQUEST_INVALID',
        'transcript event "executable_sha256" must be 64 lowercase hex digits',
        { file, path: `${path}.executable_sha256` },
      );
    }
    if (typeof o['seq'] !== 'number' || !Number.isSafeInteger(o['seq']))
      throw new TufsignError('REQUEST_INVALID', 'transcript event needs an integer "seq"', {
        file,
        path: `${path}.seq`,
      });
    if (!(EVENT_TYPES as readonly string[]).includes(o['event'] as string)) {
      throw new TufsignError('REQUEST_INVALID', `unknown transcript event ${JSON.stringify(o['event'] ?? null)}`, {
        file,
        path: `${path}.event`,
        rule: EVENT_TYPES.join(', '),
      });
    }
    return o as TranscriptEvent;
  });
}

/** Check the chain: sequence numbers, each event's own hash, and each link to the previous event. */
export function checkChain(events: readonly TranscriptEvent[]): TranscriptCheck {
  if (events.length === 0) return { ok: false, events: 0, problem: 'the transcript is empty', at: 0 };
  if (events[0]?.event !== 'created')
    return { ok: false, events: events.length, problem: 'the transcript does not start with a "created" event', at: 0 };
  let prev = GENESIS_HASH;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e === undefined) break;
    if (e.seq !== i)
      return { ok: false, events: events.length, problem: `event ${i} has sequence number ${e.seq}`, at: i };
    if (e.prev !== prev)
      return {
        ok: false,
        events: events.length,
        problem: `event ${i} (${e.event}) does not link to the event before it`,
        at: i,
      };
    if (eventHash(e) !== e.hash)
      return {
        ok: false,
        events: events.length,
        problem: `event ${i} (${e.event}) was changed after it was written (hash mismatch)`,
        at: i,
      };
    prev = e.hash;
  }
  return { ok: true, events: events.length, head: prev };
}

export function requireChain(events: readonly TranscriptEvent[], file?: string): void {
  const c = checkChain(events);
  if (!c.ok) {
    throw new TufsignError('TRANSCRIPT_BROKEN', `the ceremony transcript is broken: ${c.problem ?? 'unknown'}`, {
      file,
      path: `$.transcript[${c.at ?? 0}]`,
      rule: 'BAD-64 hash-chained transcript, never edited by hand',
      suggestion:
        "Use an unedited copy of the request (e.g. the one on the organizer machine or another keyholder's stick).",
    });
  }
}

/**
 * Append an event copied from another copy of the same ceremony (merge): its
 * fields, time and tool are kept, it gets a new place in this chain, and
 * `origin_hash` names the event it came from so a later merge skips it.
 */
export function appendCopied(events: readonly TranscriptEvent[], original: TranscriptEvent): TranscriptEvent[] {
  const last = events[events.length - 1];
  const e = newObject();
  for (const [k, v] of Object.entries(original)) if (!['seq', 'prev', 'hash'].includes(k)) e[k] = v;
  e['origin_hash'] = typeof original['origin_hash'] === 'string' ? original['origin_hash'] : original.hash;
  e['seq'] = events.length;
  e['prev'] = last === undefined ? GENESIS_HASH : last.hash;
  e['hash'] = eventHash(e);
  return [...events, e as TranscriptEvent];
}

/** Every hash an event is known by in this chain (its own, and where it was copied from). */
export function knownHashes(events: readonly TranscriptEvent[]): Set<string> {
  const s = new Set<string>();
  for (const e of events) {
    s.add(e.hash);
    if (typeof e['origin_hash'] === 'string') s.add(e['origin_hash']);
  }
  return s;
}
