/**
 * `tufsign verify BUNDLE`: the client checks of `verifyRepository`, plus the
 * bundle's own promises — every file in BUNDLE.json present with the right
 * length and sha256, no file that is not listed, an unbroken transcript, and
 * a tarball beside the folder (when present) holding exactly the same bytes.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TufsignError } from '../errors';
import { fileExists, readFileBounded } from '../io/fs';
import { checkChain, readEvents } from '../ceremony/transcript';
import { directorySource } from '../repository/sources';
import { verifyRepository, type Check, type RoleReport, type VerifyOptions, type VerifyReport } from '../repository/verify';
import { parseJson } from '../tuf/json';
import { BUNDLE_MANIFEST, parseManifest, type BundleManifest } from './manifest';
import { readTarGz, type TarEntry } from './tar';
import { tarballPathFor } from './write';

const sha256 = (d: Uint8Array): string => createHash('sha256').update(d).digest('hex');

export function isBundleDir(dir: string): boolean {
  return fileExists(join(dir, BUNDLE_MANIFEST));
}

function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full, base));
    else out.push(relative(base, full).split('\\').join('/'));
  }
  return out.sort();
}

function check(r: RoleReport, ok: boolean, message: string, rule?: string): void {
  const c: Check = ok ? { ok, message } : { ok, message, code: 'BUNDLE_INVALID', ...(rule !== undefined ? { rule } : {}) };
  r.checks.push(c);
  if (!ok) r.ok = false;
}

/** Check a bundle folder against its manifest; returns a report section (never throws for a bad bundle). */
export function checkBundleManifest(dir: string): { report: RoleReport; manifest?: BundleManifest } {
  const r: RoleReport = { role: 'bundle', file: join(dir, BUNDLE_MANIFEST), ok: true, checks: [] };
  let manifest: BundleManifest;
  try {
    manifest = parseManifest(readFileBounded(join(dir, BUNDLE_MANIFEST)));
  } catch (e) {
    check(r, false, e instanceof TufsignError ? e.message : String(e), 'BUNDLE.json format');
    return { report: r };
  }
  check(r, true, `manifest for repository "${manifest.repository}" lists ${manifest.files.length} file(s)`);
  const listed = new Set<string>([BUNDLE_MANIFEST]);
  let bad = 0;
  for (const f of manifest.files) {
    listed.add(f.path);
    const full = join(dir, f.path);
    if (!fileExists(full)) {
      check(r, false, `${f.path} is listed but missing`, 'every listed file is present');
      bad++;
      continue;
    }
    const data = readFileBounded(full, 4 * 1024 * 1024 * 1024);
    if (data.length !== f.length || sha256(data) !== f.sha256) {
      check(r, false, `${f.path}: ${data.length} bytes, sha256 ${sha256(data).slice(0, 16)}… but the manifest says ${f.length} bytes, ${f.sha256.slice(0, 16)}…`, 'listed length and sha256 match');
      bad++;
    }
  }
  if (bad === 0) check(r, true, `every listed file is present with the listed length and sha256`);
  for (const rc of manifest.rootChain) {
    const f = manifest.files.find((x) => x.path === rc.path);
    if (f === undefined || f.sha256 !== rc.sha256) check(r, false, `root chain entry v${rc.version} does not match a listed file`, 'root chain ⊆ files');
  }
  if (manifest.transcript !== undefined) {
    const t = manifest.transcript;
    listed.add(t.path);
    const full = join(dir, t.path);
    if (!fileExists(full)) check(r, false, `${t.path} is missing`, 'the transcript travels with the bundle');
    else {
      const data = readFileBounded(full);
      if (data.length !== t.length || sha256(data) !== t.sha256) check(r, false, `${t.path} does not match the manifest`, 'transcript length and sha256 match');
      else {
        try {
          const chain = checkChain(readEvents(parseJson(data, t.path), t.path));
          if (!chain.ok) check(r, false, `transcript chain broken: ${chain.problem ?? ''}`, 'BAD-64 hash-chained transcript');
          else if (chain.head !== t.head) check(r, false, 'transcript head does not match the manifest', 'manifest pins the transcript head');
          else check(r, true, `transcript: ${chain.events} events, chain intact`);
        } catch (e) {
          check(r, false, `transcript unreadable: ${(e as Error).message}`, 'transcript format');
        }
      }
    }
  }
  const unlisted = walk(dir).filter((p) => !listed.has(p));
  if (unlisted.length > 0) check(r, false, `files not in the manifest: ${unlisted.join(', ')}`, 'a bundle holds exactly the listed files');
  else check(r, true, 'no unlisted files');
  const tarball = tarballPathFor(dir);
  if (fileExists(tarball)) {
    try {
      const entries: TarEntry[] = readTarGz(readFileBounded(tarball, 4 * 1024 * 1024 * 1024));
      const inTar = entries.map((e) => e.path).sort();
      const inDir = walk(dir);
      const same = inTar.length === inDir.length && inTar.every((p, i) => p === inDir[i]) && entries.every((e) => sha256(e.data) === sha256(readFileBounded(join(dir, e.path), 4 * 1024 * 1024 * 1024)));
      check(r, same, same ? `${relative(process.cwd(), tarball) || tarball} holds exactly the folder's files` : `${tarball} differs from the folder`, 'tarball = folder');
    } catch (e) {
      check(r, false, `${tarball} unreadable: ${(e as Error).message}`, 'tarball = folder');
    }
  }
  return { report: r, manifest };
}

/** Verify a bundle as a client would (trusted root given by the caller) and against its manifest. */
export function verifyBundle(dir: string, options: VerifyOptions): VerifyReport {
  const report = verifyRepository(directorySource(dir), { ...options, requireTargetFiles: false });
  const { report: section } = checkBundleManifest(dir);
  report.roles.push(section);
  report.ok = report.ok && section.ok;
  return report;
}
