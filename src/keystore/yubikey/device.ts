/**
 * One YubiKey, over any CardTransport: identity, slot inspection, management
 * key, on-device generation, attestation and signing. Pure: secrets come from
 * the SecretsHandler, devices from the caller; nothing here prints.
 */
import type { KeyObject } from 'node:crypto';
import { TufsignError } from '../../errors';
import { newObject, type JsonObject } from '../../tuf/json';
import { keyFromPublicKeyObject, type Key, type Scheme } from '../../tuf/key';
import type { SecretsHandler, Signer, SignatureBytes } from '../signer';
import {
  FORM_FACTORS,
  attestationToJson,
  extensionValue,
  verifyAttestation,
  type AttestationFacts,
} from './attestation';
import type { AttestationTrust } from './claims';
import {
  algForScheme,
  algOfKeyObject,
  ecdsaDigest,
  emsaPssEncode,
  isRsaAlg,
  padRsaSignature,
  publicKeyFromTlv,
  rsaModulusBytes,
  schemeForAlg,
} from './keys';
import {
  ALG,
  ALG_NAMES,
  DEFAULT_MANAGEMENT_KEY,
  KEY_SLOTS,
  PivSession,
  slotName,
  type CardTransport,
  type PinPolicy,
  type SlotMetadata,
  type TouchPolicy,
  type Version,
} from './piv';
import { X509Certificate } from 'node:crypto';

/**
 * Largest Ed25519 message tufsign sends to a YubiKey. Ed25519 signs the whole
 * message on the card, so the card's buffer bounds the metadata size. The
 * virtual card models a 3072-byte command buffer; the GENERAL AUTHENTICATE
 * template costs 10 bytes, leaving 3062. Not yet measured on a real 5.7 key
 * (docs/yubikey.md, manual checklist), so we stay a little below it.
 */
export const ED25519_MAX_MESSAGE = 3000;

export interface SlotInfo {
  slot: string;
  algorithm: string;
  scheme: Scheme | undefined;
  pinPolicy: PinPolicy | undefined;
  touchPolicy: TouchPolicy | undefined;
  origin: 'generated' | 'imported' | undefined;
  publicKeySha256?: string;
}

export interface DeviceInfo {
  serial: number;
  firmware: string;
  formFactor: string | undefined;
  slots: SlotInfo[];
  pinRetries: number | undefined;
  pukRetries: number | undefined;
  defaultPin: boolean | undefined;
  defaultPuk: boolean | undefined;
  defaultManagementKey: boolean | undefined;
  managementKeyAlgorithm: string | undefined;
  managementKeyProtected: boolean;
}

export interface SlotKey {
  alg: number;
  publicKey: KeyObject;
  metadata: SlotMetadata | undefined;
}

export class YubiKeyDevice {
  private constructor(
    readonly session: PivSession,
    readonly serial: number,
    readonly version: Version,
    /** e.g. the PC/SC reader name */
    readonly label: string,
  ) {}

  static async open(transport: CardTransport, label = 'YubiKey'): Promise<YubiKeyDevice> {
    const session = new PivSession(transport);
    await session.select();
    const version = await session.getVersion();
    const serial = await session.getSerial();
    return new YubiKeyDevice(session, serial, version, label);
  }

  get name(): string {
    return `YubiKey ${this.serial}`;
  }

  get hasMetadata(): boolean {
    return this.version.atLeast(5, 3);
  }

  /** The key in a slot, without PIN or management key: metadata (5.3+), else the slot certificate, else its attestation. */
  async readSlot(slot: number): Promise<SlotKey | undefined> {
    if (this.hasMetadata) {
      const md = await this.session.metadata(slot);
      if (md === undefined || md.publicKey === undefined) return undefined;
      return { alg: md.algorithm, publicKey: publicKeyFromTlv(md.algorithm, md.publicKey), metadata: md };
    }
    const cert = await this.session.getCertificate(slot);
    let der = cert;
    if (der === undefined && this.version.atLeast(4, 3)) {
      try {
        der = await this.session.attest(slot);
      } catch (e) {
        if (e instanceof TufsignError && (e.code === 'KEY_NOT_FOUND' || e.code === 'ATTESTATION_INVALID'))
          return undefined;
        throw e;
      }
    }
    if (der === undefined) return undefined;
    const publicKey = new X509Certificate(der).publicKey;
    return { alg: algOfKeyObject(publicKey), publicKey, metadata: undefined };
  }

