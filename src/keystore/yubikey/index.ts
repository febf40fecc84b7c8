/**
 * `yubikey:serial=N;slot=9c` keys: PIV over PC/SC, on-device generation with
 * PIN/touch policy, attestation, serial targeting, and PIN safety (the right
 * device and key are checked before a PIN is asked; a PIN is never retried).
 */
import { TufsignError } from '../../errors';
import { removeAtomicWriteLeftovers, removeFileQuietly } from '../../io/fs';
import { newObject, type JsonObject } from '../../tuf/json';
import type { Key } from '../../tuf/key';
import type { DeviceReport, GeneratedKey, GenerateRequest, OpenOptions, ReadableKeyBackend } from '../backend';
import type { YubiKeyRef } from '../key-ref';
import type { Signer, SignatureBytes } from '../signer';
import { clockFromEnv } from '../../io/clock';
import { attestationToJson, type CertInput } from './attestation';
import { policyViolations, type AttestationTrust } from './claims';
import { deviceInfoJson, tufKeyFor, YubiKeyDevice, YubiKeySigner, type SlotKey } from './device';
import { PCSC_HELP, PcscContext, type PcscTransport } from './pcsc';
import { algForScheme } from './keys';
import { parseSlot, slotName, type CardTransport } from './piv';
import { journalPath, readJournal, writeJournal, type GenerationJournal } from './journal';
import { yubiKeyUri } from './uri';
import { trustedAttestationRoots } from './roots';
import { YUBICO_PIV_INTERMEDIATES } from './yubico-ca';

export { verifyAttestation, type AttestationFacts } from './attestation';
export { trustedAttestationRoots } from './roots';
export {
  verifyPublicKeyFileAttestation,
  checkKeyPolicy,
  assertKeyPolicy,
  ROOT_KEY_POLICY,
  type KeyPolicy,
} from './claims';
export { ED25519_MAX_MESSAGE, YubiKeyDevice } from './device';
export { PivSession, type CardTransport } from './piv';
export { parseYubiKeyUri, yubiKeyUri, type YubiKeyUri } from './uri';

/** A card found by a DeviceSource; `release` ends the exclusive connection. */
export interface FoundCard {
  label: string;
  transport: CardTransport;
  release(): Promise<void>;
}

/** Where YubiKeys come from: PC/SC in production, emulators in tests. */
export interface DeviceSource {
  /** Cards present now. Throws NO_READER / PCSCD_NOT_RUNNING with instructions. */
  cards(): Promise<FoundCard[]>;
  close(): Promise<void>;
}

export function pcscSource(): DeviceSource {
  const ctx = PcscContext.open();
  const held: PcscTransport[] = [];
  return {
    async cards() {
      const readers = await ctx.list();
      if (readers.length === 0) {
        throw new TufsignError('NO_READER', 'no smart-card reader or YubiKey is connected', {
          suggestion: PCSC_HELP.reader,
        });
      }
      const out: FoundCard[] = [];
      for (const r of readers.filter((x) => x.present)) {
        try {
          const t = await ctx.connect(r);
          held.push(t);
          out.push({ label: r.name, transport: t, release: () => t.disconnect() });
        } catch (e) {
          // A reader in use by another program is reported, not fatal, unless it is the only one.
          if (readers.length === 1) throw e;
        }
      }
      return out;
    },
    async close() {
      for (const t of held) await t.disconnect();
      ctx.close();
    },
  };
}

export interface YubiKeyBackendOptions {
  source?: () => DeviceSource;
  /** extra trusted attestation roots (tests); Yubico's roots are always trusted */
  attestationRoots?: readonly CertInput[];
}

function trustFor(options: YubiKeyBackendOptions, o: OpenOptions): AttestationTrust {
  return {
    roots: rootsFor(options, o),
    intermediates: YUBICO_PIV_INTERMEDIATES,
    now: o.now ?? clockFromEnv(o.env).now(),
  };
}

