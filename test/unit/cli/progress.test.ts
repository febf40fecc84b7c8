/**
 * Progress that tells the truth: stages move, count what they do, show elapsed time and an estimate on a
 * terminal, end their line once and cleanly; without a terminal one line per stage; nothing under --json.
 * A fake stream and a fake clock: the renderer is checked on what it writes, not on wall-clock time.
 */
import { progressReporter } from '../../../src/cli/progress';
import type { Progress } from '../../../src/release';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const stream = {
    isTTY,
    write: (s: string) => {
      out += s;
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, text: () => out };
}

/** A release run as build.ts reports it: scan, archive, compress alongside the patch, check, hash; then the bundle
 * as writeBundle reports it (files and bytes, one file at a time). */
function run(report: (p: Progress) => void, tick: (ms: number) => void): void {
  for (let i = 1; i <= 1000; i++) {
    report({ stage: 'scan', done: i, total: 0 });
    tick(1);
  }
  for (let i = 1; i <= 1000; i++) {
    report({ stage: 'read', done: i * 30_000, total: 30_000_000, files: i });
    tick(2);
  }
  report({ stage: 'compress', done: 0, total: 30_000_000 });
  for (let i = 1; i <= 50; i++) {
    report({ stage: 'patch-diff', done: i * 600_000, total: 30_000_000 });
    tick(200);
  }
  report({ stage: 'compress', done: 30_000_000, total: 30_000_000 });
  report({ stage: 'verify', done: 0, total: 9_000_000 });
  tick(300);
  report({ stage: 'verify', done: 9_000_000, total: 9_000_000 });
  report({ stage: 'hash', done: 0, total: 9_000_000 });
  tick(50);
  report({ stage: 'hash', done: 9_000_000, total: 9_000_000 });
  const bundle = [30_000_000, 9_000_000, 2000, 3000, 1500, 1000, 500];
  const total = bundle.reduce((a, b) => a + b, 0);
  let done = 0;
  report({ stage: 'bundle', done: 0, total, files: 0 });
  bundle.forEach((n, i) => {
    tick(60);
    report({ stage: 'bundle', done: (done += n), total, files: i + 1 });
  });
}

