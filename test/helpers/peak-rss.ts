import { readFileSync, writeFileSync } from 'node:fs';

/**
 * A snippet for `node -e` children that defines `peakRssKiB()`: VmHWM, the peak resident size of the child's own
 * process image. getrusage's maxRSS cannot be used: Linux carries it across fork and exec, so a child spawned by a
 * large jest process reports jest's size, not its own.
 */
export const PEAK_RSS_SNIPPET = `
  const peakRssKiB = () =>
    Number(/VmHWM:\\s*(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]);`;

/**
 * Write a `--require` preload that records the process's own peak (VmHWM) into `peakFile` as it exits, so a
 * CLI child run with `--require PRELOAD` reports its own footprint; `readPeakKiB(peakFile)` reads it back.
 */
export function writePeakPreload(preload: string, peakFile: string): void {
  writeFileSync(
    preload,
    `${PEAK_RSS_SNIPPET}
    process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(peakFile)},
      JSON.stringify({ peakKiB: peakRssKiB() })));`,
  );
}

/** The peak a `writePeakPreload` preload recorded, in KiB. */
export function readPeakKiB(peakFile: string): number {
  return (JSON.parse(readFileSync(peakFile, 'utf8')) as { peakKiB: number }).peakKiB;
}
