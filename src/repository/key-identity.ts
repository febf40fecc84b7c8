/**
 * Which key a URI holds, known BEFORE any secret is asked. An encrypted
 * PKCS#8 key file has no public part outside its ciphertext, so its keyid is
 * read from this machine's own records: the workspace's tufsign.json mapping
 * the URI to a keyid, else the public key file beside it (`KEY.pem.pub.json`,
 * written with every key file tufsign generates). A device key (YubiKey slot,
 * PKCS#11 token) is read without a PIN. A key outside the plan is then
 * refused before its passphrase or PIN is spent (ADR 0008).
 */
import { join } from 'node:path';
import { isTufsignError } from '../errors';
import { fileExists, listEntries, pathKind, readFileBounded, readPlainFile } from '../io/fs';
import { keyFilePath, parseKeyRef, type KeyRef } from '../keystore/key-ref';
import { parsePublicKeyFile, publicPartPath, PUBLIC_PART_SUFFIX } from '../keystore/public-key-file';
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

/** The folder a keyholder keeps key files in (`key generate --out keys/NAME.pem`), relative to where they work. */
export const KEY_FOLDER = 'keys';
/** More key files than anyone keeps: the rest of a flooded folder is not looked at. */
export const MAX_KEY_FOLDER_FILES = 256;
/** A public key file is a few hundred bytes (a YubiKey's, with its attestation, a few KiB). */
const MAX_PUBLIC_PART_BYTES = 64 * 1024;

export interface KeyFolderScan {
  /** key files whose public part names a key: a claim, checked again when the file is opened (KEY_MISMATCH) */
  found: { ref: KeyRef; key: Key; file: string }[];
  /** key files with no public part beside them: which key they hold is unknown before the passphrase */
  unidentified: KeyRef[];
  /** entries not looked at, and why (a symlink, a FIFO, too large, not a public key file, too many files) */
  skipped: { name: string; why: string }[];
}

/**
 * The `*.pem` key files in `baseDir/keys/` and the public parts beside them, read without trusting either: only
 * regular files (a symlink, FIFO or device is never opened or followed), public parts of at most 64 KiB, at most
 * 256 key files. Nothing is decrypted; what a public part claims only decides whether the key is offered.
 */
export function scanKeyFolder(baseDir: string): KeyFolderScan {
  const out: KeyFolderScan = { found: [], unidentified: [], skipped: [] };
  const dir = join(baseDir, KEY_FOLDER);
  if (pathKind(dir) !== 'directory') return out;
  let names: string[];
  try {
    names = listEntries(dir)
      .map((e) => e.name)
      .filter((n) => n.endsWith('.pem'))
      .sort();
  } catch {
    return out;
  }
  if (names.length > MAX_KEY_FOLDER_FILES) {
    out.skipped.push({
      name: `${KEY_FOLDER}/`,
      why: `${names.length} key files; only the first ${MAX_KEY_FOLDER_FILES} by name were looked at`,
    });
    names = names.slice(0, MAX_KEY_FOLDER_FILES);
  }
  for (const name of names) {
    const shown = `${KEY_FOLDER}/${name}`;
    // the key file itself is not read here: a symlink, FIFO or device is not a key file to offer
    if (pathKind(join(dir, name)) !== 'file') {
      out.skipped.push({ name: shown, why: 'not a regular file (a symlink, a folder, a FIFO or a device)' });
      continue;
    }
    let ref: KeyRef;
    try {
      ref = parseKeyRef(`file:${shown}`);
    } catch {
      out.skipped.push({ name: shown, why: 'a name a key URI cannot hold' });
      continue;
    }
    const partPath = join(dir, `${name}${PUBLIC_PART_SUFFIX}`);
    if (pathKind(partPath) === 'missing') {
      out.unidentified.push(ref);
      continue;
    }
    const part = readPlainFile(partPath, MAX_PUBLIC_PART_BYTES);
    if ('skipped' in part) {
      out.skipped.push({ name: `${shown}${PUBLIC_PART_SUFFIX}`, why: part.skipped });
      continue;
    }
    try {
      const pub = parsePublicKeyFile(part.data, partPath);
      out.found.push({ ref, key: pub.key, file: partPath });
    } catch (e) {
      if (!isTufsignError(e)) throw e;
      out.skipped.push({ name: `${shown}${PUBLIC_PART_SUFFIX}`, why: `not a public key file (${e.code})` });
    }
  }
  return out;
}
