/**
 * Shared helpers for ceremony e2e tests: run the built CLI, make keyholders with their own laptops (folders), and the
 * set-ups several ceremony tests share (root handed to one keyholder, a delegated role whose key is elsewhere).
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from './cli';

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
  json: any;
}

export function tufsign(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Run {
  const r = runCli(args, options);
  let json: any;
  if (args.includes('--json')) {
    try {
      json = JSON.parse(r.stdout);
    } catch {
      json = undefined;
    }
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

/** Run and demand success, showing the output on failure. */
export function ok(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Run {
  const r = tufsign(args, options);
  if (r.status !== 0) throw new Error(`tufsign ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The error code of a failed --json run. */
export function errorCode(r: Run): string | undefined {
  return r.json?.error?.code;
}

export function tmp(prefix = 'tufsign-ceremony-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A folder pinning `org`'s first root as its `root.json`: a keyholder's `--trust` folder, or a TUF client's metadata
 * folder before its first update. `dir` is made if missing; by default a fresh temp folder each call.
 */
export function pinnedRootDir(org: string, dir = tmp('tufsign-pin-')): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(org, 'metadata', '1.root.json'), join(dir, 'root.json'));
  return dir;
}

export function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A keyholder's laptop: their own folder with their key file; the public key file is handed to the organizer. */
export function keyholder(root: string, name: string): { dir: string; uri: string; pub: string } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  ok(keyholderGenerateArgs(name), { cwd: dir });
  return { dir, uri: `file:keys/${name}.pem`, pub: join(root, `${name}.pub.json`) };
}

/** `key generate` run in a keyholder's folder: `keys/NAME.pem` there, the public key file handed over as `../NAME.pub.json`. */
export function keyholderGenerateArgs(name: string): string[] {
  return [
    'key',
    'generate',
    '--backend',
    'file',
    '--out',
    `keys/${name}.pem`,
    '--public-out',
    `../${name}.pub.json`,
    '--owner',
    name,
  ];
}

/** Copy the published workspace (config, metadata, targets — never keys) onto a keyholder's laptop. */
export function copyWorkspace(from: string, to: string): void {
  for (const part of ['tufsign.json', 'metadata', 'targets'])
    cpSync(join(from, part), join(to, part), { recursive: true });
}

export function rootKeyids(ws: string, version: number): string[] {
  return readJson(join(ws, 'metadata', `${version}.root.json`)).signed.roles.root.keyids;
}

/** The fingerprint the organizer reads out (from their copy of the request); `cwd` resolves a relative path. */
export function fingerprintOf(request: string, cwd = process.cwd()): string {
  return readJson(resolve(cwd, request)).fingerprint;
}

/**
 * `root rotate` that hands root to one keyholder: add the key in `holderPub`, remove `removed` (default: root v1's
 * first key), threshold 1 — the set-up most keyholder ceremonies start from. `extra` adds flags (`--out`, `--json`…).
 */
export function rootToKeyholderArgs(
  org: string,
  holderPub: string,
  extra: string[] = [],
  removed: string = rootKeyids(org, 1)[0]!,
): string[] {
  return ['root', 'rotate', '-w', org, '--add-key', holderPub, '--remove-key', removed, '--threshold', '1', ...extra];
}

/** An organizer's workspace with a delegated role `r` (paths `r/*`) whose key file is on its keyholder's laptop. */
export interface OfflineRole {
  org: string;
  /** the keyholder's laptop: `r.pem` and `r.pem.pub.json` only */
  laptop: string;
  /** the laptop's pinned root (root v1), for `ceremony sign --trust-dir` */
  trust: string;
}

/** Where `setUpOfflineRole` puts the organizer's workspace, the laptop and its pinned root, under `base`. */
export function offlineRolePaths(base: string): OfflineRole {
  return { org: join(base, 'org'), laptop: join(base, 'laptop'), trust: join(base, 'trust') };
}

/**
 * `init` a workspace named `name`, delegate `r` (paths `r/*`) to a new key file, run `whileKeyHere` (changes that
 * still need r's key), then move r's key file and its public part to the laptop, which pins root v1.
 */
export function setUpOfflineRole(where: OfflineRole, name: string, whileKeyHere: () => void = () => {}): void {
  const { org, laptop, trust } = where;
  ok(['init', org, '--name', name]);
  ok(['key', 'generate', '--out', join(org, 'keys', 'r.pem')]);
  ok(['delegate', 'add', 'r', '--key', 'file:keys/r.pem', '--paths', 'r/*', '-w', org]);
  whileKeyHere();
  mkdirSync(laptop);
  for (const f of ['r.pem', 'r.pem.pub.json']) renameSync(join(org, 'keys', f), join(laptop, f));
  pinnedRootDir(org, trust);
}

/**
 * `ceremony sign --json` on the laptop with `keyFile` (a file there) and only the pinned root (no workspace),
 * checking the fingerprint read to the keyholder.
 */
export function signOnLaptop(where: OfflineRole, request: string, keyFile: string): Run {
  return ok([
    'ceremony',
    'sign',
    request,
    '--key',
    `file:${join(where.laptop, keyFile)}`,
    '--trust-dir',
    where.trust,
    '--fingerprint',
    fingerprintOf(request),
    '--yes',
    '--json',
  ]);
}

/** The keyholder of `role` signs `request` with `ROLE.pem` on the laptop; that signature is all the request lacked. */
export function keyholderSignsOnLaptop(where: OfflineRole, request: string, role = 'r'): void {
  const s = signOnLaptop(where, request, `${role}.pem`);
  expect(s.json.added.map((a: { role: string }) => a.role)).toEqual([role]);
  expect(s.json.status.canFinalize).toBe(true);
}