  async describe(): Promise<DeviceInfo> {
    const info: DeviceInfo = {
      serial: this.serial,
      firmware: this.version.toString(),
      formFactor: undefined,
      slots: [],
      pinRetries: undefined,
      pukRetries: undefined,
      defaultPin: undefined,
      defaultPuk: undefined,
      defaultManagementKey: undefined,
      managementKeyAlgorithm: undefined,
      managementKeyProtected: await this.session.managementKeyProtected(),
    };
    if (this.hasMetadata) {
      const pin = await this.session.metadata(0x80);
      const puk = await this.session.metadata(0x81);
      const mgmt = await this.session.metadata(0x9b);
      info.pinRetries = pin?.retries?.remaining;
      info.pukRetries = puk?.retries?.remaining;
      info.defaultPin = pin?.isDefault;
      info.defaultPuk = puk?.isDefault;
      info.defaultManagementKey = mgmt?.isDefault;
      info.managementKeyAlgorithm = mgmt === undefined ? undefined : ALG_NAMES[mgmt.algorithm];
    } else {
      info.pinRetries = (await this.session.pinRetries()) ?? undefined;
    }
    for (const slot of KEY_SLOTS) {
      const k = await this.readSlot(slot);
      if (k === undefined) continue;
      info.slots.push({
        slot: slotName(slot),
        algorithm: ALG_NAMES[k.alg] ?? `0x${k.alg.toString(16)}`,
        scheme: schemeForAlg(k.alg),
        pinPolicy: k.metadata?.pinPolicy,
        touchPolicy: k.metadata?.touchPolicy,
        origin: k.metadata?.origin,
      });
      if (info.formFactor === undefined && k.metadata?.origin !== 'imported' && this.version.atLeast(5)) {
        info.formFactor = await this.formFactorFrom(slot);
      }
    }
    return info;
  }

  private async formFactorFrom(slot: number): Promise<string | undefined> {
    try {
      const der = await this.session.attest(slot);
      const ff = extensionValue(der, '1.3.6.1.4.1.41482.3.9')?.[0];
      return ff === undefined ? undefined : FORM_FACTORS[ff & 0x7f];
    } catch {
      return undefined;
    }
  }

  /**
   * Authenticate with the management key: the factory default only when
   * allowed, the PIN-protected key when the device stores one, else the
   * secrets handler (prompt or TUFSIGN_MGMT_KEY).
   */
  async authenticateManagementKey(secrets: SecretsHandler, allowDefault: boolean): Promise<void> {
    let alg: number = ALG.TDES;
    let isDefault: boolean | undefined;
    if (this.hasMetadata) {
      const md = await this.session.metadata(0x9b);
      if (md !== undefined) {
        alg = md.algorithm;
        isDefault = md.isDefault;
      }
    }
    if (isDefault === undefined) {
      // Old firmware cannot tell; a failed management-key auth costs no retry, so probe.
      try {
        await this.session.authenticate(DEFAULT_MANAGEMENT_KEY, alg);
        isDefault = true;
      } catch (e) {
        if (!(e instanceof TufsignError) || e.code !== 'MANAGEMENT_KEY_INCORRECT') throw e;
        isDefault = false;
      }
      if (isDefault && allowDefault) return;
    }
    if (isDefault) {
      if (!allowDefault) {
        throw new TufsignError('MANAGEMENT_KEY_DEFAULT', `${this.name} still has the factory-default management key`, {
          rule: 'BAD-59 no factory defaults on production keys',
          details: { serial: this.serial },
          suggestion:
            'Change it first (`ykman piv access change-management-key --generate --protect`), or pass --allow-default-management-key for a throw-away test key.',
        });
      }
      await this.session.authenticate(DEFAULT_MANAGEMENT_KEY, alg);
      return;
    }
    if (await this.session.managementKeyProtected()) {
      await this.verifyPinOnce(secrets);
      const key = await this.session.readProtectedManagementKey();
      try {
        await this.session.authenticate(key, alg);
      } finally {
        key.fill(0);
      }
      return;
    }
    const secret = await secrets.getSecret({ kind: 'management-key', label: this.name });
    let key: Buffer | undefined;
    try {
      const text = secret.toString('utf8').trim();
      if (!/^([0-9a-fA-F]{2})+$/.test(text)) {
        throw new TufsignError(
          'MANAGEMENT_KEY_INCORRECT',
          'the management key must be given as hex (48 characters for 3DES/AES-192, 32 for AES-128, 64 for AES-256)',
          { rule: 'management key format' },
        );
      }
      key = Buffer.from(text, 'hex');
      await this.session.authenticate(key, alg);
    } finally {
      secret.fill(0);
      key?.fill(0);
    }
  }

