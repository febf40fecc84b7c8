/**
 * `tufsign verify BUNDLE`: the client checks of `verifyRepository`, plus the
 * bundle's own promises — every file in BUNDLE.json present with the right
 * length and sha256, no file that is not listed, an unbroken transcript, and
 * a tarball beside the folder (when present) holding exactly the same bytes.
 */
import { join, relative } from 'node:path';
import { TufsignError } from '../errors';
import { checkChain, readEvents } from '../ceremony/transcript';
import { expandTarGz } from '../release/archive-stream';
import { layoutTar, TarStreamReader, type TarMember } from '../release/tar';
import {
  digestRegularFile,
  fileExists,
  listEntries,
  MAX_METADATA_BYTES,
  nonRegularKind,
  readRegularFile,
  readRegularFilePieces,
} from '../io/fs';
import { sha256Hex } from '../io/hash';
import { bundleSource } from '../verify/sources';
import { verifyRepository, type Check, type RoleReport, type VerifyOptions, type VerifyReport } from '../verify/verify';
import { parseJson } from '../tuf/json';
import { BUNDLE_MANIFEST, parseManifest, type BundleManifest } from './manifest';
import { tarballPathFor } from './write';

/** BUNDLE.json is read with this fixed allowance; everything else with the length it declares. */
export const MAX_MANIFEST_BYTES = MAX_METADATA_BYTES;
const MAX_DEPTH = 64;

export function isBundleDir(dir: string): boolean {
  return fileExists(join(dir, BUNDLE_MANIFEST));
}

interface Listing {
  files: string[];
  /** entries that are neither regular files nor folders (never followed) */
  refused: { path: string; kind: string }[];
}

/** Every entry under `dir`, by lstat: symlinks, FIFOs, sockets and devices are listed as refused, never followed. */
function listBundle(dir: string): Listing {
  const out: Listing = { files: [], refused: [] };
  const walk = (abs: string, rel: string, depth: number): void => {
    for (const e of listEntries(abs)) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory() && depth < MAX_DEPTH) walk(join(abs, e.name), childRel, depth + 1);
      else if (e.isFile()) out.files.push(childRel);
      else
        out.refused.push({
          path: childRel,
          kind: e.isDirectory() ? `a folder nested deeper than ${MAX_DEPTH}` : nonRegularKind(e),
        });
    }
  };
  walk(dir, '', 0);
  out.files.sort();
  return out;
}

function check(
  r: RoleReport,
  ok: boolean,
  message: string,
  rule?: string,
  code: Check['code'] = 'BUNDLE_INVALID',
): void {
  const c: Check = ok ? { ok, message } : { ok, message, code, ...(rule !== undefined ? { rule } : {}) };
  r.checks.push(c);
  if (!ok) r.ok = false;
}

function errorFields(e: unknown): { message: string; code: Check['code']; rule?: string } {
  if (e instanceof TufsignError)
    return { message: e.message, code: e.code, ...(e.rule !== undefined ? { rule: e.rule } : {}) };
  return { message: String(e), code: 'INTERNAL' };
}

/** The files a bundle holds and the exact length of each, as its manifest declares them. */
export function declaredLengths(manifest: BundleManifest, manifestLength: number): Map<string, number> {
  const m = new Map<string, number>([[BUNDLE_MANIFEST, manifestLength]]);
  for (const f of manifest.files) m.set(f.path, f.length);
  if (manifest.transcript !== undefined) m.set(manifest.transcript.path, manifest.transcript.length);
  return m;
}

/** The size of the tar `deterministicTarGz` writes for these files: the hard cap for decompressing the tarball. */
export function expectedTarSize(lengths: ReadonlyMap<string, number>): number {
  const members: TarMember[] = [...lengths]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, size]): TarMember => ({ path, type: 'file', mode: 0o644, size }));
  return layoutTar(members).size;
}

/**
 * Check a bundle folder against its manifest; returns a report section (never throws for a bad bundle). Files are
 * named in messages relative to `shownFrom` when given (the CLI's working directory), else as joined under `dir`.
 */
