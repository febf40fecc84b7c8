/**
 * `tufsign key attach URI [--keyid KEYID]`: tell the workspace where the
 * private part of a key it already lists lives (a key imported public-only,
 * or one whose device moved). The URI's public key is read from the key
 * itself (file passphrase, PKCS#11 token, YubiKey slot) and must be the very
 * key the metadata lists, under every keyid it has (newest root and
 * delegations), before tufsign.json records the URI; nothing is signed.
 */
import { TufsignError } from '../errors';
import type { OpenOptions } from '../keystore/backend';
import { backendOfUri } from '../keystore/signer';
import { parseKeyRef } from '../keystore/key-ref';
import type { Key } from '../tuf/key';
import { TOP_LEVEL_ROLES } from '../tuf/metadata';
import type { KeyEntry } from './config';
import { readKey } from './keys';
import { resolveKeyid } from './rotation';
import { TargetsTree, type RoleNode } from './targets-tree';
import type { Workspace } from './workspace';

export interface KeyAttachOptions {
  /** the key meant (full keyid or unique prefix): the URI must hold exactly this key */
  keyid?: string;
  /** replace a URI already recorded for the key */
  replace?: boolean;
}

export interface KeyAttachResult {
  uri: string;
  scheme: string;
  /** every keyid of the workspace under which this public key is listed */
  keyids: string[];
  roles: string[];
  /** URIs recorded before (with --replace) */
  replaced: { keyid: string; uri: string }[];
}

interface KnownKey {
  key: Key;
  roles: Set<string>;
}

/** Every key the workspace's current metadata lists: the newest root's and every delegation's. */
export function workspaceKeys(ws: Workspace): Map<string, KnownKey> {
  const repo = ws.load();
  const root = repo.root.signed;
  const out = new Map<string, KnownKey>();
  const add = (keyid: string, key: Key, role: string): void => {
    const e = out.get(keyid) ?? { key, roles: new Set<string>() };
    e.roles.add(role);
    out.set(keyid, e);
  };
  for (const [keyid, key] of root.keys) {
    const roles = TOP_LEVEL_ROLES.filter((r) => root.role(r).keyids.includes(keyid));
    if (roles.length === 0) add(keyid, key, '(none)');
    for (const r of roles) add(keyid, key, r);
  }
  const tree = new TargetsTree(ws, repo);
  const visit = (node: RoleNode, seen: Set<string>): void => {
    const d = node.md.signed.delegations;
    if (d === undefined) return;
    for (const [keyid, key] of d.keys) {
      const roles = [
        ...(d.roles ?? []).filter((r) => r.keyids.includes(keyid)).map((r) => r.name),
        ...(d.succinctRoles?.keyids.includes(keyid) === true ? [`${d.succinctRoles.namePrefix}-*`] : []),
      ];
      for (const r of roles.length > 0 ? roles : [`(delegated by ${node.name})`]) add(keyid, key, r);
    }
    for (const r of d.roles ?? []) {
      if (seen.has(r.name) || !tree.snapshot.meta.has(`${r.name}.json`)) continue;
      visit(tree.child(node, r.name), new Set([...seen, r.name]));
    }
  };
  visit(tree.top, new Set(['targets']));
  return out;
}

export async function attachKey(
  ws: Workspace,
  uri: string,
  open: OpenOptions,
  options: KeyAttachOptions = {},
): Promise<KeyAttachResult> {
  if (backendOfUri(uri) === undefined)
    throw new TufsignError('KEY_URI_INVALID', `${JSON.stringify(uri)} is not a key URI`, {
      rule: 'key attach takes a file:, pkcs11: or yubikey: URI (a key whose private part tufsign can use)',
      suggestion: "For a key file: 'file:keys/NAME.pem' (relative to the workspace); see `tufsign key import --help`.",
    });
  const known = workspaceKeys(ws);
  const wanted = options.keyid === undefined ? undefined : resolveKeyid(options.keyid, known.keys(), 'workspace');
  // reading the public key may ask for the key file's passphrase or look at the device, never sign
  const ref = parseKeyRef(uri);
  const found = await readKey(ref, open);
  const pub = found.key;
  const matches = [...known].filter(([, k]) => k.key.scheme === pub.scheme && k.key.samePublicKey(pub));
  if (matches.length === 0) {
    throw new TufsignError(
      'KEY_MISMATCH',
      `the key at ${uri} (keyid ${pub.keyid()}, ${pub.scheme}) is not a key of this repository`,
      {
        rule: 'key attach records a URI only for a key the metadata lists',
        suggestion:
          'Check the URI (token, slot, file) with `tufsign key show URI`, and compare with `tufsign key list`.',
      },
    );
  }
  if (wanted !== undefined && !matches.some(([id]) => id === wanted)) {
    throw new TufsignError(
      'KEY_MISMATCH',
      `the key at ${uri} is not key ${wanted}: it is listed as ${matches.map(([id]) => id).join(', ')}`,
      {
        rule: 'the URI must hold the key named with --keyid',
        suggestion: 'Attach the URI that holds that key, or drop --keyid.',
      },
    );
  }
  const replaced: { keyid: string; uri: string }[] = [];
  for (const [keyid] of matches) {
    const before = ws.config.keys.get(keyid)?.ref?.uri;
    if (before !== undefined && before !== uri) replaced.push({ keyid, uri: before });
  }
  if (replaced.length > 0 && options.replace !== true) {
    throw new TufsignError(
      'USAGE',
      `key ${replaced[0]?.keyid} already has a URI (${replaced[0]?.uri}); pass --replace to change it`,
      { rule: 'a recorded key location is changed only on purpose' },
    );
  }
  for (const [keyid] of matches) {
    const entry: KeyEntry = { ...(ws.config.keys.get(keyid) ?? {}), ref };
    if (found.attestation !== undefined) entry.attestation = found.attestation;
    ws.config.keys.set(keyid, entry);
  }
  ws.saveConfig();
  return {
    uri,
    scheme: pub.scheme,
    keyids: matches.map(([id]) => id),
    roles: [...new Set(matches.flatMap(([, k]) => [...k.roles]))],
    replaced,
  };
}
