/** Progress for long steps: a one-line bar on a TTY, occasional lines otherwise, nothing under --json. */
import type { Progress } from '../release';

export function progressReporter(
  json: boolean,
  stream: NodeJS.WriteStream = process.stderr,
): ((p: Progress) => void) & { done(): void } {
  const tty = stream.isTTY === true;
  let lastStage = '';
  let lastDraw = 0;
  const finished = new Set<string>();
  const mb = (n: number): string => (n / 1048576).toFixed(1);
  const report = (p: Progress): void => {
    if (json) return;
    const now = Date.now();
    const stageChanged = p.stage !== lastStage;
    if (!stageChanged && now - lastDraw < (tty ? 100 : 5000) && p.done < p.total) return;
    lastDraw = now;
    const pct = p.total > 0 ? Math.min(100, Math.floor((p.done / p.total) * 100)) : 0;
    if (tty) {
      if (stageChanged && lastStage !== '') stream.write('\n');
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      stream.write(
        `\r${p.stage.padEnd(15)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${mb(p.done)}/${mb(p.total)} MB\x1b[K`,
      );
    } else if (p.done >= p.total && !finished.has(p.stage)) {
      // without a terminal: one line per finished stage
      finished.add(p.stage);
      stream.write(`${p.stage}: done (${p.stage === 'scan' ? `${p.total} entries` : `${mb(p.total)} MB`})\n`);
    }
    lastStage = p.stage;
  };
  return Object.assign(report, {
    done() {
      if (!json && tty && lastStage !== '') stream.write('\n');
    },
  });
}