interface Opened {
  device: YubiKeyDevice;
  source: DeviceSource;
}

function rootsFor(options: YubiKeyBackendOptions, o: Pick<OpenOptions, 'env' | 'attestationRoots'>): CertInput[] {
  return trustedAttestationRoots(o, options.attestationRoots);
}

/**
 * Open the YubiKey with `serial` (or the only one, or the one whose slot holds
 * `expectedKey`). Never guesses between several devices. All other cards are
 * released before returning.
 */
async function openDevice(
  makeSource: () => DeviceSource,
  want: { serial?: number | undefined; slot?: number; expectedKey?: Key | undefined },
): Promise<Opened> {
  const source = makeSource();
  try {
    const cards = await source.cards();
    const devices: { device: YubiKeyDevice; card: FoundCard }[] = [];
    for (const card of cards) {
      try {
        devices.push({ device: await YubiKeyDevice.open(card.transport, card.label), card });
      } catch (e) {
        await card.release();
        if (!(e instanceof TufsignError) || e.code !== 'TOKEN_NOT_PRESENT') throw e;
      }
    }
    const serials = devices.map((d) => d.device.serial);
    let chosen: (typeof devices)[number] | undefined;
    if (want.serial !== undefined) {
      chosen = devices.find((d) => d.device.serial === want.serial);
      if (chosen === undefined) {
        const code = devices.length === 0 ? 'TOKEN_NOT_PRESENT' : 'WRONG_DEVICE';
        throw new TufsignError(
          code,
          devices.length === 0
            ? `YubiKey ${want.serial} is not inserted (no YubiKey found)`
            : `this needs YubiKey ${want.serial}; found ${serials.map((s) => `YubiKey ${s}`).join(', ')}`,
          {
            rule: 'BAD-57 sign only with the expected device',
            details: { needed: want.serial, found: serials },
            suggestion: `Insert YubiKey with serial ${want.serial} (printed on the key; \`tufsign devices\` lists what is connected).`,
          },
        );
      }
    } else if (devices.length === 1) {
      chosen = devices[0];
    } else if (devices.length === 0) {
      throw new TufsignError('TOKEN_NOT_PRESENT', 'no YubiKey found', { suggestion: PCSC_HELP.reader });
    } else if (want.expectedKey !== undefined && want.slot !== undefined) {
      const matches: typeof devices = [];
      for (const d of devices) {
        const k = await d.device.readSlot(want.slot);
        if (k !== undefined && sameKey(k, want.expectedKey)) matches.push(d);
      }
      if (matches.length === 1) chosen = matches[0];
    }
    if (chosen === undefined) {
      throw new TufsignError(
        'TOKEN_AMBIGUOUS',
        `${devices.length} YubiKeys are connected (${serials.join(', ')}); say which one with serial=N`,
        {
          rule: 'BAD-56 never guess between devices',
          details: { found: serials },
          suggestion: `Use a URI like yubikey:serial=${serials[0] ?? 'N'};slot=9c, or unplug the other YubiKeys.`,
        },
      );
    }
    for (const d of devices) if (d !== chosen) await d.card.release();
    return { device: chosen.device, source };
  } catch (e) {
    await source.close();
    throw e;
  }
}

/**
 * One exclusive PC/SC connection per card and process, shared (by serial) by the signers and key reads of that
 * card: a keyholder with root in 9c and targets in 9d signs both in one run, where a second connection found the
 * card held by the first and failed with WRONG_DEVICE. The connection was opened for that serial; each user still
 * reads its own slot and checks the key there, and each signature is verified by the caller before it is kept.
 * The card is let go when its last user closes. Kept per backend (the CLI has one per process).
 */
type SharedCards = Map<number, { opened: Opened; users: number }>;

