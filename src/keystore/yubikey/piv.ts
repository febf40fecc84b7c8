/**
 * The YubiKey PIV applet as a pure protocol layer over a `CardTransport`:
 * APDU building, command chaining, GET RESPONSE, and status-word mapping to
 * tufsign error codes. No PC/SC, no prompting, no printing; the same code runs
 * against a real card through pcsclite and against the test emulator in-process.
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { TufsignError } from '../../errors';
import { encodeLength, findTlv, parseTlvs, requireTlv, tlv } from './tlv';

export interface CardTransport {
  /** Send one C-APDU, return the R-APDU (data || SW1 SW2). */
  transmit(apdu: Buffer): Promise<Buffer>;
}

export const PIV_AID = Buffer.from('a000000308', 'hex');
const OTP_AID = Buffer.from('a0000005272001', 'hex');

export const INS = {
  SELECT: 0xa4,
  VERIFY: 0x20,
  CHANGE_REFERENCE: 0x24,
  RESET_RETRY: 0x2c,
  GENERAL_AUTHENTICATE: 0x87,
  GENERATE: 0x47,
  GET_DATA: 0xcb,
  PUT_DATA: 0xdb,
  GET_RESPONSE: 0xc0,
  GET_VERSION: 0xfd,
  GET_SERIAL: 0xf8,
  ATTEST: 0xf9,
  GET_METADATA: 0xf7,
  SET_MGMT_KEY: 0xff,
  RESET: 0xfb,
} as const;

export const SW = {
  OK: 0x9000,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTH_BLOCKED: 0x6983,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  INCORRECT_DATA: 0x6a80,
  FILE_NOT_FOUND: 0x6a82,
  REFERENCE_NOT_FOUND: 0x6a88,
  WRONG_LENGTH: 0x6700,
  INS_NOT_SUPPORTED: 0x6d00,
} as const;

/** PIV algorithm identifiers. */
export const ALG = {
  TDES: 0x03,
  AES128: 0x08,
  AES192: 0x0a,
  AES256: 0x0c,
  RSA1024: 0x06,
  RSA2048: 0x07,
  RSA3072: 0x05,
  RSA4096: 0x16,
  ECCP256: 0x11,
  ECCP384: 0x14,
  ED25519: 0xe0,
  X25519: 0xe1,
  PIN: 0xff,
} as const;

export const ALG_NAMES: Record<number, string> = {
  0x03: '3DES',
  0x08: 'AES128',
  0x0a: 'AES192',
  0x0c: 'AES256',
  0x06: 'RSA1024',
  0x07: 'RSA2048',
  0x05: 'RSA3072',
  0x16: 'RSA4096',
  0x11: 'ECCP256',
  0x14: 'ECCP384',
  0xe0: 'ED25519',
  0xe1: 'X25519',
  0xff: 'PIN',
};

export type PinPolicy = 'default' | 'never' | 'once' | 'always' | 'match-once' | 'match-always';
export type TouchPolicy = 'default' | 'never' | 'always' | 'cached';
export const PIN_POLICY_BYTES: Record<PinPolicy, number> = {
  default: 0,
  never: 1,
  once: 2,
  always: 3,
  'match-once': 4,
  'match-always': 5,
};
export const TOUCH_POLICY_BYTES: Record<TouchPolicy, number> = { default: 0, never: 1, always: 2, cached: 3 };
export function pinPolicyName(b: number): PinPolicy | undefined {
  return (Object.keys(PIN_POLICY_BYTES) as PinPolicy[]).find((k) => PIN_POLICY_BYTES[k] === b);
}
export function touchPolicyName(b: number): TouchPolicy | undefined {
  return (Object.keys(TOUCH_POLICY_BYTES) as TouchPolicy[]).find((k) => TOUCH_POLICY_BYTES[k] === b);
}

