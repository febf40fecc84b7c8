/**
 * Process-wide PKCS#11 state: each module is loaded and C_Initialize'd once
 * (a module is process-global: a second C_Initialize of the same library fails),
 * and each token gets one session that logs in once. Everything is closed by
 * `closePkcs11()`, at exit, and on SIGINT/SIGTERM, so a Ctrl-C never leaves a
 * logged-in session behind.
 */
import { existsSync, statSync } from 'node:fs';
import { TufsignError } from '../../errors';
import { loadNative } from '../native';
import { moduleIdentity } from './modules';
import {
  CKF_LOGIN_REQUIRED,
  CKF_PROTECTED_AUTHENTICATION_PATH,
  CKF_RW_SESSION,
  CKF_SERIAL_SESSION,
  CKF_SO_PIN_LOCKED,
  CKF_TOKEN_INITIALIZED,
  CKF_USER_PIN_COUNT_LOW,
  CKF_USER_PIN_FINAL_TRY,
  CKF_USER_PIN_INITIALIZED,
  CKF_USER_PIN_LOCKED,
  CKF_USER_PIN_TO_BE_CHANGED,
  CKF_WRITE_PROTECTED,
  CKR,
  CKU_USER,
  ckrName,
  ckrOf,
  type Handle,
  type ModuleInfoRaw,
  type Pkcs11Api,
  type Pkcs11Module,
  type TokenInfoRaw,
} from './api';

export interface TokenFlags {
  tokenInitialized: boolean;
  loginRequired: boolean;
  userPinInitialized: boolean;
  pinCountLow: boolean;
  pinFinalTry: boolean;
  pinLocked: boolean;
  pinToBeChanged: boolean;
  soPinLocked: boolean;
  writeProtected: boolean;
  protectedAuthenticationPath: boolean;
}

export interface TokenDescription {
  slotId: number;
  slotDescription: string;
  slotManufacturer: string;
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
  flags: TokenFlags;
}

export function decodeTokenFlags(flags: number): TokenFlags {
  const has = (bit: number): boolean => (flags & bit) !== 0;
  return {
    tokenInitialized: has(CKF_TOKEN_INITIALIZED),
    loginRequired: has(CKF_LOGIN_REQUIRED),
    userPinInitialized: has(CKF_USER_PIN_INITIALIZED),
    pinCountLow: has(CKF_USER_PIN_COUNT_LOW),
    pinFinalTry: has(CKF_USER_PIN_FINAL_TRY),
    pinLocked: has(CKF_USER_PIN_LOCKED),
    pinToBeChanged: has(CKF_USER_PIN_TO_BE_CHANGED),
    soPinLocked: has(CKF_SO_PIN_LOCKED),
    writeProtected: has(CKF_WRITE_PROTECTED),
    protectedAuthenticationPath: has(CKF_PROTECTED_AUTHENTICATION_PATH),
  };
}

// PKCS#11 strings are fixed-width and blank padded; some modules also pad with NUL.
export function trimPadded(s: string): string {
  return s.replace(/[\s\0]+$/, '');
}

export function slotNumber(slot: Handle): number {
  return slot.length >= 8 ? Number(slot.readBigUInt64LE(0)) : slot.readUInt32LE(0);
}