async function openSharedDevice(
  sharedCards: SharedCards,
  makeSource: () => DeviceSource,
  want: { serial?: number | undefined; slot?: number; expectedKey?: Key | undefined },
): Promise<Opened> {
  let entry = want.serial === undefined ? undefined : sharedCards.get(want.serial);
  if (entry === undefined) {
    const opened = await openDevice(makeSource, want);
    // a URI without a serial found a card some user already holds the same way (not on PC/SC): keep it apart
    if (sharedCards.has(opened.device.serial)) return opened;
    entry = { opened, users: 0 };
    sharedCards.set(opened.device.serial, entry);
  }
  const shared = entry;
  shared.users += 1;
  let closed = false;
  return {
    device: shared.opened.device,
    source: {
      cards: () => shared.opened.source.cards(),
      async close() {
        if (closed) return;
        closed = true;
        shared.users -= 1;
        if (shared.users > 0) return;
        sharedCards.delete(shared.opened.device.serial);
        await shared.opened.source.close();
      },
    },
  };
}

function sameKey(k: SlotKey, expected: Key): boolean {
  try {
    return k.publicKey
      .export({ format: 'der', type: 'spki' })
      .equals(expected.keyObject().export({ format: 'der', type: 'spki' }));
  } catch {
    return false;
  }
}

async function readExpectedSlot(
  device: YubiKeyDevice,
  slot: number,
  expectedKey: Key | undefined,
  uri: string,
): Promise<{ key: SlotKey; publicKey: Key }> {
  const key = await device.readSlot(slot);
  if (key === undefined) {
    throw new TufsignError('KEY_NOT_FOUND', `${device.name} has no key in slot ${slotName(slot)}`, {
      rule: 'BAD-56 missing key',
      details: { serial: device.serial, slot: slotName(slot) },
      suggestion: 'Check the slot in the key URI, or generate a key with `tufsign key generate --backend yubikey`.',
    });
  }
  if (expectedKey !== undefined && !sameKey(key, expectedKey)) {
    throw new TufsignError(
      'KEY_MISMATCH',
      `${device.name} slot ${slotName(slot)} holds a different key than the role expects (keyid ${expectedKey.keyid().slice(0, 16)}…); no PIN was asked`,
      {
        file: undefined,
        rule: 'BAD-57 check the key before asking for the PIN',
        details: { serial: device.serial, slot: slotName(slot), uri },
        suggestion: "Insert the YubiKey that holds this role's key, or fix the key URI.",
      },
    );
  }
  const publicKey = expectedKey ?? tufKeyFor(key);
  return { key, publicKey };
}

/**
 * A signer that holds the card only while it works: it reconnects (and
 * re-checks serial and key) on each signature and lets go after a short idle
 * time, so a forgotten close() never pins the process or the card.
 */
class ReconnectingSigner implements Signer {
  private current: { opened: Opened; signer: YubiKeySigner } | undefined;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    readonly uri: string,
    readonly publicKey: Key,
    private readonly connectFn: () => Promise<{ opened: Opened; signer: YubiKeySigner }>,
    first: { opened: Opened; signer: YubiKeySigner },
  ) {
    this.current = first;
    this.armIdle();
  }

  private armIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.release(), 1500);
    this.idle.unref();
  }

  private async release(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    clearTimeout(this.idle);
    if (c !== undefined) await c.opened.source.close();
  }

  async sign(data: Uint8Array): Promise<SignatureBytes> {
    clearTimeout(this.idle);
    this.current ??= await this.connectFn();
    try {
      return await this.current.signer.sign(data);
    } catch (e) {
      // After a failure the card state is unknown (removed, PIN state): start fresh next time.
      await this.release();
      throw e;
    } finally {
      if (this.current !== undefined) this.armIdle();
    }
  }

  async close(): Promise<void> {
    await this.release();
  }
}

