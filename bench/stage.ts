/**
 * One tufsign stage per process, so that /usr/bin/time measures each stage's
 * own wall time and peak memory. Used by release-bench.ts.
 *   node stage.js tar DIR OUT.tar 1.0|2.0              (untimed helper: the uncompressed tar of that release)
 *   node stage.js release DIR PREV.tar.gz|- OUTDIR THREADS   (- : a first release, archive only, streamed)
 *   node stage.js patch OLD.tar NEW.tar OUT.patch THREADS
 */
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildArchiveRelease, buildReleaseFiles, buildTar } from '../src/release/build';
import { checkReleaseVersion, parseVersion } from '../src/release/version';
import { bsdiff } from '../src/release/bsdiff';
import { tarRegions } from '../src/release/tar';

const EPOCH = 1_700_000_000;

/** A file read straight into shared memory, as add-release holds its tars (no copy for the workers). */
function readShared(path: string): Buffer {
  const fd = openSync(path, 'r');
  const out = Buffer.from(new SharedArrayBuffer(fstatSync(fd).size));
  for (let at = 0; at < out.length;) at += readSync(fd, out, at, out.length - at, null);
  closeSync(fd);
  return out;
}

async function main(): Promise<void> {
  const [stage, a, b, c, d] = process.argv.slice(2);
  const out: Record<string, unknown> = { stage };
  if (stage === 'tar') {
    const { tar } = buildTar(a!, c === '2.0' ? EPOCH + 1 : EPOCH);
    writeFileSync(b!, tar);
    out['tar'] = tar.length;
  } else if (stage === 'release' && b === '-') {
    // A first release: archive only, streamed to its file (what add-release does without a patch).
    const r = await buildArchiveRelease({
      app: 'benchapp',
      version: checkReleaseVersion('1.0'),
      dir: a!,
      releaseTime: EPOCH,
      threads: Number(d),
      archivePath: join(c!, 'benchapp-1.0.tar.gz'),
    });
    out['archivePath'] = r.archive.path;
    out['archive'] = r.archive.targetFile.length;
    out['tarSha256'] = r.tar.sha256;
  } else if (stage === 'release') {
    // What add-release runs: the archive and the patch written as files into its staging folder (here OUTDIR).
    const r = await buildReleaseFiles({
      app: 'benchapp',
      version: checkReleaseVersion('2.0'),
      dir: a!,
      releaseTime: EPOCH + 1,
      previous: { version: parseVersion('1.0'), archivePath: b! },
      threads: Number(d),
      outDir: c!,
    });
    out['archivePath'] = r.archive.path;
    out['archive'] = r.archive.targetFile.length;
    if (r.patch !== undefined) {
      out['patchPath'] = r.patch.path;
      out['patch'] = r.patch.targetFile.length;
      out['stats'] = r.patch.stats;
    }
    out['patchSkipped'] = r.patchSkipped;
    out['tarSha256'] = r.tar.sha256;
  } else if (stage === 'patch') {
    const old = readShared(a!);
    const nw = readShared(b!);
    const r = await bsdiff(old, nw, { oldRegions: tarRegions(old), newRegions: tarRegions(nw), threads: Number(d) });
    writeFileSync(c!, r.patch);
    out['patch'] = r.patch.length;
    out['stats'] = r.stats;
  } else {
    throw new Error(`unknown stage ${String(stage)}`);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e instanceof Error ? e.stack : e)}\n`);
  process.exit(1);
});
