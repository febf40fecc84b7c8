/**
 * Which key a URI holds, known BEFORE any secret is asked. An encrypted
 * PKCS#8 key file has no public part outside its ciphertext, so its keyid is
 * read from this machine's own records: the workspace's tufsign.json mapping
 * the URI to a keyid, else the public key file beside it (`KEY.pem.pub.json`,
 * written with every key file tufsign generates). A device key (YubiKey slot,
 * PKCS#11 token) is read without a PIN. A key outside the plan is then
 * refused before its passphrase or PIN is spent (ADR 0008).
 */
import { fileExists, readFileBounded } from '../io/fs';
import { keyFilePath, type KeyRef } from '../keystore/key-ref';
import { parsePublicKeyFile, publicPartPath } from '../keystore/public-key-file';
import type { Key } from '../tuf/key';
import type { Workspace } from './workspace';

export { publicPartPath } from '../keystore/public-key-file';

export interface KnownKey {
  keyid: string;
  /** the public key, when the source holds it (a public part, a device); a workspace mapping names the keyid only */
  key?: Key;
  source: 'workspace' | 'public-part' | 'device';
  /** public-part only: the file it was read from */
  file?: string;
}

export interface IdentitySources {
  workspace?: Workspace | undefined;
  /** folder relative `file:` URIs resolve against */
  baseDir: string;
  /** the public key behind a device URI without a PIN (undefined when it is not here or cannot be read) */
  probe?(ref: KeyRef): Promise<Key | undefined>;
}

/** The key behind `ref` as this machine knows it without a secret, or undefined (a key file with nothing beside it). */
export async function keyBeforeSecret(ref: KeyRef, sources: IdentitySources): Promise<KnownKey | undefined> {
  for (const [keyid, e] of sources.workspace?.config.keys ?? [])
    if (e.ref?.uri === ref.uri) return { keyid, source: 'workspace' };
  if (ref.backend === 'file') {
    const file = publicPartPath(keyFilePath(ref, sources.baseDir));
    if (!fileExists(file)) return undefined;
    const pub = parsePublicKeyFile(readFileBounded(file, 1024 * 1024), file);
    return { keyid: pub.keyid, key: pub.key, source: 'public-part', file };
  }
  const key = await sources.probe?.(ref);
  return key === undefined ? undefined : { keyid: key.keyid(), key, source: 'device' };
}
