/** What a use case is given to sign with: the reference time, signers by URI, and a progress line writer. */
import type { Key } from '../tuf/key';
import type { Signer } from '../keystore/signer';

export interface SigningContext {
  now: Date;
  /** Open (or reuse) a signer for `uri`, refusing a key other than `expectedKey`; `role` names what it signs (for messages). */
  openSigner(uri: string, expectedKey: Key, role?: string): Promise<Signer>;
  /** Progress for stderr. */
  progress?(message: string): void;
}

export interface CeremonyContext extends SigningContext {
  /** `tufsign <version>`, recorded in transcripts */
  tool: string;
  /** open a signer when the key it holds is not known in advance (`ceremony sign --key URI`) */
  openAnySigner(uri: string): Promise<Signer>;
}