  /** Ask for the PIN once, showing the tries left; never retry, never ask when blocked. */
  async verifyPinOnce(secrets: SecretsHandler, force = false): Promise<void> {
    const retries = await this.session.pinRetries();
    if (retries === undefined && !force) return;
    if (retries === 0) {
      throw new TufsignError('PIN_LOCKED', `the PIN of ${this.name} is blocked`, {
        rule: 'BAD-54',
        details: { serial: this.serial, retriesLeft: 0 },
        suggestion:
          'Unblock it with the PUK (`ykman piv access unblock-pin`). If the PUK is blocked too, only a PIV reset helps, and it destroys the keys; never reset during a ceremony.',
      });
    }
    if (retries === 1) secrets.notify?.(`Last PIN try for ${this.name}: a wrong PIN now blocks its PIV application.`);
    const pin = await secrets.getSecret(
      retries === undefined
        ? { kind: 'pin', label: this.name }
        : { kind: 'pin', label: this.name, retriesLeft: retries },
    );
    try {
      await this.session.verifyPin(pin);
    } catch (e) {
      if (e instanceof TufsignError && (e.code === 'PIN_INCORRECT' || e.code === 'PIN_LOCKED')) {
        throw new TufsignError(e.code, `${this.name}: ${e.message}`, {
          ...e,
          details: { ...e.details, serial: this.serial },
          rule: e.rule,
          suggestion: e.suggestion,
          cause: e,
        });
      }
      throw e;
    } finally {
      pin.fill(0);
    }
  }

  async generate(slot: number, scheme: Scheme, pinPolicy: PinPolicy, touchPolicy: TouchPolicy): Promise<SlotKey> {
    const alg = algForScheme(scheme, this.version);
    if (touchPolicy === 'cached' && !this.version.atLeast(4, 3)) {
      throw new TufsignError(
        'FIRMWARE_UNSUPPORTED',
        `touch policy "cached" needs firmware 4.3+; ${this.name} has ${this.version.toString()}`,
      );
    }
    const tlvValue = await this.session.generate(slot, alg, pinPolicy, touchPolicy);
    return { alg, publicKey: publicKeyFromTlv(alg, tlvValue), metadata: undefined };
  }

  /** Fetch and verify the attestation of a slot (key certificate + f9 device certificate). */
  async attest(slot: number, publicKey: KeyObject, trust: AttestationTrust = {}): Promise<AttestationFacts> {
    const keyCert = await this.session.attest(slot);
    const deviceCert = await this.session.getCertificate(0xf9);
    if (deviceCert === undefined) {
      throw new TufsignError('ATTESTATION_INVALID', `${this.name} has no device attestation certificate in slot f9`, {
        rule: 'BAD-58',
      });
    }
    const input: Parameters<typeof verifyAttestation>[0] = {
      keyCert,
      deviceCert,
      publicKey,
      expectedSerial: this.serial,
    };
    if (trust.roots !== undefined) input.roots = trust.roots;
    if (trust.intermediates !== undefined) input.intermediates = trust.intermediates;
    if (trust.now !== undefined) input.now = trust.now;
    return verifyAttestation(input);
  }
}

export interface YubiKeySignerOptions {
  uri: string;
  device: YubiKeyDevice;
  slot: number;
  key: SlotKey;
  publicKey: Key;
  secrets: SecretsHandler;
  /** called when the signer is closed (release the reader) */
  onClose?: () => Promise<void>;
}

/** Signs with a PIV slot: PIN (policy-aware), touch notice, host-side hashing/padding, self-verification. */
export class YubiKeySigner implements Signer {
  readonly uri: string;
  readonly publicKey: Key;
  private closed = false;

