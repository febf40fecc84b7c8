/** `release list [APP]`: the published releases, their archives and patches. */
import type { Interfaces } from '@oclif/core';
import { workspaceFlag } from './flags';
import { table } from './render';
import { releaseListing, type ReleaseListing } from '../repository/release';
import { Workspace } from '../repository/workspace';
import type { CommandIo } from './base-command';

export const releaseListFlags = { workspace: workspaceFlag };

export function runReleaseList(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof releaseListFlags>,
  args: { app?: string | undefined },
): { releases: ReleaseListing[] } {
  const list = releaseListing(Workspace.open(flags.workspace), args.app);
  io.log(
    table([
      ['APP', 'VERSION', 'CHANNEL', 'ARCHIVE', 'REQUIRED', 'PATCH', 'PATCH/ARCHIVE'],
      ...list.map((r) => [
        r.app,
        r.version,
        r.channel,
        r.archive === null ? '-' : `${r.archive.length}`,
        r.archive?.required === true ? 'yes' : 'no',
        r.patch === null ? '-' : `${r.patch.length}`,
        r.patch?.ratio === null || r.patch === null ? '-' : r.patch.ratio.toFixed(3),
      ]),
    ]),
  );
  return { releases: list };
}