/** Turn a CKR_* failure into an error a user can act on. */
export function deviceError(error: unknown, what: string, token?: TokenDescription): TufsignError {
  if (error instanceof TufsignError) return error;
  const code = ckrOf(error);
  const name = ckrName(error);
  const where = token === undefined ? '' : ` on token "${token.label}"`;
  const details = { ckr: name };
  switch (code) {
    case CKR.TOKEN_NOT_PRESENT:
    case CKR.DEVICE_REMOVED:
    case CKR.TOKEN_NOT_RECOGNIZED:
      return new TufsignError('TOKEN_NOT_PRESENT', `${what}: the token was removed or is not present (${name})`, {
        rule: 'BAD-55 name the missing component',
        suggestion:
          'Insert or reconnect the token (check the cable, the network HSM connection or pcscd), then run the command again.',
        details,
        cause: error,
      });
    case CKR.MECHANISM_INVALID:
    case CKR.MECHANISM_PARAM_INVALID:
    case CKR.KEY_TYPE_INCONSISTENT:
      return new TufsignError(
        'MECHANISM_UNSUPPORTED',
        `${what}: the token refused the signing mechanism${where} (${name})`,
        {
          rule: 'PKCS#11 mechanism',
          suggestion:
            'Run `tufsign devices` to see which schemes this token can do, and use a key of one of those schemes.',
          details,
          cause: error,
        },
      );
    case CKR.PIN_LOCKED:
      return pinLockedError(token, error);
    case CKR.USER_NOT_LOGGED_IN:
      return new TufsignError('DEVICE_ERROR', `${what}: the token logged the session out${where} (${name})`, {
        suggestion: 'Run the command again; you will be asked for the PIN once more.',
        details,
        cause: error,
      });
    case CKR.KEY_FUNCTION_NOT_PERMITTED:
      return new TufsignError('KEY_MISMATCH', `${what}: the key${where} is not allowed to sign (CKA_SIGN is false)`, {
        rule: 'signing keys have CKA_SIGN=true',
        suggestion: 'Generate a signing key with `tufsign key generate --backend pkcs11`.',
        details,
        cause: error,
      });
    default:
      return new TufsignError('DEVICE_ERROR', `${what}: the PKCS#11 module reported ${name}${where}`, {
        suggestion: 'Check the token with `tufsign devices`; run again with --debug for details.',
        details,
        cause: error,
      });
  }
}

export function pinLockedError(token: TokenDescription | undefined, cause?: unknown): TufsignError {
  const name =
    token === undefined
      ? 'the token'
      : `token "${token.label}"${token.serial === '' ? '' : ` (serial ${token.serial})`}`;
  return new TufsignError('PIN_LOCKED', `the user PIN of ${name} is locked`, {
    rule: 'BAD-54 a locked PIN needs the security officer',
    suggestion:
      'Unlock or reset the user PIN with the security officer (SO) PIN using the vendor tool (for SoftHSM2: softhsm2-util; for a YubiKey: ykman piv access unblock-pin). tufsign never resets PINs.',
    details: { pinLocked: true },
    cause,
  });
}

/** One token session: opened once, logged in at most once per run. */
export class TokenSession {
  loggedIn = false;
  /** Signers using this session; an error only closes a session nobody else uses. */
  users = 0;
  /** A login in progress, so two signers on one token ask for the PIN once. */
  pendingLogin: Promise<void> | undefined;
  constructor(
    readonly module: LoadedModule,
    readonly slot: Handle,
    readonly handle: Handle,
    readonly token: TokenDescription,
    readonly readWrite: boolean,
  ) {}

  get api(): Pkcs11Api {
    return this.module.api;
  }

  /** Current flags (they change with every failed login). */
  flags(): TokenFlags {
    try {
      return decodeTokenFlags(this.api.C_GetTokenInfo(this.slot).flags);
    } catch (e) {
      throw deviceError(e, 'reading the token state', this.token);
    }
  }