/** Key slots tufsign lets users sign with, and their PIV data-object ids. */
export const SLOT_OBJECTS: Record<number, number> = {
  0x9a: 0x5fc105,
  0x9c: 0x5fc10a,
  0x9d: 0x5fc10b,
  0x9e: 0x5fc101,
  0xf9: 0x5fff01,
};
for (let s = 0x82; s <= 0x95; s++) SLOT_OBJECTS[s] = 0x5fc10d + (s - 0x82);
export const OBJECT_ADMIN_DATA = 0x5fff00;
export const OBJECT_PRINTED = 0x5fc109;
export const KEY_SLOTS = [0x9a, 0x9c, 0x9d, 0x9e, ...Array.from({ length: 20 }, (_, i) => 0x82 + i)];

export function parseSlot(s: string): number {
  const n = /^[0-9a-fA-F]{2}$/.test(s) ? parseInt(s, 16) : NaN;
  if (!KEY_SLOTS.includes(n)) {
    throw new TufsignError('KEY_URI_INVALID', `"${s}" is not a PIV key slot`, {
      rule: 'PIV slots 9a, 9c, 9d, 9e, 82-95',
      suggestion: 'Use slot 9c (Digital Signature) for TUF keys.',
    });
  }
  return n;
}
export function slotName(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export const DEFAULT_MANAGEMENT_KEY = Buffer.from('010203040506070801020304050607080102030405060708', 'hex');
export const DEFAULT_PIN = Buffer.from('123456');
export const DEFAULT_PUK = Buffer.from('12345678');

export class Version {
  constructor(
    readonly major: number,
    readonly minor: number,
    readonly patch: number,
  ) {}
  atLeast(major: number, minor = 0, patch = 0): boolean {
    if (this.major !== major) return this.major > major;
    if (this.minor !== minor) return this.minor > minor;
    return this.patch >= patch;
  }
  toString(): string {
    return `${this.major}.${this.minor}.${this.patch}`;
  }
}

export class CardStatusError extends TufsignError {}

/** Map a status word to an error code; `context` says what was being done. */
export function statusError(sw: number, context: string): TufsignError {
  const hex = sw.toString(16).padStart(4, '0');
  const details = { sw: hex };
  if ((sw & 0xfff0) === 0x63c0) {
    const retriesLeft = sw & 0x0f;
    if (retriesLeft === 0)
      return new TufsignError('PIN_LOCKED', `${context}: the PIN is now blocked`, {
        details: { ...details, retriesLeft },
        rule: 'BAD-54',
        suggestion: PIN_BLOCKED_HELP,
      });
    return new TufsignError(
      'PIN_INCORRECT',
      `${context}: wrong PIN, ${retriesLeft} ${retriesLeft === 1 ? 'try' : 'tries'} left`,
      {
        details: { ...details, retriesLeft },
        rule: 'BAD-53 never retry a PIN automatically',
        suggestion:
          retriesLeft === 1
            ? 'One try left: check the PIN carefully; a further wrong PIN blocks the PIV application.'
            : 'Check the PIN and run the command again.',
      },
    );
  }
  switch (sw) {
    case SW.AUTH_BLOCKED:
      return new TufsignError('PIN_LOCKED', `${context}: PIN blocked`, {
        details: { ...details, retriesLeft: 0 },
        rule: 'BAD-54',
        suggestion: PIN_BLOCKED_HELP,
      });
    case SW.SECURITY_STATUS_NOT_SATISFIED:
      return new TufsignError(
        'DEVICE_ERROR',
        `${context}: security status not satisfied (PIN or management key not verified)`,
        { details },
      );
    case SW.FILE_NOT_FOUND:
    case SW.REFERENCE_NOT_FOUND:
      return new TufsignError('KEY_NOT_FOUND', `${context}: not found on the YubiKey`, { details });
    case SW.INS_NOT_SUPPORTED:
      return new TufsignError('FIRMWARE_UNSUPPORTED', `${context}: the card does not support this command`, {
        details,
      });
    default:
      return new TufsignError('DEVICE_ERROR', `${context}: card answered ${hex}`, { details });
  }
}

export const PIN_BLOCKED_HELP =
  'Unblock the PIN with the PUK (`ykman piv access unblock-pin`, or `yubico-piv-tool -a unblock-pin`). If the PUK is blocked too, the PIV application can only be reset, which destroys its keys; never do that in the middle of a ceremony.';

export interface Response {
  data: Buffer;
  sw: number;
}

function padPin(pin: Uint8Array): Buffer {
  if (pin.length < 6 || pin.length > 8) {
    throw new TufsignError('PIN_INCORRECT', `a PIV PIN has 6 to 8 characters (got ${pin.length}); no try was spent`, {
      details: { retriesLeft: undefined },
      rule: 'PIV PIN length 6-8',
    });
  }
  const out = Buffer.alloc(8, 0xff);
  Buffer.from(pin).copy(out);
  return out;
}

function cipherFor(alg: number): { name: string; keyLen: number; block: number } {
  switch (alg) {
    case ALG.TDES:
      return { name: 'des-ede3', keyLen: 24, block: 8 };
    case ALG.AES128:
      return { name: 'aes-128-ecb', keyLen: 16, block: 16 };
    case ALG.AES192:
      return { name: 'aes-192-ecb', keyLen: 24, block: 16 };
    case ALG.AES256:
      return { name: 'aes-256-ecb', keyLen: 32, block: 16 };
    default:
      throw new TufsignError('MECHANISM_UNSUPPORTED', `unknown management key algorithm 0x${alg.toString(16)}`);
  }
}

export function blockCipher(alg: number, key: Uint8Array, data: Uint8Array, encrypt: boolean): Buffer {
  const c = cipherFor(alg);
  const cipher = encrypt ? createCipheriv(c.name, key, null) : createDecipheriv(c.name, key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}
export function managementKeyLength(alg: number): number {
  return cipherFor(alg).keyLen;
}

export interface SlotMetadata {
  algorithm: number;
  pinPolicy?: PinPolicy | undefined;
  touchPolicy?: TouchPolicy | undefined;
  /** 1 generated on device, 2 imported */
  origin?: 'generated' | 'imported' | undefined;
  publicKey?: Buffer | undefined;
  isDefault?: boolean | undefined;
  retries?: { total: number; remaining: number } | undefined;
}

/** The largest C-APDU data field before we chain (short APDUs). */
const CHUNK = 255;

/**
 * One PIV session on one card. Methods map to the commands in
 * hardware-lab.md §2.8; every non-9000 answer becomes a TufsignError.
 */
export class PivSession {
  version: Version | undefined;
  /** whether the PIN was verified in this session (for PIN policy once) */
  pinVerified = false;

  constructor(readonly transport: CardTransport) {}

  /** Send a command with chaining (CLA 0x10) and collect 61xx continuations. */
  async send(ins: number, p1: number, p2: number, data: Uint8Array = Buffer.alloc(0), cla = 0x00): Promise<Response> {
    const body = Buffer.from(data);
    let offset = 0;
    let resp: Buffer;
    do {
      const chunk = body.subarray(offset, offset + CHUNK);
      offset += chunk.length;
      const last = offset >= body.length;
      const header = Buffer.from([last ? cla : cla | 0x10, ins, p1, p2]);
      const apdu =
        chunk.length > 0
          ? Buffer.concat([header, Buffer.from([chunk.length]), chunk])
          : Buffer.concat([header, Buffer.from([0])]);
      resp = await this.transport.transmit(apdu);
      if (resp.length < 2)
        throw new TufsignError('DEVICE_ERROR', 'short answer from the card', { rule: 'R-APDU ends with SW1 SW2' });
      if (!last) {
        const sw = resp.readUInt16BE(resp.length - 2);
        if (sw !== SW.OK) return { data: Buffer.alloc(0), sw };
      }
    } while (offset < body.length);
    const parts: Buffer[] = [];
    for (;;) {
      const sw = resp.readUInt16BE(resp.length - 2);
      parts.push(resp.subarray(0, resp.length - 2));
      if (sw >> 8 !== 0x61) return { data: Buffer.concat(parts), sw };
      resp = await this.transport.transmit(Buffer.from([0x00, INS.GET_RESPONSE, 0x00, 0x00, sw & 0xff]));
      if (resp.length < 2)
        throw new TufsignError('DEVICE_ERROR', 'short answer from the card', { rule: 'R-APDU ends with SW1 SW2' });
    }
  }

  async sendOk(ins: number, p1: number, p2: number, data: Uint8Array | undefined, context: string): Promise<Buffer> {
    const r = await this.send(ins, p1, p2, data);
    if (r.sw !== SW.OK) throw statusError(r.sw, context);
    return r.data;
  }

  async select(): Promise<void> {
    const r = await this.send(INS.SELECT, 0x04, 0x00, PIV_AID);
    if (r.sw !== SW.OK)
      throw new TufsignError('TOKEN_NOT_PRESENT', 'this card has no PIV application (not a YubiKey?)', {
        details: { sw: r.sw.toString(16) },
      });
  }

  async getVersion(): Promise<Version> {
    const d = await this.sendOk(INS.GET_VERSION, 0, 0, undefined, 'reading the firmware version');
    if (d.length < 3) throw new TufsignError('DEVICE_ERROR', 'bad version answer');
    this.version = new Version(d[0] ?? 0, d[1] ?? 0, d[2] ?? 0);
    return this.version;
  }

  /** Serial: INS F8 on firmware 5+, the OTP application on older keys (then PIV is selected again). */
  async getSerial(): Promise<number> {
    const v = this.version ?? (await this.getVersion());
    if (v.atLeast(5)) {
      const d = await this.sendOk(INS.GET_SERIAL, 0, 0, undefined, 'reading the serial number');
      return d.readUInt32BE(0);
    }
    const sel = await this.send(INS.SELECT, 0x04, 0x00, OTP_AID);
    if (sel.sw !== SW.OK)
      throw new TufsignError('DEVICE_ERROR', 'cannot read the serial of this YubiKey (OTP application missing)', {
        details: { sw: sel.sw.toString(16) },
      });
    const r = await this.send(0x01, 0x10, 0x00);
    await this.select();
    if (r.sw !== SW.OK || r.data.length < 4) throw statusError(r.sw, 'reading the serial number');
    return r.data.readUInt32BE(0);
  }

  /** PIN tries left, without spending one (VERIFY with no data). 0 = blocked; undefined = already verified. */
  async pinRetries(): Promise<number | undefined> {
    const r = await this.send(INS.VERIFY, 0x00, 0x80);
    if (r.sw === SW.OK) return undefined;
    if ((r.sw & 0xfff0) === 0x63c0) return r.sw & 0x0f;
    if (r.sw === SW.AUTH_BLOCKED) return 0;
    throw statusError(r.sw, 'reading the PIN retry counter');
  }

  /** Verify the PIN once. Never retried here: a wrong PIN throws PIN_INCORRECT with retriesLeft. */
  async verifyPin(pin: Uint8Array): Promise<void> {
    const padded = padPin(pin);
    try {
      const r = await this.send(INS.VERIFY, 0x00, 0x80, padded);
      if (r.sw !== SW.OK) throw statusError(r.sw, 'verifying the PIN');
      this.pinVerified = true;
    } finally {
      padded.fill(0);
    }
  }

  async changePin(oldPin: Uint8Array, newPin: Uint8Array): Promise<void> {
    const data = Buffer.concat([padPin(oldPin), padPin(newPin)]);
    try {
      await this.sendOk(INS.CHANGE_REFERENCE, 0x00, 0x80, data, 'changing the PIN');
    } finally {
      data.fill(0);
    }
  }

  /** Mutual authentication with the management key (the libykpiv flow). */
  async authenticate(key: Uint8Array, alg: number = ALG.TDES): Promise<void> {
    const { block } = cipherFor(alg);
    if (key.length !== managementKeyLength(alg)) {
      throw new TufsignError(
        'MANAGEMENT_KEY_INCORRECT',
        `a ${ALG_NAMES[alg] ?? 'management'} key has ${managementKeyLength(alg)} bytes, got ${key.length}`,
        { rule: 'management key length' },
      );
    }
    const step1 = await this.send(INS.GENERAL_AUTHENTICATE, alg, 0x9b, tlv(0x7c, tlv(0x80, Buffer.alloc(0))));
    if (step1.sw !== SW.OK) throw this.mgmtError(step1.sw);
    const witness = requireTlv(requireTlv(step1.data, 0x7c, 'dynamic auth template'), 0x80, 'witness');
    if (witness.length !== block)
      throw new TufsignError('DEVICE_ERROR', 'unexpected witness length', { rule: 'PIV mutual auth' });
    const decrypted = blockCipher(alg, key, witness, false);
    const challenge = randomBytes(block);
    const step2 = await this.send(
      INS.GENERAL_AUTHENTICATE,
      alg,
      0x9b,
      tlv(0x7c, Buffer.concat([tlv(0x80, decrypted), tlv(0x81, challenge)])),
    );
    if (step2.sw !== SW.OK) throw this.mgmtError(step2.sw);
    const proof = requireTlv(requireTlv(step2.data, 0x7c, 'dynamic auth template'), 0x82, 'card response');
    const expected = blockCipher(alg, key, challenge, true);
    if (proof.length !== expected.length || !timingSafeEqual(proof, expected)) {
      throw new TufsignError(
        'DEVICE_ERROR',
        'the card did not prove it knows the management key (counterfeit or misbehaving device?)',
        { rule: 'PIV mutual auth' },
      );
    }
  }

  private mgmtError(sw: number): TufsignError {
    if (sw === SW.SECURITY_STATUS_NOT_SATISFIED || sw === SW.INCORRECT_DATA) {
      return new TufsignError('MANAGEMENT_KEY_INCORRECT', 'the YubiKey rejected the management key', {
        details: { sw: sw.toString(16) },
        suggestion:
          'Check the management key (24-byte 3DES or AES key as 48/32/64 hex characters), or use the PIN-protected management key.',
      });
    }
    return statusError(sw, 'management key authentication');
  }

  /** Generate a key pair on the device; returns the raw public-key TLV contents (tag 7F49). */
  async generate(
    slot: number,
    alg: number,
    pinPolicy: PinPolicy = 'default',
    touchPolicy: TouchPolicy = 'default',
  ): Promise<Buffer> {
    const parts = [tlv(0x80, Buffer.from([alg]))];
    if (pinPolicy !== 'default') parts.push(tlv(0xaa, Buffer.from([PIN_POLICY_BYTES[pinPolicy]])));
    if (touchPolicy !== 'default') parts.push(tlv(0xab, Buffer.from([TOUCH_POLICY_BYTES[touchPolicy]])));
    const r = await this.send(INS.GENERATE, 0x00, slot, tlv(0xac, Buffer.concat(parts)));
    if (r.sw === SW.SECURITY_STATUS_NOT_SATISFIED) {
      throw new TufsignError('MANAGEMENT_KEY_INCORRECT', 'generating a key needs management-key authentication first', {
        details: { sw: '6982' },
      });
    }
    if (r.sw === SW.INCORRECT_DATA || r.sw === 0x6a86) {
      throw new TufsignError(
        'FIRMWARE_UNSUPPORTED',
        `this YubiKey (firmware ${this.version?.toString() ?? 'unknown'}) refused algorithm ${ALG_NAMES[alg] ?? alg} or the policies`,
        { details: { sw: r.sw.toString(16) } },
      );
    }
    if (r.sw !== SW.OK) throw statusError(r.sw, `generating a key in slot ${slotName(slot)}`);
    return requireTlv(r.data, 0x7f49, 'public key template');
  }

  /**
   * GENERAL AUTHENTICATE with a private key: `data` is the digest (EC), the
   * padded block (RSA) or the message (Ed25519). Returns the card's answer
   * as is (DER for EC, raw for RSA and Ed25519).
   */
  async sign(slot: number, alg: number, data: Uint8Array): Promise<Buffer> {
    const template = tlv(0x7c, Buffer.concat([tlv(0x82, Buffer.alloc(0)), tlv(0x81, data)]));
    const r = await this.send(INS.GENERAL_AUTHENTICATE, alg, slot, template);
    if (r.sw === SW.SECURITY_STATUS_NOT_SATISFIED) {
      this.pinVerified = false;
      throw new TufsignError('SECRET_REQUIRED', `slot ${slotName(slot)} needs the PIN before signing`, {
        details: { sw: '6982' },
        rule: 'PIV PIN policy',
      });
    }
    if (r.sw === SW.CONDITIONS_NOT_SATISFIED) {
      throw new TufsignError('TOUCH_TIMEOUT', 'the YubiKey was not touched in time; nothing was signed', {
        details: { sw: '6985' },
        rule: 'BAD-60',
        suggestion: 'Run the command again and touch the YubiKey when it blinks.',
      });
    }
    if (r.sw === SW.WRONG_LENGTH || r.sw === 0x6a84) {
      throw new TufsignError('MESSAGE_TOO_LARGE', `the YubiKey refused ${data.length} bytes of input to sign`, {
        details: { sw: r.sw.toString(16) },
      });
    }
    if (r.sw !== SW.OK) throw statusError(r.sw, `signing with slot ${slotName(slot)}`);
    return requireTlv(requireTlv(r.data, 0x7c, 'dynamic auth template'), 0x82, 'signature');
  }

  /** GET DATA for a 3-byte object id; returns the contents of tag 53, or undefined if absent. */
  async getData(objectId: number): Promise<Buffer | undefined> {
    const id = Buffer.from([objectId >> 16, (objectId >> 8) & 0xff, objectId & 0xff]);
    const r = await this.send(INS.GET_DATA, 0x3f, 0xff, tlv(0x5c, id));
    if (r.sw === SW.FILE_NOT_FOUND) return undefined;
    if (r.sw !== SW.OK) throw statusError(r.sw, `reading object ${objectId.toString(16)}`);
    return requireTlv(r.data, 0x53, 'data object');
  }

  async putData(objectId: number, value: Uint8Array): Promise<void> {
    const id = Buffer.from([objectId >> 16, (objectId >> 8) & 0xff, objectId & 0xff]);
    await this.sendOk(
      INS.PUT_DATA,
      0x3f,
      0xff,
      Buffer.concat([tlv(0x5c, id), tlv(0x53, value)]),
      `writing object ${objectId.toString(16)}`,
    );
  }

  /** The certificate stored for a slot (DER), if any. */
  async getCertificate(slot: number): Promise<Buffer | undefined> {
    const id = SLOT_OBJECTS[slot];
    if (id === undefined) throw new TufsignError('KEY_URI_INVALID', `no certificate object for slot ${slotName(slot)}`);
    const obj = await this.getData(id);
    if (obj === undefined || obj.length === 0) return undefined;
    return findTlv(obj, 0x70);
  }

  /** Yubico ATTEST: an X.509 certificate for a key generated on the device, signed by the f9 key. */
  async attest(slot: number): Promise<Buffer> {
    const r = await this.send(INS.ATTEST, slot, 0x00);
    if (r.sw === SW.INCORRECT_DATA) {
      throw new TufsignError(
        'ATTESTATION_INVALID',
        `the key in slot ${slotName(slot)} cannot be attested: it was imported, not generated on the YubiKey`,
        { details: { sw: '6a80' }, rule: 'BAD-58' },
      );
    }
    if (r.sw === SW.REFERENCE_NOT_FOUND || r.sw === SW.FILE_NOT_FOUND)
      throw new TufsignError('KEY_NOT_FOUND', `slot ${slotName(slot)} holds no key`, {
        details: { sw: r.sw.toString(16) },
      });
    if (r.sw === SW.INS_NOT_SUPPORTED)
      throw new TufsignError(
        'FIRMWARE_UNSUPPORTED',
        `this YubiKey (firmware ${this.version?.toString() ?? 'unknown'}) cannot attest keys (needs 4.3+)`,
      );
    if (r.sw !== SW.OK) throw statusError(r.sw, `attesting slot ${slotName(slot)}`);
    if (r.data[0] !== 0x30)
      throw new TufsignError('ATTESTATION_INVALID', 'the attestation answer is not a certificate');
    return r.data;
  }

  /** GET METADATA (firmware 5.3+); undefined when the slot is empty. */
  async metadata(slot: number): Promise<SlotMetadata | undefined> {
    const r = await this.send(INS.GET_METADATA, 0x00, slot);
    if (r.sw === SW.REFERENCE_NOT_FOUND || r.sw === SW.FILE_NOT_FOUND) return undefined;
    if (r.sw === SW.INS_NOT_SUPPORTED)
      throw new TufsignError('FIRMWARE_UNSUPPORTED', 'GET METADATA needs firmware 5.3+');
    if (r.sw !== SW.OK) throw statusError(r.sw, `reading metadata of slot ${slotName(slot)}`);
    const tlvs = parseTlvs(r.data);
    const alg = findTlv(tlvs, 0x01);
    const policy = findTlv(tlvs, 0x02);
    const origin = findTlv(tlvs, 0x03);
    const isDefault = findTlv(tlvs, 0x05);
    const retries = findTlv(tlvs, 0x06);
    return {
      algorithm: alg?.[0] ?? 0,
      pinPolicy: policy?.[0] === undefined ? undefined : pinPolicyName(policy[0]),
      touchPolicy: policy?.[1] === undefined ? undefined : touchPolicyName(policy[1]),
      origin: origin?.[0] === 1 ? 'generated' : origin?.[0] === 2 ? 'imported' : undefined,
      publicKey: findTlv(tlvs, 0x04),
      isDefault: isDefault === undefined ? undefined : isDefault[0] === 1,
      retries:
        retries !== undefined && retries.length >= 2
          ? { total: retries[0] ?? 0, remaining: retries[1] ?? 0 }
          : undefined,
    };
  }

  /** ADMIN DATA (5FFF00): whether the management key is stored on the device under the PIN. */
  async managementKeyProtected(): Promise<boolean> {
    const obj = await this.getData(OBJECT_ADMIN_DATA);
    if (obj === undefined) return false;
    const inner = findTlv(obj, 0x80);
    const flags = inner === undefined ? undefined : findTlv(inner, 0x81);
    return flags !== undefined && ((flags[0] ?? 0) & 0x02) !== 0;
  }

  /** Read the PIN-protected management key (PRINTED object, 88/89); the PIN must be verified. */
  async readProtectedManagementKey(): Promise<Buffer> {
    const obj = await this.getData(OBJECT_PRINTED);
    const inner = obj === undefined ? undefined : findTlv(obj, 0x88);
    const key = inner === undefined ? undefined : findTlv(inner, 0x89);
    if (key === undefined)
      throw new TufsignError(
        'MANAGEMENT_KEY_INCORRECT',
        'the YubiKey says its management key is PIN-protected, but none is stored',
      );
    return Buffer.from(key);
  }

  async setManagementKey(alg: number, key: Uint8Array, touch = false): Promise<void> {
    const data = Buffer.concat([Buffer.from([alg, 0x9b, key.length]), Buffer.from(key)]);
    await this.sendOk(INS.SET_MGMT_KEY, 0xff, touch ? 0xfe : 0xff, data, 'setting the management key');
  }
}

export { encodeLength };
