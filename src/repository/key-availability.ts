/** Which keys this machine can sign with: a `file:` key whose file is absent is left for a ceremony. */
import { fileExists } from '../io/fs';
import { keyFilePath } from '../keystore/key-ref';
import type { KeyEntry, WorkspaceConfig } from './config';
import type { Workspace } from './workspace';

/**
 * The config as this machine can use it for signing: a `file:` key whose file
 * is not here is treated like a key held elsewhere (left for the ceremony)
 * instead of failing the whole operation.
 */
export function presentKeysConfig(
  ws: Workspace,
  config: Pick<WorkspaceConfig, 'keys'> = ws.config,
): Pick<WorkspaceConfig, 'keys'> {
  const keys = new Map<string, KeyEntry>();
  for (const [keyid, e] of config.keys) {
    if (e.ref?.backend === 'file' && !fileExists(keyFilePath(e.ref, ws.dir))) {
      const { ref: _absent, ...rest } = e;
      keys.set(keyid, rest);
    } else keys.set(keyid, e);
  }
  return { keys };
}

/**
 * Offline key files (tufsign.json `"offline": true`, a `file:` URI) still present on this machine: init writes
 * them to offline-keys/ to be moved to their keyholders (ADR 0011). Only their presence is checked (stat),
 * never their content.
 */
export function offlineKeyFilesHere(ws: Workspace): { keyid: string; uri: string }[] {
  const out: { keyid: string; uri: string }[] = [];
  for (const [keyid, e] of ws.config.keys)
    if (e.offline === true && e.ref?.backend === 'file' && fileExists(keyFilePath(e.ref, ws.dir)))
      out.push({ keyid, uri: e.ref.uri });
  return out;
}