export async function checkBundleManifest(
  dir: string,
  shownFrom?: string,
): Promise<{
  report: RoleReport;
  manifest?: BundleManifest;
  lengths?: Map<string, number>;
}> {
  const r: RoleReport = { role: 'bundle', file: join(dir, BUNDLE_MANIFEST), ok: true, checks: [] };
  let manifest: BundleManifest;
  let manifestBytes: Buffer;
  try {
    const bytes = readRegularFile(join(dir, BUNDLE_MANIFEST), MAX_MANIFEST_BYTES);
    if (bytes === undefined)
      throw new TufsignError('BUNDLE_INVALID', `${BUNDLE_MANIFEST} is missing`, { file: join(dir, BUNDLE_MANIFEST) });
    manifestBytes = bytes;
    manifest = parseManifest(bytes);
  } catch (e) {
    const f = errorFields(e);
    check(r, false, f.message, f.rule ?? 'BUNDLE.json format', f.code);
    return { report: r };
  }
  const lengths = declaredLengths(manifest, manifestBytes.length);
  check(r, true, `manifest for repository "${manifest.repository}" lists ${manifest.files.length} file(s)`);
  const listing = listBundle(dir);
  for (const x of listing.refused)
    check(r, false, `${x.path} is ${x.kind}`, 'BAD-47 a bundle holds regular files only');
  const listed = <T>(
    path: string,
    read: (full: string, cap: number, shown: string) => T | undefined,
  ): T | undefined => {
    if (listing.refused.some((x) => x.path === path)) return undefined; // already reported
    try {
      return read(join(dir, path), lengths.get(path) ?? 0, path);
    } catch (e) {
      const f = errorFields(e);
      check(r, false, f.message, f.rule, f.code);
      return undefined;
    }
  };
  const readListed = (path: string): Buffer | undefined => listed(path, readRegularFile);
  let bad = 0;
  for (const f of manifest.files) {
    // hashed in pieces: a listed release archive is never held
    const got = listed(f.path, digestRegularFile);
    if (got === undefined) {
      if (!listing.refused.some((x) => x.path === f.path))
        check(r, false, `${f.path} is listed but missing or unreadable`, 'every listed file is present');
      bad++;
      continue;
    }
    if (got.length !== f.length || got.sha256 !== f.sha256) {
      check(
        r,
        false,
        `${f.path}: ${got.length} bytes, sha256 ${got.sha256.slice(0, 16)}… but the manifest says ${f.length} bytes, ${f.sha256.slice(0, 16)}…`,
        'listed length and sha256 match',
      );
      bad++;
    }
  }
  if (bad === 0) check(r, true, `every listed file is present with the listed length and sha256`);
  for (const rc of manifest.rootChain) {
    const f = manifest.files.find((x) => x.path === rc.path);
    if (f === undefined || f.sha256 !== rc.sha256)
      check(r, false, `root chain entry v${rc.version} does not match a listed file`, 'root chain ⊆ files');
  }
  if (manifest.transcript !== undefined) {
    const t = manifest.transcript;
    const data = readListed(t.path);
    if (data === undefined) check(r, false, `${t.path} is missing`, 'the transcript travels with the bundle');
    else if (data.length !== t.length || sha256Hex(data) !== t.sha256) {
      check(r, false, `${t.path} does not match the manifest`, 'transcript length and sha256 match');
      bad++;
    } else {
      try {
        const chain = checkChain(readEvents(parseJson(data, t.path), t.path));
        if (!chain.ok)
          check(r, false, `transcript chain broken: ${chain.problem ?? ''}`, 'BAD-64 hash-chained transcript');
        else if (chain.head !== t.head)
          check(r, false, 'transcript head does not match the manifest', 'manifest pins the transcript head');
        else check(r, true, `transcript: ${chain.events} events, chain intact`);
      } catch (e) {
        check(r, false, `transcript unreadable: ${(e as Error).message}`, 'transcript format');
      }
    }
  }
  const unlisted = listing.files.filter((p) => !lengths.has(p));
  if (unlisted.length > 0)
    check(r, false, `files not in the manifest: ${unlisted.join(', ')}`, 'a bundle holds exactly the listed files');
  else check(r, true, 'no unlisted files');
  await checkTarball(dir, r, lengths, bad === 0 && listing.refused.length === 0 && unlisted.length === 0, shownFrom);
  return { report: r, manifest, lengths };
}

/**
 * The tarball beside the folder must hold exactly the folder's files. It is
 * only opened when the folder matched its manifest, so the declared lengths
 * are real: the tar may be at most `expectedTarSize` bytes, and decompression
 * stops there (a gzip bomb costs at most that much time). It is read in pieces
 * through the strict tar reader; each member is compared with the folder's
 * file by length and sha256, both hashed in pieces.
 */
async function checkTarball(
  dir: string,
  r: RoleReport,
  lengths: ReadonlyMap<string, number>,
  folderOk: boolean,
  shownFrom: string | undefined,
): Promise<void> {
  const tarball = tarballPathFor(dir);
  if (!fileExists(tarball)) return;
  const shown = shownFrom === undefined ? tarball : relative(shownFrom, tarball) || tarball;
  if (!folderOk) {
    check(r, false, `${shown} not checked: the folder does not match its manifest`, 'tarball = folder');
    return;
  }
  try {
    const tarCap = expectedTarSize(lengths);
    // Stored deflate blocks cost 5 bytes per 64 KiB; gzip adds 18 bytes of header and trailer.
    const gzCap = tarCap + Math.ceil(tarCap / 16384) * 5 + 1024;
    const opened = readRegularFilePieces(tarball, gzCap, shown);
    if (opened === undefined) return;
    // read in pieces, each member's data hashed as it passes (ADR 0005, "Memory bound")
    const { members } = await expandTarGz(opened.stream, {
      maxTarBytes: tarCap,
      file: tarball,
      reader: new TarStreamReader(lengths.size),
    });
    const files = members.filter((e) => e.type === 'file');
    const inTar = files.map((e) => e.path).sort();
    const inDir = [...lengths.keys()].sort();
    let same =
      members.length === files.length && inTar.length === inDir.length && inTar.every((p, i) => p === inDir[i]);
    for (const e of same ? files : []) {
      const onDisk = digestRegularFile(join(dir, e.path), lengths.get(e.path) ?? 0, e.path);
      if (onDisk?.length !== e.size || onDisk.sha256 !== e.sha256) same = false;
    }
    check(
      r,
      same,
      same ? `${shown} holds exactly the folder's files` : `${shown} differs from the folder`,
      'tarball = folder',
    );
  } catch (e) {
    const f = errorFields(e);
    check(
      r,
      false,
      f.message.includes(shown) ? f.message : `${shown}: ${f.message}`,
      f.rule ?? 'tarball = folder',
      f.code,
    );
  }
}

/** Verify a bundle as a client would (trusted root given by the caller) and against its manifest. */
export async function verifyBundle(dir: string, options: VerifyOptions, shownFrom?: string): Promise<VerifyReport> {
  const { report: section, lengths } = await checkBundleManifest(dir, shownFrom);
  // Without a readable manifest nothing in the folder has a declared length, so nothing is read.
  const report = verifyRepository(bundleSource(dir, lengths ?? new Map(), shownFrom), {
    ...options,
    requireTargetFiles: false,
  });
  report.roles.push(section);
  report.ok = report.ok && section.ok;
  return report;
}
