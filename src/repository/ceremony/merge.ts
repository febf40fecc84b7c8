/** `ceremony merge`: the signatures of several copies of one request, in one file. */
import { TufsignError } from '../../errors';
import { mergeRequests, requestFingerprint, requestStatus, type RequestStatus } from '../../ceremony';
import type { CeremonyContext } from '../context';
import { readRequestFile, writeRequestFile } from '../requests';

export interface MergeReport {
  out: string;
  added: { from: string; role: string; keyid: string }[];
  fingerprint: string;
  status: RequestStatus;
}

export function mergeRequestFiles(
  paths: readonly string[],
  out: string,
  ctx: Pick<CeremonyContext, 'now' | 'tool'>,
): MergeReport {
  if (paths.length < 2)
    throw new TufsignError('USAGE', 'merge needs at least two request files', {
      rule: 'ceremony merge A B ... --request-out FILE',
    });
  const copies = paths.map((p) => ({ request: readRequestFile(p), label: p }));
  const merged = mergeRequests(copies, ctx);
  writeRequestFile(out, merged.request);
  return {
    out,
    added: merged.added,
    fingerprint: requestFingerprint(merged.request),
    status: requestStatus(merged.request, ctx.now),
  };
}