function slotInUse(
  device: YubiKeyDevice,
  slot: number,
  why?: string,
  at: { file?: string | undefined; path?: string } = {},
): TufsignError {
  return new TufsignError(
    'SLOT_IN_USE',
    `${device.name} already holds a key in slot ${slotName(slot)}${why === undefined ? '' : ` (${why})`}; tufsign never overwrites a key`,
    {
      file: at.file,
      path: at.path,
      rule: 'a key generate re-run finishes only the key its own journal recorded (ADR 0007)',
      details: { serial: device.serial, slot: slotName(slot) },
      suggestion:
        "Choose another slot (--slot); to use the key that is there, `tufsign key export 'yubikey:serial=N;slot=S' --out FILE`; to reuse the slot, delete its key deliberately with `ykman piv keys delete` first.",
    },
  );
}

function spkiBase64(key: SlotKey): string {
  return key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
}

/** What a generate request asks of the device, with the policies the request leaves to the device made explicit. */
function intentFor(serial: number, slot: number, request: GenerateRequest, started: string): GenerationJournal {
  return {
    serial,
    slot: slotName(slot),
    scheme: request.scheme,
    pinPolicy: request.pinPolicy ?? 'default',
    touchPolicy: request.touchPolicy ?? 'default',
    started,
  };
}

/** The PIV defaults a YubiKey applies when GENERATE leaves a policy out (9c: PIN always; 9e: never; else once). */
function effectivePolicies(j: GenerationJournal, slot: number): { pin: string; touch: string } {
  const pin = j.pinPolicy !== 'default' ? j.pinPolicy : slot === 0x9c ? 'always' : slot === 0x9e ? 'never' : 'once';
  return { pin, touch: j.touchPolicy !== 'default' ? j.touchPolicy : 'never' };
}

async function slotIsEmpty(device: YubiKeyDevice, slot: number): Promise<boolean> {
  try {
    return (await device.readSlot(slot)) === undefined;
  } catch {
    return false;
  }
}

