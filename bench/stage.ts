/**
 * One tufsign stage per process, so that /usr/bin/time measures each stage's
 * own wall time and peak memory. Used by release-bench.ts.
 *   node stage.js archive DIR OUT.tar.gz [OUT.tar]
 *   node stage.js hash FILE
 *   node stage.js patch OLD.tar NEW.tar OUT.patch
 *   node stage.js e2e DIR PREV.tar.gz OUTDIR
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRelease, buildTar } from '../src/release/build';
import { gzipDeterministic } from '../src/release/gzip';
import { bsdiff } from '../src/release/bsdiff';
import { tarRegions } from '../src/release/tar';

const EPOCH = 1_700_000_000;

async function main(): Promise<void> {
  const [stage, a, b, c] = process.argv.slice(2);
  const out: Record<string, unknown> = { stage };
  if (stage === 'archive') {
    const { tar } = buildTar(a!, EPOCH);
    const gz = await gzipDeterministic(tar);
    writeFileSync(b!, gz);
    if (c !== undefined) writeFileSync(c, tar);
    out['tar'] = tar.length;
    out['archive'] = gz.length;
  } else if (stage === 'hash') {
    // One read pass feeding both digests, as TargetFile info needs sha256 and sha512.
    const h256 = createHash('sha256');
    const h512 = createHash('sha512');
    const fd = openSync(a!, 'r');
    const buf = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h256.update(buf.subarray(0, n));
      h512.update(buf.subarray(0, n));
    }
    closeSync(fd);
    out['sha256'] = h256.digest('hex');
    out['sha512'] = h512.digest('hex').slice(0, 16);
  } else if (stage === 'patch') {
    const old = readFileSync(a!);
    const nw = readFileSync(b!);
    const r = await bsdiff(old, nw, { oldRegions: tarRegions(old), newRegions: tarRegions(nw) });
    writeFileSync(c!, r.patch);
    out['patch'] = r.patch.length;
    out['stats'] = r.stats;
  } else if (stage === 'e2e') {
    const prevArchive = readFileSync(b!);
    const r = await buildRelease({ app: 'benchapp', version: '2.0', dir: a!, releaseTime: EPOCH + 1, previous: { version: '1.0', archiveBytes: prevArchive } });
    writeFileSync(join(c!, r.archive.name), r.archive.bytes);
    if (r.patch !== undefined) writeFileSync(join(c!, r.patch.name), r.patch.bytes);
    out['archive'] = r.archive.bytes.length;
    out['patch'] = r.patch?.bytes.length;
    out['patchSkipped'] = r.patchSkipped;
    out['tarSha256'] = r.tar.sha256;
  } else {
    throw new Error(`unknown stage ${String(stage)}`);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e instanceof Error ? e.stack : e)}\n`);
  process.exit(1);
});