  constructor(private readonly o: YubiKeySignerOptions) {
    this.uri = o.uri;
    this.publicKey = o.publicKey;
  }

  async sign(data: Uint8Array): Promise<SignatureBytes> {
    const { device, slot, key } = this.o;
    const scheme = this.publicKey.scheme as Scheme;
    if (key.alg === ALG.ED25519 && data.length > ED25519_MAX_MESSAGE) {
      throw new TufsignError(
        'MESSAGE_TOO_LARGE',
        `${data.length} bytes are too many for Ed25519 on a YubiKey (the card signs the whole message; limit ${ED25519_MAX_MESSAGE} bytes)`,
        {
          details: { size: data.length, limit: ED25519_MAX_MESSAGE },
          rule: 'YubiKey Ed25519 input buffer',
          suggestion:
            'Use an ecdsa-sha2-nistp256 YubiKey key for large metadata (ECDSA hashes on the host), or split targets with delegations.',
        },
      );
    }
    const pinPolicy = key.metadata?.pinPolicy;
    // PIN "always" needs a VERIFY right before every signature; "once" only once per session.
    // Unknown policy (firmware < 5.3): treat as "always", the PIV default for slot 9c.
    const always = pinPolicy === 'always' || pinPolicy === 'match-always' || pinPolicy === undefined;
    if (always || (pinPolicy !== 'never' && !device.session.pinVerified))
      await device.verifyPinOnce(this.o.secrets, always);
    const touch = key.metadata?.touchPolicy;
    if (touch === 'always' || touch === 'cached' || touch === undefined) {
      this.o.secrets.notify?.(`Touch your YubiKey ${device.serial} now${touch === undefined ? ' if it blinks' : ''}.`);
    }
    let signature: Buffer;
    if (key.alg === ALG.ECCP256 || key.alg === ALG.ECCP384) {
      signature = await device.session.sign(slot, key.alg, ecdsaDigest(key.alg, data));
    } else if (key.alg === ALG.ED25519) {
      signature = await device.session.sign(slot, key.alg, data);
    } else if (isRsaAlg(key.alg)) {
      const bytes = rsaModulusBytes(key.alg);
      const raw = await device.session.sign(slot, key.alg, emsaPssEncode(data, bytes * 8));
      signature = padRsaSignature(raw, bytes);
    } else {
      throw new TufsignError('SCHEME_UNSUPPORTED', `cannot sign TUF metadata with ${ALG_NAMES[key.alg] ?? key.alg}`);
    }
    if (!this.publicKey.verify(signature, data)) {
      throw new TufsignError(
        'SIGNATURE_INVALID',
        `the signature from ${device.name} slot ${slotName(slot)} does not verify with ${this.publicKey.keyid().slice(0, 16)}…`,
        {
          rule: 'verify before saving',
          details: { scheme, serial: device.serial },
        },
      );
    }
    return { keyid: this.publicKey.keyid(), signature };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.o.onClose?.();
  }
}

export function tufKeyFor(key: SlotKey): Key {
  const scheme = schemeForAlg(key.alg);
  if (scheme === undefined) {
    throw new TufsignError(
      'SCHEME_UNSUPPORTED',
      `${ALG_NAMES[key.alg] ?? key.alg} keys cannot sign TUF metadata here`,
      {
        suggestion: 'Use ECCP256 (ecdsa-sha2-nistp256), Ed25519 (firmware 5.7+) or RSA 2048+ (rsassa-pss-sha256).',
      },
    );
  }
  return keyFromPublicKeyObject(key.publicKey, scheme);
}

/** The attestation JSON plus the device facts, for the public key file. */
export function attestationJson(facts: AttestationFacts): JsonObject {
  return attestationToJson(facts);
}

export function deviceInfoJson(info: DeviceInfo): JsonObject {
  const o = newObject();
  for (const [k, v] of Object.entries(info)) {
    if (v === undefined) continue;
    o[k] =
      k === 'slots'
        ? info.slots.map((s) => Object.fromEntries(Object.entries(s).filter(([, x]) => x !== undefined)))
        : (v as string | number | boolean);
  }
  return o;
}
