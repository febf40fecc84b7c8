/** Shared helpers for ceremony e2e tests: run the built CLI, make keyholders with their own laptops (folders). */
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../helpers/cli';

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

export function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A keyholder's laptop: their own folder with their key file; the public key file is handed to the organizer. */
export function keyholder(root: string, name: string): { dir: string; uri: string; pub: string } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  ok(
    [
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
    ],
    { cwd: dir },
  );
  return { dir, uri: `file:keys/${name}.pem`, pub: join(root, `${name}.pub.json`) };
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