  /**
   * Log in with a PIN; never retries. `pin` is zeroed by the caller. pkcs11js
   * only takes a JS string, so the PIN lives in an immutable string for the
   * duration of the call; that is the binding's limit, not a choice.
   */
  login(pin: Buffer | undefined, userType: number = CKU_USER): void {
    if (this.loggedIn && userType === CKU_USER) return;
    try {
      this.api.C_Login(this.handle, userType, pin === undefined ? undefined : pin.toString('utf8'));
      if (userType === CKU_USER) this.loggedIn = true;
    } catch (e) {
      const code = ckrOf(e);
      if (code === CKR.USER_ALREADY_LOGGED_IN && userType === CKU_USER) {
        this.loggedIn = true;
        return;
      }
      if (code === CKR.PIN_INCORRECT || code === CKR.PIN_INVALID || code === CKR.PIN_LEN_RANGE) {
        let flags: TokenFlags | undefined;
        try {
          flags = this.flags();
        } catch {
          flags = undefined;
        }
        if (flags?.pinLocked === true) throw pinLockedError(this.token, e);
        const finalTry = flags?.pinFinalTry === true;
        const countLow = flags?.pinCountLow === true;
        const remaining = finalTry
          ? 'ONE try is left before the PIN locks'
          : countLow
            ? 'the token reports that few tries are left'
            : 'the token does not say how many tries are left';
        throw new TufsignError('PIN_INCORRECT', `wrong PIN for token "${this.token.label}"; ${remaining}`, {
          rule: 'BAD-53 wrong PIN: no automatic retry',
          suggestion: finalTry
            ? 'Stop and make sure you have the right PIN before trying again: the next wrong PIN locks the token.'
            : 'Run the command again with the right PIN (check TUFSIGN_PIN or the pin-source file if you use them).',
          details: {
            pinCountLow: countLow,
            pinFinalTry: finalTry,
            pinLocked: false,
            ...(finalTry ? { retriesLeft: 1 } : {}),
            ckr: ckrName(e),
          },
          cause: e,
        });
      }
      if (code === CKR.PIN_EXPIRED) {
        throw new TufsignError(
          'PIN_LOCKED',
          `the user PIN of token "${this.token.label}" has expired and must be changed`,
          {
            rule: 'PKCS#11 CKR_PIN_EXPIRED',
            suggestion: "Change the user PIN with the token vendor's tool, then run the command again.",
            cause: e,
          },
        );
      }
      if (code === CKR.USER_PIN_NOT_INITIALIZED) {
        throw new TufsignError('DEVICE_ERROR', `token "${this.token.label}" has no user PIN yet`, {
          suggestion:
            "Initialize the user PIN with the token vendor's tool (for SoftHSM2: softhsm2-util --init-token).",
          cause: e,
        });
      }
      throw deviceError(e, 'logging in', this.token);
    }
  }

  close(): void {
    this.module.sessions.delete(this.module.slotKey(this.slot));
    try {
      if (this.loggedIn) this.api.C_Logout(this.handle);
    } catch {
      // the session may already be gone (token removed); closing is best effort
    }
    try {
      this.api.C_CloseSession(this.handle);
    } catch {
      // same
    }
    this.loggedIn = false;
  }
}

/** A loaded, initialized PKCS#11 library. */
export class LoadedModule {
  readonly sessions = new Map<string, TokenSession>();
  private cachedInfo: ModuleInfoRaw | undefined;
  constructor(
    readonly path: string,
    readonly api: Pkcs11Api,
    readonly binding: Pkcs11Module,
    private readonly ownsInitialization: boolean,
  ) {}

  slotKey(slot: Handle): string {
    return slot.toString('hex');
  }

  info(): ModuleInfoRaw {
    if (this.cachedInfo === undefined) {
      try {
        this.cachedInfo = this.api.C_GetInfo();
      } catch (e) {
        throw deviceError(e, `reading the PKCS#11 module ${this.path}`);
      }
    }
    return this.cachedInfo;
  }

  describeSlot(slot: Handle): TokenDescription {
    const slotInfo = this.api.C_GetSlotInfo(slot);
    const t: TokenInfoRaw = this.api.C_GetTokenInfo(slot);
    return {
      slotId: slotNumber(slot),
      slotDescription: trimPadded(slotInfo.slotDescription),
      slotManufacturer: trimPadded(slotInfo.manufacturerID),
      label: trimPadded(t.label),
      manufacturer: trimPadded(t.manufacturerID),
      model: trimPadded(t.model),
      serial: trimPadded(t.serialNumber),
      flags: decodeTokenFlags(t.flags),
    };
  }

  /** Slots with a token present, described; unreadable slots are skipped (a reader mid-removal). */
  tokens(): { slot: Handle; token: TokenDescription }[] {
    let slots: Handle[];
    try {
      slots = this.api.C_GetSlotList(true);
    } catch (e) {
      throw deviceError(e, `listing the slots of ${this.path}`);
    }
    const out: { slot: Handle; token: TokenDescription }[] = [];
    for (const slot of slots) {
      try {
        out.push({ slot, token: this.describeSlot(slot) });
      } catch {
        // not present any more
      }
    }
    return out;
  }

  mechanisms(slot: Handle, token?: TokenDescription): Set<number> {
    try {
      return new Set(this.api.C_GetMechanismList(slot));
    } catch (e) {
      throw deviceError(e, 'listing the mechanisms', token);
    }
  }

