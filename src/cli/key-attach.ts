/** `tufsign key attach` for the command: open the workspace, run the use case, render for people. */
import { attachKey, type KeyAttachOptions, type KeyAttachResult } from '../repository/key-attach';
import { Workspace } from '../repository/workspace';
import type { RunContext } from './context';

export async function attachKeyInWorkspace(
  dir: string,
  uri: string,
  options: KeyAttachOptions,
  ctx: RunContext,
): Promise<KeyAttachResult> {
  const ws = Workspace.open(dir);
  return attachKey(ws, uri, ctx.openOptions(ws.dir, ws), options);
}

export function renderKeyAttach(r: KeyAttachResult): string {
  return [
    `attached ${r.uri} to key ${r.keyids.join(', ')} (${r.scheme}; ${r.roles.join(', ')})`,
    ...r.replaced.map((p) => `  replaced ${p.uri} for ${p.keyid}`),
  ].join('\n');
}
