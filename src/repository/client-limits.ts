/** The size a metadata file will have once signed, checked against the clients' limits (src/verify/limits.ts). */
import type { Key } from '../tuf/key';
import type { Metadata, Role } from '../tuf/metadata';
import { serializeMetadata } from './workspace';

/** Bytes one signature entry adds to the pretty-printed file (keyid, hex signature, punctuation). */
function signatureAllowance(key: Key | undefined): number {
  // RSA-4096 signatures are 1024 hex characters; ECDSA DER up to ~210; ed25519 128.
  const sigHex = key === undefined || key.keytype === 'rsa' ? 1100 : 220;
  return 64 + sigHex + 48;
}

/** Size of `md` as written once every key of `role` has signed (an upper bound, computed before signing). */
export function projectedSize(md: Metadata, role: Role, keys: ReadonlyMap<string, Key>): number {
  const saved = new Map(md.signatures);
  md.clearSignatures();
  const bare = serializeMetadata(md);
  for (const s of saved.values()) md.addSignature(s);
  return projectedSizeOf(bare, role, keys);
}

/** The same from the text of the metadata with no signatures (`serializeMetadata` after `clearSignatures`). */
export function projectedSizeOf(unsigned: string, role: Role, keys: ReadonlyMap<string, Key>): number {
  return Buffer.byteLength(unsigned) + role.keyids.reduce((n, keyid) => n + signatureAllowance(keys.get(keyid)), 0);
}
