/** `tufsign status`: every role's version, expiry, threshold, keys and signature state, derived from the metadata. */
import { backendOfUri } from '../keystore/signer';
import { TOP_LEVEL_ROLES, type TopLevelRole } from '../tuf/metadata';
import { formatExpires, parseDuration } from '../tuf/time';
import { verificationResult } from '../tuf/verify';
import type { Workspace } from './workspace';

export interface StatusKey {
  keyid: string;
  owner: string | null;
  backend: string;
  uri: string | null;
  signed: boolean;
}

export interface RoleStatus {
  role: TopLevelRole;
  version: number;
  expires: string;
  daysLeft: number;
  /** the last moment to re-sign so the role never has less than a signing period left */
  resignBy: string;
  threshold: number;
  validSignatures: number;
  keys: StatusKey[];
}

export interface RepositoryStatus {
  name: string;
  workspace: string;
  consistentSnapshot: boolean;
  at: string;
  roles: RoleStatus[];
}

export function repositoryStatus(ws: Workspace, now: Date): RepositoryStatus {
  const repo = ws.load();
  const root = repo.root.signed;
  const mds = { root: repo.root, targets: repo.targets, snapshot: repo.snapshot, timestamp: repo.timestamp };
  const roles = TOP_LEVEL_ROLES.map((role): RoleStatus => {
    const md = mds[role];
    const result = verificationResult(role, root.role(role), root.keys, md);
    const period = parseDuration(ws.config.expiry[role]);
    const resignBy = new Date(md.signed.expires.getTime() - Math.min(period * 1000, 7 * 86400 * 1000) / 2);
    return {
      role,
      version: md.signed.version,
      expires: formatExpires(md.signed.expires),
      daysLeft: Math.floor((md.signed.expires.getTime() - now.getTime()) / 86400000),
      resignBy: formatExpires(resignBy),
      threshold: root.role(role).threshold,
      validSignatures: result.signed.length,
      keys: root.role(role).keyids.map((keyid) => {
        const entry = ws.config.keys.get(keyid);
        return {
          keyid,
          owner: entry?.owner ?? null,
          backend: entry?.uri === undefined ? 'offline' : (backendOfUri(entry.uri) ?? 'unknown'),
          uri: entry?.uri ?? null,
          signed: result.signed.includes(keyid),
        };
      }),
    };
  });
  return { name: ws.config.name, workspace: ws.dir, consistentSnapshot: root.consistentSnapshot === true, at: formatExpires(now), roles };
}