describe('progressReporter', () => {
  let t = 0;
  const clock = (): number => t;
  const tick = (ms: number): void => {
    t += ms;
  };
  beforeEach(() => {
    t = 1_000_000;
  });

  it('without a terminal: exactly one line per stage, with its counts and seconds', () => {
    const { stream, text } = fakeStream(false);
    const p = progressReporter(false, stream, clock);
    run(p, tick);
    p.done();
    expect(text().split('\n')).toEqual([
      'scan: 1000 entries in 1.0 s',
      'archive: 1000 files, 28.6 MB in 2.0 s',
      'patch diff: 28.6 MB in 9.8 s',
      'compress: 28.6 MB in 10.0 s',
      'check: 8.6 MB in 0.3 s',
      'hash: 8.6 MB in 0.1 s',
      'bundle: 7 files, 37.2 MB in 0.4 s',
      '',
    ]);
    expect(text()).not.toContain('\r');
  });

  it('on a terminal: the scan moves and counts, bars show elapsed time and an estimate, every line ends once', () => {
    const { stream, text } = fakeStream(true);
    const p = progressReporter(false, stream, clock);
    run(p, tick);
    p.done();
    const out = text();
    // the scan is redrawn with a growing count (not "0 entries")
    const scanCounts = [...out.matchAll(/\rscan\s+(\d+) entries/g)].map((m) => Number(m[1]));
    expect(scanCounts.length).toBeGreaterThan(5);
    expect(scanCounts).toEqual([...scanCounts].sort((a, b) => a - b));
    expect(scanCounts[scanCounts.length - 1]).toBeGreaterThan(900);
    // a running bar shows the elapsed time and, once it has a rate, what is left
    expect(out).toMatch(/\rpatch diff\s+\[#+\.*\]\s+\d+% [\d.]+ MB of 28\.6 MB {2}[\d.]+ s, about [\d.]+ s left/);
    expect(out).toMatch(/\rarchive\s+\[#*\.*\]\s+\d+% \d+ files, /);
    expect(out).toMatch(/\rbundle\s+\[#*\.*\]\s+\d+% \d+ files, [\d.]+ MB of 37\.2 MB {2}[\d.]+ s/);
    // each stage's final line exactly once, each ending in a newline, even compress (which ran alongside the patch)
    const finals = out.split('\n').map((l) => l.slice(l.lastIndexOf('\r') + 1).replace('\x1b[K', ''));
    for (const stage of ['scan', 'archive', 'compress', 'patch diff', 'check', 'hash', 'bundle'])
      expect(finals.filter((l) => l.startsWith(`${stage}: `))).toHaveLength(1);
    expect(finals).toContain('compress: 28.6 MB in 10.0 s');
    expect(out.endsWith('\n')).toBe(true);
    // the redraws are throttled: a thousand scan events do not become a thousand writes
    expect(scanCounts.length).toBeLessThan(50);
  });

  it('a run that stops after the scan still ends its line; --json writes nothing', () => {
    const tty = fakeStream(true);
    const p = progressReporter(false, tty.stream, clock);
    p({ stage: 'scan', done: 3, total: 0 });
    tick(20);
    p.done();
    expect(tty.text().endsWith('scan: 3 entries in 0.0 s\x1b[K\n')).toBe(true);
    const quiet = fakeStream(true);
    const q = progressReporter(true, quiet.stream, clock);
    run(q, tick);
    q.done();
    expect(quiet.text()).toBe('');
  });

  /** `delegate bins --count 16384` as publishTargetsChanges reports it: a note, every bin counted, notes, the commit. */
  function bins(p: ReturnType<typeof progressReporter>): void {
    p.note('signing 16384 bins bins-0000 … bins-3fff');
    for (let i = 1; i <= 16_385; i++) {
      p({ stage: 'sign', done: i, total: 16_385 });
      tick(1);
    }
    p.note('signing snapshot v2 with file:keys/online-1.pem');
    for (let i = 1; i <= 16_388; i += 4096) {
      p({ stage: 'write', done: i, total: 16_388 });
      tick(30);
    }
    p({ stage: 'write', done: 16_388, total: 16_388 });
  }

  it('16,384 bins signed without a terminal: the notes and one line per counted stage', () => {
    const { stream, text } = fakeStream(false);
    const p = progressReporter(false, stream, clock);
    bins(p);
    p.done();
    expect(text().split('\n')).toEqual([
      'signing 16384 bins bins-0000 … bins-3fff',
      'sign: 16385 roles in 16.4 s',
      'signing snapshot v2 with file:keys/online-1.pem',
      'write: 16388 files in 0.1 s',
      '',
    ]);
  });

  it('16,384 bins signed on a terminal: one redrawn count line, a note clears it first, every line ends', () => {
    const { stream, text } = fakeStream(true);
    const p = progressReporter(false, stream, clock);
    p({ stage: 'sign', done: 1, total: 16_385 });
    p.note('a message while counting');
    bins(p);
    p.done();
    const out = text();
    const counts = [...out.matchAll(/\rsign\s+\[#*\.*\]\s+\d+% (\d+) of 16385 roles/g)].map((m) => Number(m[1]));
    // throttled redraws of one line (at most ten a second over 16.4 s), counting up
    expect(counts.length).toBeGreaterThan(10);
    expect(counts.length).toBeLessThan(200);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    // the note clears the open count line instead of being glued to it
    expect(out).toContain('\r\x1b[Ka message while counting\n');
    const lines = out.split('\n').map((l) => l.slice(l.lastIndexOf('\r') + 1).replace('\x1b[K', ''));
    expect(lines.filter((l) => l.startsWith('sign: '))).toEqual(['sign: 16385 roles in 16.4 s']);
    expect(lines.filter((l) => l.startsWith('write: '))).toEqual(['write: 16388 files in 0.1 s']);
    expect(out.endsWith('\n')).toBe(true);
  });

  it('under --json neither counts nor notes are written', () => {
    const { stream, text } = fakeStream(true);
    const p = progressReporter(true, stream, clock);
    bins(p);
    p.done();
    expect(text()).toBe('');
  });
});
