/**
 * A snippet for `node -e` children that defines `peakRssKiB()`: VmHWM, the peak resident size of the child's own
 * process image. getrusage's maxRSS cannot be used: Linux carries it across fork and exec, so a child spawned by a
 * large jest process reports jest's size, not its own.
 */
export const PEAK_RSS_SNIPPET = `
  const peakRssKiB = () =>
    Number(/VmHWM:\\s*(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]);`;
