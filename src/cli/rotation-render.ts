/** Rendering of rotation results (applied at once, or a request to carry to keyholders). */
import type { RotationResult } from '../repository/rotation';
import { renderRequest } from './ceremony';
import { renderDelegationOutcome } from './delegation-render';
import { bundlePublishHint, publishHint } from './render';
import type { KeyRotateOutcome } from './key-rotate';

/** `workspace`: where the publish hint points when the change was applied and nothing waits for other keys. */
export function renderRotation(r: RotationResult, workspace?: string): string {
  const lines = ['planned changes:', ...r.changes.map((c) => `  ${c}`)];
  if (r.applied !== undefined) {
    lines.push(`every needed key was here: applied to the workspace (${r.applied.written.join(', ')})`);
    if (r.applied.bundle !== undefined) lines.push(`bundle: ${r.applied.bundle.path}`);
    if (r.applied.followUp !== undefined)
      lines.push(`snapshot/timestamp need keys that are not here: ${r.applied.followUp.request}`);
    else if (r.applied.bundle !== undefined) lines.push(bundlePublishHint(r.applied.bundle.path));
    else if (workspace !== undefined) lines.push(publishHint(workspace));
  }
  if (r.request !== undefined) {
    lines.push('', 'signing request written — carry it to the keyholders:', renderRequest(r.request));
  }
  return lines.join('\n');
}

/** `key rotate`: a root rotation for top-level roles, a parent change for delegated roles. */
export function renderKeyRotation(o: KeyRotateOutcome, workspace?: string): string {
  if (o.result === undefined) return renderRotation({ ...o, rootVersion: o.rootVersion ?? 0 }, workspace);
  const lines = ['planned changes:', ...o.changes.map((c) => `  ${c}`)];
  const outcome = o.request === undefined ? { result: o.result } : { result: o.result, request: o.request };
  return `${lines.join('\n')}\n${renderDelegationOutcome(outcome, workspace)}`;
}
