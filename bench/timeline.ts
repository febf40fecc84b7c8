/**
 * Where add-release's wall time goes: runs `buildReleaseFiles` (the CLI's release core) once and prints,
 * per progress stage, when it first and last reported (seconds from the start) and the process's CPU seconds
 * then (all threads). Used with `node --cpu-prof` to find what runs alone.
 *   node timeline.js DIR PREV.tar.gz|- OUTDIR THREADS       (- : a first release, archive only)
 */
import { cpuUsage } from 'node:process';
import { buildReleaseFiles } from '../src/release/build';
import { checkReleaseVersion, parseVersion } from '../src/release/version';

async function main(): Promise<void> {
  const [dir, prev, outDir, threads] = process.argv.slice(2);
  const t0 = performance.now();
  const cpu = (): number => {
    const u = cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const c0 = cpu();
  const stages = new Map<string, { first: number; last: number; cpuFirst: number; cpuLast: number }>();
  const r = await buildReleaseFiles({
    app: 'benchapp',
    version: checkReleaseVersion(prev === '-' ? '1.0' : '2.0'),
    dir: dir!,
    releaseTime: prev === '-' ? 1_700_000_000 : 1_700_000_001,
    previous: prev === '-' ? undefined : { version: parseVersion('1.0'), archivePath: prev! },
    threads: Number(threads),
    outDir: outDir!,
    onProgress: (p) => {
      const t = (performance.now() - t0) / 1000;
      const c = cpu() - c0;
      const s = stages.get(p.stage);
      if (s === undefined) stages.set(p.stage, { first: t, last: t, cpuFirst: c, cpuLast: c });
      else Object.assign(s, { last: t, cpuLast: c });
    },
  });
  const end = (performance.now() - t0) / 1000;
  for (const [k, s] of stages)
    process.stdout.write(
      `${k.padEnd(16)} ${s.first.toFixed(2).padStart(7)} → ${s.last.toFixed(2).padStart(7)} s   cpu ${s.cpuFirst.toFixed(1).padStart(6)} → ${s.cpuLast.toFixed(1).padStart(6)} s\n`,
    );
  process.stdout.write(
    `end ${end.toFixed(2)} s, cpu ${(cpu() - c0).toFixed(1)} s, archive ${r.archive.targetFile.length} B, patch ${r.patch?.targetFile.length ?? '-'} B\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e instanceof Error ? e.stack : e)}\n`);
  process.exit(1);
});