  /** The one session for this token; opened read-write where the token allows it. */
  session(slot: Handle, token: TokenDescription): TokenSession {
    const key = this.slotKey(slot);
    const existing = this.sessions.get(key);
    if (existing !== undefined) return existing;
    let handle: Handle;
    let readWrite = true;
    try {
      handle = this.api.C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    } catch (e) {
      if (ckrOf(e) !== CKR.TOKEN_WRITE_PROTECTED) throw deviceError(e, 'opening a session', token);
      readWrite = false;
      try {
        handle = this.api.C_OpenSession(slot, CKF_SERIAL_SESSION);
      } catch (e2) {
        throw deviceError(e2, 'opening a session', token);
      }
    }
    const s = new TokenSession(this, slot, handle, token, readWrite);
    this.sessions.set(key, s);
    return s;
  }

  closeSessions(): void {
    for (const s of [...this.sessions.values()]) s.close();
  }

  finalize(): void {
    this.closeSessions();
    if (!this.ownsInitialization) return;
    try {
      this.api.C_Finalize();
    } catch {
      // already finalized by someone else in this process
    }
    try {
      this.api.close();
    } catch {
      // the library stays mapped; harmless
    }
  }
}

const modules = new Map<string, LoadedModule>();

export function moduleLoadError(path: string, message: string, cause?: unknown): TufsignError {
  return new TufsignError('MODULE_LOAD_FAILED', `the PKCS#11 module ${path} could not be loaded: ${message}`, {
    file: path,
    rule: 'a PKCS#11 URI needs a loadable module',
    suggestion:
      "Check the path (module-path= in the URI, pkcs11Module in tufsign.json, or TUFSIGN_PKCS11_MODULE). It must be the vendor's PKCS#11 library (.so/.dylib/.dll) for this machine's architecture; e.g. /usr/lib/softhsm/libsofthsm2.so (apt install softhsm2), /usr/lib/x86_64-linux-gnu/libykcs11.so (apt install ykcs11).",
    cause,
  });
}

/** Load and initialize a module once per process. */
export function loadModule(path: string): LoadedModule {
  const identity = moduleIdentity(path);
  const cached = modules.get(identity);
  if (cached !== undefined) return cached;
  if (!existsSync(path)) throw moduleLoadError(path, 'no such file');
  if (!statSync(path).isFile()) throw moduleLoadError(path, 'not a file');
  const binding = loadNative<Pkcs11Module>('pkcs11js', 'PKCS#11 keys (pkcs11: URIs)');
  const api = new binding.PKCS11();
  try {
    api.load(path);
  } catch (e) {
    throw moduleLoadError(path, ckrName(e), e);
  }
  let owns = true;
  try {
    api.C_Initialize();
  } catch (e) {
    // Someone else in this process initialized the library: share it, never finalize it.
    if (ckrOf(e) === CKR.CRYPTOKI_ALREADY_INITIALIZED) owns = false;
    else
      throw moduleLoadError(
        path,
        `C_Initialize failed (${ckrName(e)}); the module's own configuration may be missing or wrong (for SoftHSM2: SOFTHSM2_CONF)`,
        e,
      );
  }
  const m = new LoadedModule(path, api, binding, owns);
  modules.set(identity, m);
  installExitHooks();
  return m;
}

export function loadedModules(): LoadedModule[] {
  return [...modules.values()];
}

/**
 * Log out, close every session and (with `finalize`) C_Finalize every module.
 * The next use loads the module again, re-reading its configuration.
 */
export function closePkcs11(options: { finalize?: boolean } = {}): void {
  for (const m of modules.values()) {
    if (options.finalize === true) m.finalize();
    else m.closeSessions();
  }
  if (options.finalize === true) {
    modules.clear();
    removeExitHooks();
  }
}

let hooksInstalled = false;
const onExit = (): void => closePkcs11({ finalize: true });
const onSignal = (signal: NodeJS.Signals): void => {
  closePkcs11({ finalize: true });
  // Keep the default behaviour (terminate) unless the application handles the signal itself.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
};

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

function removeExitHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.removeListener('exit', onExit);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
}