export function createYubiKeyBackend(options: YubiKeyBackendOptions = {}): ReadableKeyBackend<YubiKeyRef> {
  /**
   * A key the journal says GENERATE was sent for, but whose answer was never recorded: it must have been made on
   * the device (not imported), with the algorithm and the PIN and touch policies asked — read from the slot's
   * metadata (firmware 5.3+) or its attestation (4.3+). Older devices cannot tell, so the slot is refused.
   */
  async function assertMadeAsAsked(
    device: YubiKeyDevice,
    slot: number,
    key: SlotKey,
    asked: GenerationJournal,
    o: OpenOptions,
    path: string | undefined,
  ): Promise<void> {
    const refuse = (why: string): TufsignError => slotInUse(device, slot, why, { file: path });
    if (key.alg !== algForScheme(asked.scheme, device.version)) throw refuse(`it is not a ${asked.scheme} key`);
    let facts: { origin?: string | undefined; pin?: string | undefined; touch?: string | undefined };
    if (key.metadata !== undefined) {
      facts = { origin: key.metadata.origin, pin: key.metadata.pinPolicy, touch: key.metadata.touchPolicy };
    } else if (device.version.atLeast(4, 3)) {
      // an attestation certificate exists only for keys the device generated
      const a = await device.attest(slot, key.publicKey, trustFor(options, o));
      facts = { origin: 'generated', pin: a.pinPolicy, touch: a.touchPolicy };
    } else {
      throw refuse(`firmware ${device.version.toString()} cannot show how the key was made`);
    }
    const want = effectivePolicies(asked, slot);
    if (facts.origin !== 'generated') throw refuse('the key was imported, not generated on the device');
    if (facts.pin !== want.pin || facts.touch !== want.touch)
      throw refuse(
        `its PIN/touch policies are ${facts.pin ?? '?'}/${facts.touch ?? '?'}, not ${want.pin}/${want.touch}`,
      );
  }

  /** The URI, TUF key and (firmware 4.3+) verified attestation of the key in a slot: what `key generate` reports. */
  async function slotResult(
    device: YubiKeyDevice,
    slot: number,
    key: SlotKey,
    request: GenerateRequest,
    o: OpenOptions,
  ): Promise<GeneratedKey> {
    const publicKey = tufKeyFor(key);
    if (publicKey.scheme !== request.scheme) throw slotInUse(device, slot, `it holds a ${publicKey.scheme} key`);
    const result: GeneratedKey = { uri: yubiKeyUri(device.serial, slot), publicKey };
    if (device.version.atLeast(4, 3)) {
      const facts = await device.attest(slot, key.publicKey, trustFor(options, o));
      result.attestation = attestationToJson(facts);
    }
    return result;
  }

  /** Attestation enforced at signing: the slot attests now, for this key, on this device, and still meets the policy. */
  async function reattest(
    device: YubiKeyDevice,
    slot: number,
    key: SlotKey,
    uri: string,
    o: OpenOptions,
    required: NonNullable<OpenOptions['attestationPolicy']>,
  ): Promise<void> {
    const refuse = (why: string, cause?: TufsignError): TufsignError =>
      new TufsignError(
        cause?.code === 'ATTESTATION_UNTRUSTED' || cause?.code === 'ATTESTATION_EXPIRED'
          ? cause.code
          : 'POLICY_VIOLATION',
        `${device.name} slot ${slotName(slot)} no longer meets the root-key policy: ${why}; no PIN was asked`,
        {
          rule: 'BAD-58 root keys are attested at every signing (ADR 0004)',
          details: { serial: device.serial, slot: slotName(slot), uri },
          suggestion:
            'Sign with the YubiKey that holds the attested key; a key that was replaced or imported must be rotated out (`tufsign root rotate`).',
          cause,
        },
      );
    let facts;
    try {
      facts = await device.attest(slot, key.publicKey, trustFor(options, o));
    } catch (e) {
      if (e instanceof TufsignError && e.code.startsWith('ATTESTATION_')) throw refuse(e.message, e);
      if (e instanceof TufsignError && e.code === 'FIRMWARE_UNSUPPORTED') throw refuse(e.message, e);
      throw e;
    }
    if (required.attestedSerial !== undefined && facts.serial !== required.attestedSerial)
      throw refuse(`it attests serial ${facts.serial}, the key was enrolled from YubiKey ${required.attestedSerial}`);
    const violations = policyViolations(facts, required.policy);
    if (violations.length > 0) throw refuse(violations.join('; '));
  }

  const makeSource = options.source ?? pcscSource;
  const sharedCards: SharedCards = new Map();

  /**
   * Connect for signing. Everything here costs no PIN try and no touch: the device is present with the right
   * serial, its slot holds the expected key, PIN tries are left, and (under a root-key policy) the slot
   * re-attests. The PIN is asked only when `sign` runs.
   */
  async function connectSigner(
    ref: YubiKeyRef,
    o: OpenOptions,
    expectedKey: Key | undefined,
  ): Promise<{ opened: Opened; signer: YubiKeySigner }> {
    const { uri, serial, slot } = ref;
    const opened = await openSharedDevice(sharedCards, makeSource, { serial, slot, expectedKey });
    try {
      const { device } = opened;
      const { key, publicKey } = await readExpectedSlot(device, slot, expectedKey, uri);
      if (key.metadata?.pinPolicy !== 'never' && (await device.session.pinRetries()) === 0) {
        throw new TufsignError('PIN_LOCKED', `the PIN of ${device.name} is blocked; nothing was signed`, {
          rule: 'BAD-54 check every device before the first PIN',
          details: { serial: device.serial, retriesLeft: 0 },
          suggestion: 'Unblock it with the PUK (`ykman piv access unblock-pin`) before the signing run.',
        });
      }
      if (o.attestationPolicy !== undefined) await reattest(device, slot, key, uri, o, o.attestationPolicy);
      return {
        opened,
        signer: new YubiKeySigner({ uri, device, slot, key, publicKey, secrets: o.secrets }),
      };
    } catch (e) {
      await opened.source.close();
      throw e;
    }
  }

  return {
    async open(ref: YubiKeyRef, o: OpenOptions): Promise<Signer> {
      const first = await connectSigner(ref, o, o.expectedKey);
      const publicKey = first.signer.publicKey;
      return new ReconnectingSigner(ref.uri, publicKey, () => connectSigner(ref, o, publicKey), first);
    },

    async resumeGenerate(request: GenerateRequest, o: OpenOptions): Promise<GeneratedKey | undefined> {
      const slot = parseSlot(request.slot ?? '9c');
      const opened = await openDevice(makeSource, { serial: request.serial });
      const { device } = opened;
      try {
        const existing = await device.readSlot(slot);
        if (existing === undefined) return undefined;
        const path =
          request.journalDir === undefined ? undefined : journalPath(request.journalDir, device.serial, slot);
        // a kill during the journal's atomic write leaves its temp file (the caller holds the generation lock)
        if (path !== undefined) removeAtomicWriteLeftovers(path);
        const read = path === undefined ? ({ kind: 'none' } as const) : readJournal(path);
        const found = (): Promise<GeneratedKey> => slotResult(device, slot, existing, request, o);
        if (read.kind === 'none') {
          // A run that finished: its public key file already holds this slot's key. Nothing to make or claim.
          if (request.recordedKey !== undefined && sameKey(existing, request.recordedKey))
            return { ...(await found()), resumed: true };
          throw slotInUse(device, slot);
        }
        if (read.kind === 'invalid')
          throw slotInUse(device, slot, `the journal there is not one tufsign wrote (${read.why})`, {
            file: path,
            path: read.path,
          });
        const j = read.journal;
        const asked = intentFor(device.serial, slot, request, j.started);
        if (j.scheme !== asked.scheme || j.pinPolicy !== asked.pinPolicy || j.touchPolicy !== asked.touchPolicy)
          throw slotInUse(
            device,
            slot,
            `an interrupted \`key generate\` asked for ${j.scheme}, PIN policy ${j.pinPolicy}, touch policy ${j.touchPolicy}; re-run it with those options`,
            { file: path },
          );
        if (j.publicKey !== undefined) {
          if (j.publicKey !== spkiBase64(existing))
            throw slotInUse(device, slot, 'the slot holds another key than the one the interrupted run made', {
              file: path,
              path: '$.publicKey',
            });
        } else {
          // GENERATE went to the device, its answer was never recorded: the key must be one the device made
          // itself, of the asked algorithm and policies, and the operator proves with the management key that
          // they could have made it.
          await assertMadeAsAsked(device, slot, existing, asked, o, path);
          await device.authenticateManagementKey(o.secrets, request.allowDefaultManagementKey === true);
        }
        const result = await found();
        if (path !== undefined) result.journal = path;
        return { ...result, resumed: true };
      } finally {
        await opened.source.close();
      }
    },

    async generate(request: GenerateRequest, o: OpenOptions): Promise<GeneratedKey> {
      const slot = parseSlot(request.slot ?? '9c');
      const opened = await openDevice(makeSource, { serial: request.serial });
      const { device } = opened;
      try {
        const existing = await device.readSlot(slot);
        if (existing !== undefined) throw slotInUse(device, slot);
        // Checks that need no secret come first, so nothing is asked for a request that must fail.
        algForScheme(request.scheme, device.version);
        if (!request.allowDefaultManagementKey && device.hasMetadata) {
          const pin = await device.session.metadata(0x80);
          if (pin?.isDefault === true) {
            throw new TufsignError('PIN_DEFAULT', `${device.name} still has the factory-default PIN (123456)`, {
              rule: 'BAD-59 no factory defaults on production keys',
              details: { serial: device.serial },
              suggestion:
                'Change PIN and PUK first (`ykman piv access change-pin`, `change-puk`), or pass --allow-default-management-key for a throw-away test key.',
            });
          }
        }
        await device.authenticateManagementKey(o.secrets, request.allowDefaultManagementKey === true);
        // The journal is on disk before GENERATE reaches the device, and holds the public key as soon as the
        // device returns it: a re-run after a kill anywhere from here on recognises the key (ADR 0007).
        const path =
          request.journalDir === undefined ? undefined : journalPath(request.journalDir, device.serial, slot);
        const intent = intentFor(device.serial, slot, request, (o.now ?? clockFromEnv(o.env).now()).toISOString());
        if (path !== undefined) {
          removeAtomicWriteLeftovers(path);
          writeJournal(path, intent);
        }
        let key: SlotKey;
        try {
          key = await device.generate(slot, request.scheme, intent.pinPolicy, intent.touchPolicy);
        } catch (e) {
          // the device answered with an error and the slot is still empty: nothing to resume
          if (path !== undefined && e instanceof TufsignError && (await slotIsEmpty(device, slot)))
            removeFileQuietly(path);
          throw e;
        }
        if (path !== undefined) writeJournal(path, { ...intent, publicKey: spkiBase64(key) });
        const result = await slotResult(device, slot, key, request, o);
        if (path !== undefined) result.journal = path;
        return result;
      } finally {
        await opened.source.close();
      }
    },

    async readPublicKey(ref: YubiKeyRef, o: OpenOptions): Promise<GeneratedKey> {
      const { uri, serial, slot } = ref;
      const opened = await openSharedDevice(sharedCards, makeSource, { serial, slot, expectedKey: o.expectedKey });
      try {
        const { key, publicKey } = await readExpectedSlot(opened.device, slot, o.expectedKey, uri);
        const result: GeneratedKey = { uri: yubiKeyUri(opened.device.serial, slot), publicKey };
        if (o.requireAttestation === true) {
          // `key attest URI`: the real reason (imported key, old firmware, unknown CA, expired) is the answer.
          result.attestation = attestationToJson(await opened.device.attest(slot, key.publicKey, trustFor(options, o)));
        } else if (opened.device.version.atLeast(4, 3) && key.metadata?.origin !== 'imported') {
          try {
            result.attestation = attestationToJson(
              await opened.device.attest(slot, key.publicKey, trustFor(options, o)),
            );
          } catch (e) {
            // `key show` / `key import` still work for a key whose attestation does not verify here;
            // the key then carries no attestation, and policies that need one refuse it.
            if (!(e instanceof TufsignError) || !e.code.startsWith('ATTESTATION_')) throw e;
          }
        }
        return result;
      } finally {
        await opened.source.close();
      }
    },

    async listDevices(): Promise<DeviceReport> {
      const report: DeviceReport = { backend: 'yubikey', available: true, problems: [], devices: [] };
      let source: DeviceSource;
      try {
        source = makeSource();
      } catch (e) {
        if (!(e instanceof TufsignError)) throw e;
        return { ...report, available: false, problems: [{ message: e.message, suggestion: e.suggestion ?? '' }] };
      }
      try {
        const cards = await source.cards();
        if (cards.length === 0)
          report.problems.push({
            message: 'a smart-card reader is connected but no YubiKey is in it',
            suggestion: PCSC_HELP.reader,
          });
        for (const card of cards) {
          try {
            const device = await YubiKeyDevice.open(card.transport, card.label);
            const info = deviceInfoJson(await device.describe());
            info['reader'] = card.label;
            report.devices.push(info);
          } catch (e) {
            if (!(e instanceof TufsignError)) throw e;
            const o: JsonObject = newObject();
            o['reader'] = card.label;
            o['error'] = e.message;
            report.devices.push(o);
          } finally {
            await card.release();
          }
        }
      } catch (e) {
        if (!(e instanceof TufsignError)) throw e;
        report.available = e.code !== 'PCSCD_NOT_RUNNING' && e.code !== 'DEPENDENCY_MISSING';
        report.problems.push({ message: e.message, suggestion: e.suggestion ?? '' });
      } finally {
        await source.close();
      }
      return report;
    },
  };
}

export const yubikeyBackend: ReadableKeyBackend<YubiKeyRef> = createYubiKeyBackend();
