/** `targets add` and `targets remove` on the top-level targets role, then snapshot and timestamp. */
import type { Period } from '../tuf/time';
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { readFileBounded } from '../io/fs';
import type { StagedFile } from '../io/stream-file';
import { isJsonObject, parseJson, type JsonObject } from '../tuf/json';
import { TargetFile } from '../tuf/metadata';
import { checkNoCollisions, parseNewTargetPath, type TargetPath } from '../tuf/paths';
import { bump, cascadeSnapshotTimestamp, finish, resignRole, startCascade } from './cascade';
import type { SigningContext } from './context';
import type { OperationResult } from './outcome';
import { preflightRoles } from './signing';
import type { PendingFile } from './transaction';
import { targetFileNames, type Workspace } from './workspace';

export interface TargetInput {
  /** the file on disk */
  file: string;
  /** TARGETPATH in metadata (default: the file's base name) */
  path: string;
  custom?: JsonObject;
}

/** A `TargetInput` whose path was parsed once, where it arrived (`parseNewTargetPath` in `src/cli`). */
export interface ParsedTargetInput extends Omit<TargetInput, 'path'> {
  path: TargetPath;
}

export function parseCustomJson(text: string): JsonObject {
  const value = parseJson(text, '--custom');
  if (!isJsonObject(value))
    throw new TufsignError('METADATA_SCHEMA', '--custom must be a JSON object', {
      path: '$',
      rule: 'SPEC-21 custom is an object',
    });
  return value;
}

export async function addTargets(
  ws: Workspace,
  inputs: TargetInput[],
  ctx: SigningContext,
  options: { expires?: Period; maxTargetBytes?: number } = {},
): Promise<OperationResult> {
  if (inputs.length === 0) throw new TufsignError('USAGE', 'no target files given', { rule: 'targets add FILE...' });
  const paths = inputs.map((input) => parseNewTargetPath(input.path));
  const prepared = inputs.map((input, i): PreparedTarget => {
    // One read per file: the hashes and the stored copy come from the same bytes (BAD-46).
    const data = readFileBounded(input.file, options.maxTargetBytes ?? 4 * 1024 * 1024 * 1024);
    return { path: paths[i] as TargetPath, data, targetFile: TargetFile.fromData(data, input.custom) };
  });
  return addPreparedTargets(ws, prepared, ctx, options);
}

/** A target whose bytes and TUF info are already computed (read from a file, or a release built to staging). */
export interface PreparedTarget {
  /** parsed once by whoever prepared it (`parseNewTargetPath`), never re-checked here */
  path: TargetPath;
  /** the bytes, or a file in the workspace's staging folder that the commit moves into place (a release) */
  data: Uint8Array | StagedFile;
  targetFile: TargetFile;
}

/**
 * Register prepared targets, store their bytes, and re-sign targets → snapshot
 * → timestamp. With `deferIncomplete`, a targets threshold that needs absent
 * keys returns the unsigned metadata as `pending` and writes nothing.
 */
export async function addPreparedTargets(
  ws: Workspace,
  prepared: PreparedTarget[],
  ctx: SigningContext,
  options: { expires?: Period; deferIncomplete?: boolean } = {},
): Promise<OperationResult> {
  const { c, repo } = startCascade(ws);
  const targets = repo.targets.signed;
  const newPaths: string[] = prepared.map((p) => p.path);
  if (new Set(newPaths).size !== newPaths.length)
    throw new TufsignError('PATH_COLLISION', 'the same target path is given twice', {
      rule: 'BAD-04 unique target paths',
    });
  checkNoCollisions([...[...targets.targets.keys()].filter((p) => !newPaths.includes(p)), ...newPaths]);
  for (const p of prepared) {
    targets.targets.set(p.path, p.targetFile);
    for (const name of targetFileNames(p.path, p.targetFile.hashes, c.consistent))
      c.files.push({ path: join(ws.targetsDir, name), data: p.data });
    ctx.progress?.(`target ${p.path}: ${p.data.length} bytes, sha256 ${p.targetFile.hashes.get('sha256') ?? ''}`);
  }
  // targets, snapshot and timestamp: every device the run needs before the first PIN or touch
  await preflightRoles(ctx, c.root.signed, ['targets', 'snapshot', 'timestamp'], ws.config);
  bump(targets, ws.config, ctx.now, options.expires);
  repo.targets.clearSignatures();
  await resignRole(c, repo.targets, 'targets', ctx);
  await cascadeSnapshotTimestamp(c, repo.snapshot, repo.timestamp, ctx, targets.version);
  return finish(c, options.deferIncomplete === true ? 'defer' : true);
}

/** The target files an operation would store (for a deferred release: they travel with the request). */
export function targetFilesOf(ws: Workspace, prepared: PreparedTarget[], consistent: boolean): PendingFile[] {
  return prepared.flatMap((p) =>
    targetFileNames(p.path, p.targetFile.hashes, consistent).map((name): PendingFile => ({
      path: join(ws.targetsDir, name),
      data: p.data,
    })),
  );
}

export async function removeTargets(ws: Workspace, paths: string[], ctx: SigningContext): Promise<OperationResult> {
  const { c, repo } = startCascade(ws);
  const targets = repo.targets.signed;
  for (const p of paths) {
    if (!targets.targets.has(p))
      throw new TufsignError('TARGET_NOT_FOUND', `no target ${JSON.stringify(p)} in targets metadata`, {
        path: p,
        rule: 'remove only listed targets',
      });
    targets.targets.delete(p);
  }
  await preflightRoles(ctx, c.root.signed, ['targets', 'snapshot', 'timestamp'], ws.config);
  bump(targets, ws.config, ctx.now);
  repo.targets.clearSignatures();
  await resignRole(c, repo.targets, 'targets', ctx);
  await cascadeSnapshotTimestamp(c, repo.snapshot, repo.timestamp, ctx, targets.version);
  // Target files stay on disk: clients holding the previous snapshot may still fetch them.
  return finish(c, true);
}
