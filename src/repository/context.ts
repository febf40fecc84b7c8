/** What a use case is given to sign with: the reference time, signers by URI, and a progress line writer. */
import type { Key } from '../tuf/key';
import type { Signer } from '../keystore/signer';
import type { ConfiguredKeyRef, KeyRef } from '../keystore/key-ref';
import type { ProgressCallback } from '../release';

/** A key a signing run will use: where it lives, the key it must be, the role it signs. */
export interface PlannedKey {
  ref: ConfiguredKeyRef;
  key: Key;
  role: string;
}

export interface SigningContext {
  now: Date;
  /**
   * Open (or reuse) a signer for `ref`, refusing a key other than `expectedKey`; `role` names what it signs (for
   * messages). An `UnusableKeyRef` (a `tufsign.json` URI that did not parse) rejects with its parse error.
   */
  openSigner(ref: ConfiguredKeyRef, expectedKey: Key, role?: string): Promise<Signer>;
  /**
   * Check every device these keys need — present, right serial, right key, PIN tries left, attested under the
   * root-key policy — before the first PIN or touch of the run; a missing one is named and nothing is spent.
   */
  preflight?(keys: readonly PlannedKey[]): Promise<void>;
  /**
   * Start opening these keys in the background, where that can ask nobody anything (no terminal, `file:` keys
   * only): an encrypted key file's PBKDF2 then runs on another thread while the repository is read. A failure
   * is kept for the moment the key is really needed, which reports it as before.
   */
  warm?(keys: readonly PlannedKey[]): void;
  /** Progress for stderr. */
  progress?(message: string): void;
  /** Counted progress of long steps (thousands of roles signed, files written): one updating line on a terminal. */
  report?: ProgressCallback;
}

export interface CeremonyContext extends SigningContext {
  /** `tufsign <version>`, recorded in transcripts */
  tool: string;
  /** open a signer when the key it holds is not known in advance (`ceremony sign --key URI`) */
  openAnySigner(ref: KeyRef): Promise<Signer>;
}
