/** `tufsign status`: every role's version, expiry, threshold, keys and signature state, derived from the metadata. */
import { backendOfUri } from '../keystore/signer';
import { TOP_LEVEL_ROLES } from '../tuf/metadata';
import { formatExpires, parseDuration } from '../tuf/time';
import { verificationResult } from '../tuf/verify';
import type { Key } from '../tuf/key';
import type { Metadata, Role } from '../tuf/metadata';
import type { WorkspaceConfig } from './config';
import { isNearLimit, sizeFinding, type SizeFinding } from './client-limits';
import { delegatedExpiryPeriod } from './targets-publish';
import { TargetsTree, type RoleNode } from './targets-tree';
import { metadataFileName, serializeMetadata, type Workspace } from './workspace';

export interface StatusKey {
  keyid: string;
  owner: string | null;
  backend: string;
  uri: string | null;
  signed: boolean;
}

export interface RoleStatus {
  /** a top-level role, a delegated role, or `PREFIX-*` for hash bins (summarized: the earliest expiry, the fewest signatures) */
  role: string;
  /** delegated roles: the parent; hash bins: how many */
  parent?: string;
  bins?: number;
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
  /** metadata files at or above 80% of a reference client's size limit */
  nearLimit: SizeFinding[];
}

export function repositoryStatus(ws: Workspace, now: Date): RepositoryStatus {
  const repo = ws.load();
  const root = repo.root.signed;
  const mds = { root: repo.root, targets: repo.targets, snapshot: repo.snapshot, timestamp: repo.timestamp };
  const roles = TOP_LEVEL_ROLES.map((role) => roleStatus(role, mds[role], root.role(role), root.keys, ws.config.expiry[role], ws.config, now));
  const tree = new TargetsTree(ws, repo);
  const nearLimit: SizeFinding[] = [];
  const consistent = root.consistentSnapshot === true;
  for (const [role, md] of Object.entries(mds)) {
    const f = sizeFinding(`metadata/${metadataFileName(role, md.signed.version, consistent)}`, role, md.signed.type, Buffer.byteLength(serializeMetadata(md)));
    if (isNearLimit(f)) nearLimit.push(f);
  }
  const binGroups = new Map<string, RoleStatus>();
  for (const node of tree.all().slice(1)) {
    const st = roleStatus(node.name, node.md, node.role, node.keys, delegatedExpiryPeriod(ws.config, node.name), ws.config, now);
    st.parent = node.parent?.name ?? 'targets';
    const f = sizeFinding(`metadata/${metadataFileName(node.name, node.md.signed.version, consistent)}`, node.name, 'targets', node.size ?? 0);
    if (isNearLimit(f)) nearLimit.push(f);
    const prefix = binPrefix(node);
    if (prefix === undefined) {
      roles.push(st);
      continue;
    }
    const group = binGroups.get(prefix);
    if (group === undefined) {
      binGroups.set(prefix, { ...st, role: `${prefix}-*`, bins: 1 });
      continue;
    }
    group.bins = (group.bins ?? 0) + 1;
    group.version = Math.max(group.version, st.version);
    if (st.expires < group.expires) Object.assign(group, { expires: st.expires, daysLeft: st.daysLeft, resignBy: st.resignBy });
    if (st.validSignatures < group.validSignatures) Object.assign(group, { validSignatures: st.validSignatures, keys: st.keys });
  }
  roles.push(...binGroups.values());
  return { name: ws.config.name, workspace: ws.dir, consistentSnapshot: root.consistentSnapshot === true, at: formatExpires(now), roles, nearLimit };
}

function binPrefix(node: RoleNode): string | undefined {
  const s = node.parent?.md.signed.delegations?.succinctRoles;
  return s !== undefined && s.isDelegatedRole(node.name) ? s.namePrefix : undefined;
}

function roleStatus(name: string, md: Metadata, role: Role, keys: ReadonlyMap<string, Key>, periodText: string, config: WorkspaceConfig, now: Date): RoleStatus {
  const result = verificationResult(name, role, keys, md);
  const period = parseDuration(periodText);
  const resignBy = new Date(md.signed.expires.getTime() - Math.min(period * 1000, 7 * 86400 * 1000) / 2);
  return {
    role: name,
    version: md.signed.version,
    expires: formatExpires(md.signed.expires),
    daysLeft: Math.floor((md.signed.expires.getTime() - now.getTime()) / 86400000),
    resignBy: formatExpires(resignBy),
    threshold: role.threshold,
    validSignatures: result.signed.length,
    keys: role.keyids.map((keyid) => {
      const entry = config.keys.get(keyid);
      return {
        keyid,
        owner: entry?.owner ?? null,
        backend: entry?.uri === undefined ? 'offline' : (backendOfUri(entry.uri) ?? 'unknown'),
        uri: entry?.uri ?? null,
        signed: result.signed.includes(keyid),
      };
    }),
  };
}
