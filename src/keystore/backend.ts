/** What a key backend offers to the composition root: open a signer by URI, generate keys, describe devices. */
import type { JsonObject } from '../tuf/json';
import type { Key, Scheme } from '../tuf/key';
import type { KeyRef } from './key-ref';
import type { SecretsHandler, Signer } from './signer';
import type { KeyPolicy } from './yubikey/claims';

export interface OpenOptions {
  secrets: SecretsHandler;
  /** Directory relative `file:` URIs resolve against (the workspace). */
  baseDir: string;
  /** The public key the role expects; backends check it before asking for a PIN (BAD-57). */
  expectedKey?: Key;
  env: NodeJS.ProcessEnv;
  /** PKCS#11 module from the workspace config, used when the URI has no module-path. */
  pkcs11Module?: string;
  /** The run's clock (TUFSIGN_NOW): attestation certificates must be valid at this instant. */
  now?: Date;
  /** Extra trusted YubiKey attestation roots (PEM), beside Yubico's (`--attestation-ca`, the workspace policy). */
  attestationRoots?: readonly string[];
  /** `key attest URI`: report why a device's attestation fails instead of returning the key without one. */
  requireAttestation?: boolean;
  /**
   * Under the workspace's root-key policy: the device re-attests the slot at every connection, before any PIN
   * is asked, and the facts must still meet the policy (and name the serial recorded when the key was added).
   */
  attestationPolicy?: { policy: KeyPolicy; attestedSerial?: number };
}

export interface GenerateRequest {
  scheme: Scheme;
  /** file backend: where to write the encrypted key file */
  outFile?: string;
  /** pkcs11: token label; yubikey: ignored */
  token?: string;
  /** pkcs11: object label */
  label?: string;
  /** pkcs11: module path */
  module?: string;
  /** yubikey */
  serial?: number;
  slot?: string;
  pinPolicy?: 'always' | 'once' | 'never' | 'default';
  touchPolicy?: 'always' | 'cached' | 'never' | 'default';
  allowDefaultManagementKey?: boolean;
  /** yubikey: the folder of the generation journal that lets a re-run after a kill finish the key (ADR 0007) */
  journalDir?: string;
  /** the key a public key file for this request already holds (an earlier run got that far), if any */
  recordedKey?: Key;
}

export interface GeneratedKey {
  uri: string;
  publicKey: Key;
  /** Backend-specific facts carried into the public key file (attestation, serial, policies). */
  attestation?: JsonObject;
  /** found on the device, made by an earlier (interrupted) run of the same request: no key was made now */
  resumed?: true;
  /** a journal of this generation, to remove once the outputs are written (ADR 0007) */
  journal?: string;
}

export interface DeviceReport {
  backend: 'pkcs11' | 'yubikey';
  available: boolean;
  /** When unavailable or degraded: what is missing, and how to fix it. */
  problems: { message: string; suggestion: string }[];
  devices: JsonObject[];
}

/** A backend opens only references of its own scheme, already parsed (`parseKeyRef`): it never parses a URI. */
export interface KeyBackend<R extends KeyRef = KeyRef> {
  open(ref: R, options: OpenOptions): Promise<Signer>;
  /**
   * Check, without a PIN, a touch or a login, that the device holding `uri` is present and holds
   * `options.expectedKey` (the run's pre-flight). Backends whose `open` already costs no PIN leave it out.
   */
  preflight?(ref: R, options: OpenOptions): Promise<void>;
  generate?(request: GenerateRequest, options: OpenOptions): Promise<GeneratedKey>;
  /**
   * The key an interrupted `generate` of this same request left on the device (found by its name or its journal,
   * checked), or undefined when there is none; anything else there is refused, never replaced.
   */
  resumeGenerate?(request: GenerateRequest, options: OpenOptions): Promise<GeneratedKey | undefined>;
  /** Read the public key for a URI without signing (for `key import` / `key show`). */
  readPublicKey?(ref: R, options: OpenOptions): Promise<GeneratedKey>;
  listDevices?(options: OpenOptions): Promise<DeviceReport>;
}

/** A backend that can also read the public key a reference holds (all three do). */
export type ReadableKeyBackend<R extends KeyRef> = KeyBackend<R> & Required<Pick<KeyBackend<R>, 'readPublicKey'>>;
