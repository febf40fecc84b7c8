/**
 * Progress for long release stages, on stderr only (stdout carries the result), nothing under --json.
 *
 * On a terminal the running stage is one line redrawn in place (at most ten times a second): what it counts
 * (entries, files, bytes), a bar when the total is known, the elapsed time and an estimate of what is left.
 * Each stage ends with one final line — its counts and its seconds — printed exactly once, even when it ran
 * alongside another (compression runs while the patch is computed). Without a terminal only those final
 * lines are written: one per stage.
 */
import type { Progress, ReleaseStage } from '../release';

const LABEL: Record<ReleaseStage, string> = {
  scan: 'scan',
  read: 'archive',
  archive: 'archive',
  compress: 'compress',
  hash: 'hash',
  verify: 'check',
  'patch-index': 'patch index',
  'patch-diff': 'patch diff',
  'patch-compress': 'patch bzip2',
  bundle: 'bundle',
  targets: 'targets',
  sign: 'sign',
  write: 'write',
};

/** Stages that count items, not bytes: what one item is. */
const ITEMS: Partial<Record<ReleaseStage, string>> = { targets: 'targets', sign: 'roles', write: 'files' };

interface StageState {
  start: number;
  done: number;
  total: number;
  files?: number;
  ended: boolean;
}

const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`;
const secs = (ms: number): string =>
  ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

function counts(stage: ReleaseStage, s: StageState): string {
  if (stage === 'scan') return `${s.done} entries`;
  const items = ITEMS[stage];
  if (items !== undefined) return s.done < s.total ? `${s.done} of ${s.total} ${items}` : `${s.done} ${items}`;
  const files = s.files !== undefined ? `${s.files} files, ` : '';
  return s.total > 0 && s.done < s.total ? `${files}${mb(s.done)} of ${mb(s.total)}` : `${files}${mb(s.done)}`;
}

export type ProgressReporter = ((p: Progress) => void) & {
  done(): void;
  /** A line of text between the stages' lines (on a terminal the running stage's line is cleared first). */
  note(text: string): void;
};

export function progressReporter(
  json: boolean,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = () => Date.now(),
): ProgressReporter {
  const tty = stream.isTTY === true;
  const stages = new Map<ReleaseStage, StageState>();
  let drawn: ReleaseStage | undefined;
  let lineOpen = false;
  let lastDraw = 0;

  const finalLine = (stage: ReleaseStage, s: StageState): string =>
    `${LABEL[stage]}: ${counts(stage, s)} in ${secs(now() - s.start)}`;

  const end = (stage: ReleaseStage, s: StageState): void => {
    s.ended = true;
    if (tty) stream.write(`\r${finalLine(stage, s)}\x1b[K\n`);
    else stream.write(`${finalLine(stage, s)}\n`);
    lineOpen = false;
    if (drawn === stage) drawn = undefined;
  };

  const draw = (stage: ReleaseStage, s: StageState): void => {
    const elapsed = now() - s.start;
    let text = `${LABEL[stage].padEnd(12)} `;
    if (s.total > 0) {
      const frac = Math.min(1, s.done / s.total);
      const width = 24;
      const filled = Math.round(frac * width);
      text += `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}% `;
    }
    text += `${counts(stage, s)}  ${secs(elapsed)}`;
    if (s.total > 0 && s.done > 0 && s.done < s.total && elapsed >= 500)
      text += `, about ${secs((elapsed * (s.total - s.done)) / s.done)} left`;
    stream.write(`\r${text}\x1b[K`);
    lineOpen = true;
    drawn = stage;
    lastDraw = now();
  };

  const report = (p: Progress): void => {
    if (json) return;
    let s = stages.get(p.stage);
    if (s === undefined) {
      s = { start: now(), done: 0, total: 0, ended: false };
      stages.set(p.stage, s);
    }
    if (s.ended) {
      // a counted stage may run again in the same command (a second commit): it starts over
      if (ITEMS[p.stage] === undefined || p.done >= s.done) return;
      s = { start: now(), done: 0, total: 0, ended: false };
      stages.set(p.stage, s);
    }
    s.done = p.done;
    s.total = p.total;
    if (p.files !== undefined) s.files = p.files;
    // a stage that only counts (scan) has no total: it is over when the next stage begins
    for (const [other, o] of stages) if (other !== p.stage && !o.ended && o.total === 0 && o.done > 0) end(other, o);
    if (p.total > 0 && p.done >= p.total) {
      end(p.stage, s);
      return;
    }
    if (!tty) return;
    if (drawn === p.stage && now() - lastDraw < 100) return;
    draw(p.stage, s);
  };

  return Object.assign(report, {
    note(text: string) {
      if (json) return;
      if (tty && lineOpen) {
        stream.write(`\r\x1b[K${text}\n`);
        lineOpen = false;
        drawn = undefined;
      } else stream.write(`${text}\n`);
    },
    /** End the run: a count-only stage still open gets its final line; the terminal line is closed. */
    done() {
      if (json) return;
      for (const [stage, s] of stages) if (!s.ended && s.total === 0 && s.done > 0) end(stage, s);
      if (tty && lineOpen) stream.write('\n');
      lineOpen = false;
    },
  });
}
