/** `ceremony status`: what a request holds and who still has to sign, optionally checked against the workspace. */
import type { CeremonyContext } from '../context';
import { checkBelongs, describeRequest, readRequestFile, type RequestWritten } from '../requests';
import type { Workspace } from '../workspace';

export function requestStatusFile(
  path: string,
  ws: Workspace | undefined,
  ctx: Pick<CeremonyContext, 'now'>,
): RequestWritten & { repository: string; purpose: string } {
  const req = readRequestFile(path);
  if (ws !== undefined) checkBelongs(ws, req, path, false);
  return { ...describeRequest(path, req, ctx, ws?.config), repository: req.repository, purpose: req.purpose };
}
