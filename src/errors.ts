/**
 * Typed error codes used everywhere inside tufsign. Core modules throw
 * `TufsignError`; exactly one place (src/cli/exit.ts) maps codes to exit codes
 * and renders them.
 */

/** Exit-code families. The numbers are part of the CLI contract (docs/exit-codes.md). */
export const ExitCode = {
  OK: 0,
  VERIFY_FAILED: 1,
  USAGE: 2,
  INVALID_INPUT: 3,
  THRESHOLD: 4,
  KEY: 5,
  DEVICE: 6,
  CEREMONY: 7,
  IO: 8,
  DEPENDENCY: 9,
  INTERNAL: 10,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

const CODES = {
  // input / parsing
  JSON_SYNTAX: ExitCode.INVALID_INPUT,
  JSON_DUPLICATE_KEY: ExitCode.INVALID_INPUT,
  JSON_NUMBER: ExitCode.INVALID_INPUT,
  JSON_STRING: ExitCode.INVALID_INPUT,
  JSON_FORBIDDEN_KEY: ExitCode.INVALID_INPUT,
  JSON_TOO_DEEP: ExitCode.INVALID_INPUT,
  FILE_TOO_LARGE: ExitCode.INVALID_INPUT,
  METADATA_SCHEMA: ExitCode.INVALID_INPUT,
  METADATA_TYPE: ExitCode.INVALID_INPUT,
  CANONICAL_JSON: ExitCode.INVALID_INPUT,
  KEY_INVALID: ExitCode.INVALID_INPUT,
  KEYID_MISMATCH: ExitCode.INVALID_INPUT,
  DUPLICATE_KEY: ExitCode.INVALID_INPUT,
  PATH_UNSAFE: ExitCode.INVALID_INPUT,
  PATH_COLLISION: ExitCode.INVALID_INPUT,
  EXPIRY_INVALID: ExitCode.INVALID_INPUT,
  THRESHOLD_INVALID: ExitCode.INVALID_INPUT,
  ROLE_INVALID: ExitCode.INVALID_INPUT,
  VERSION_INVALID: ExitCode.INVALID_INPUT,
  CONFIG_INVALID: ExitCode.INVALID_INPUT,
  TARGET_NOT_FOUND: ExitCode.INVALID_INPUT,
  RELEASE_INVALID: ExitCode.INVALID_INPUT,
  RELEASE_FILE_TYPE: ExitCode.INVALID_INPUT,
  RELEASE_FILE_CHANGED: ExitCode.INVALID_INPUT,
  RELEASE_NOT_NEWER: ExitCode.INVALID_INPUT,
  BUNDLE_INVALID: ExitCode.INVALID_INPUT,
  ARCHIVE_INVALID: ExitCode.INVALID_INPUT,
  WORKSPACE_NOT_FOUND: ExitCode.INVALID_INPUT,
  WORKSPACE_EXISTS: ExitCode.INVALID_INPUT,
  METADATA_TOO_LARGE: ExitCode.INVALID_INPUT,
  PATH_NOT_DELEGATED: ExitCode.INVALID_INPUT,
  IMPORT_REFUSED: ExitCode.INVALID_INPUT,
  // verification
  SIGNATURE_INVALID: ExitCode.VERIFY_FAILED,
  VERIFY_FAILED: ExitCode.VERIFY_FAILED,
  METADATA_EXPIRED: ExitCode.VERIFY_FAILED,
  ROLLBACK: ExitCode.VERIFY_FAILED,
  // `status --check`: the alert an operator's cron job acts on
  ROLE_EXPIRED: ExitCode.VERIFY_FAILED,
  RESIGN_DUE: ExitCode.VERIFY_FAILED,
  // thresholds
  THRESHOLD_NOT_MET: ExitCode.THRESHOLD,
  SIGNATURES_MISSING: ExitCode.THRESHOLD,
  // keys and secrets
  KEY_NOT_FOUND: ExitCode.KEY,
  KEY_FILE_PERMISSIONS: ExitCode.KEY,
  KEY_FILE_INVALID: ExitCode.KEY,
  KEY_FILE_WEAK_KDF: ExitCode.KEY,
  WRONG_PASSPHRASE: ExitCode.KEY,
  SECRET_REQUIRED: ExitCode.KEY,
  OFFLINE_KEY_UNAVAILABLE: ExitCode.KEY,
  SECRET_IN_ARGV: ExitCode.USAGE,
  KEY_URI_INVALID: ExitCode.USAGE,
  SCHEME_UNSUPPORTED: ExitCode.KEY,
  KEY_MISMATCH: ExitCode.KEY,
  KEY_IDENTITY_UNKNOWN: ExitCode.KEY,
  // devices (PKCS#11, YubiKey)
  PIN_INCORRECT: ExitCode.DEVICE,
  PIN_LOCKED: ExitCode.DEVICE,
  TOKEN_NOT_PRESENT: ExitCode.DEVICE,
  TOKEN_AMBIGUOUS: ExitCode.DEVICE,
  KEY_AMBIGUOUS: ExitCode.DEVICE,
  MECHANISM_UNSUPPORTED: ExitCode.DEVICE,
  MODULE_LOAD_FAILED: ExitCode.DEVICE,
  DEVICE_ERROR: ExitCode.DEVICE,
  WRONG_DEVICE: ExitCode.DEVICE,
  TOUCH_TIMEOUT: ExitCode.DEVICE,
  CARD_REMOVED: ExitCode.DEVICE,
  NO_READER: ExitCode.DEVICE,
  PCSCD_NOT_RUNNING: ExitCode.DEVICE,
  FIRMWARE_UNSUPPORTED: ExitCode.DEVICE,
  MESSAGE_TOO_LARGE: ExitCode.DEVICE,
  MANAGEMENT_KEY_DEFAULT: ExitCode.DEVICE,
  MANAGEMENT_KEY_INCORRECT: ExitCode.DEVICE,
  ATTESTATION_INVALID: ExitCode.KEY,
  ATTESTATION_CLAIM_MISMATCH: ExitCode.KEY,
  ATTESTATION_UNTRUSTED: ExitCode.KEY,
  ATTESTATION_EXPIRED: ExitCode.KEY,
  POLICY_VIOLATION: ExitCode.KEY,
  SLOT_IN_USE: ExitCode.DEVICE,
  PIN_DEFAULT: ExitCode.DEVICE,
  // ceremony
  REQUEST_INVALID: ExitCode.CEREMONY,
  REQUEST_PAYLOAD_CHANGED: ExitCode.CEREMONY,
  REQUEST_FOREIGN: ExitCode.CEREMONY,
  TRANSCRIPT_BROKEN: ExitCode.CEREMONY,
  SIGNATURE_REFUSED: ExitCode.CEREMONY,
  MERGE_CONFLICT: ExitCode.CEREMONY,
  EXPIRY_TOO_SHORT: ExitCode.CEREMONY,
  EXPIRY_TOO_LONG: ExitCode.CEREMONY,
  REQUEST_STALE: ExitCode.CEREMONY,
  FINGERPRINT_REQUIRED: ExitCode.CEREMONY,
  FINGERPRINT_MISMATCH: ExitCode.CEREMONY,
  NOTHING_SIGNED: ExitCode.CEREMONY,
  REQUEST_FORMAT_UNSUPPORTED: ExitCode.CEREMONY,
  TRUST_UNANCHORED: ExitCode.CEREMONY,
  TRUST_CHAIN_INVALID: ExitCode.CEREMONY,
  TRUST_BASIS_INVALID: ExitCode.CEREMONY,
  ROLE_CHANGE_PENDING: ExitCode.CEREMONY,
  // environment
  NO_TTY: ExitCode.USAGE,
  USAGE: ExitCode.USAGE,
  DEPENDENCY_MISSING: ExitCode.DEPENDENCY,
  IO_ERROR: ExitCode.IO,
  WORKSPACE_BUSY: ExitCode.IO,
  ABORTED: ExitCode.USAGE,
  INTERNAL: ExitCode.INTERNAL,
} as const satisfies Record<string, ExitCodeValue>;

export type ErrorCode = keyof typeof CODES;

export interface ErrorContext {
  /** The file the problem is in, as the user named it. */
  file?: string | undefined;
  /** JSON path (`$.signed.roles.root.threshold`), archive entry, or field. */
  path?: string | undefined;
  /** The rule that was broken (e.g. `SPEC-15`, `BAD-04`, or a short phrase). */
  rule?: string | undefined;
  /** One line telling the user what to do next. */
  suggestion?: string | undefined;
  /** Structured extra data for `--json` error output (never secrets). */
  details?: Record<string, unknown> | undefined;
  cause?: unknown;
}

export class TufsignError extends Error {
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly path: string | undefined;
  readonly rule: string | undefined;
  readonly suggestion: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'TufsignError';
    this.code = code;
    this.file = context.file;
    this.path = context.path;
    this.rule = context.rule;
    this.suggestion = context.suggestion;
    this.details = context.details;
  }

  /** Same error with the file filled in (for errors raised below the layer that knows the file name). */
  inFile(file: string): TufsignError {
    if (this.file !== undefined) return this;
    return new TufsignError(this.code, this.message, {
      file,
      path: this.path,
      rule: this.rule,
      suggestion: this.suggestion,
      details: this.details,
      cause: this.cause,
    });
  }
}

export function exitCodeFor(code: ErrorCode): ExitCodeValue {
  return CODES[code];
}

export function isTufsignError(error: unknown, code?: ErrorCode): error is TufsignError {
  return error instanceof TufsignError && (code === undefined || error.code === code);
}

/** All codes, for documentation and tests. */
export const ALL_ERROR_CODES = Object.keys(CODES) as ErrorCode[];
