/**
 * A small pool of worker threads for the patch jobs (tasks.ts).
 *
 * Workers load one built module, `worker.js` (compiled from worker.ts, next to
 * this file in dist/). Where it comes from is decided in ONE place,
 * `workerEntry()`: the standalone executable (ADR 0012) hands in the same
 * module bundled by esbuild at build time (`embeddedWorkerSources`), the test
 * suite (which runs from .ts sources) builds a copy and points
 * `setWorkerScript` at it. Nothing is transpiled at run time.
 *
 * Every task's result is a function of the task alone, so output bytes do not
 * depend on the number of threads, on timing, or on which thread ran what. A
 * worker that cannot start, throws or exits has its task run in this thread,
 * and is not used again; with no workers everything runs here.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { runTask, type Task, type TaskResult } from './tasks';

let scriptOverride: string | null | undefined;

/**
 * Set by the standalone executable (src/standalone/main.ts, ADR 0012): bundled
 * ES module source by module name; `worker` is this pool's entry. When it holds
 * anything, workers come only from here, never from files beside the executable.
 */
export const embeddedWorkerSources = new Map<string, string>();

/** How a worker is started: a built entry file, or the bundled source compiled into the executable. */
export type WorkerEntry = { file: string } | { source: string };

/**
 * Where workers load from — the ONE place that decides it: `setWorkerScript`
 * (tests, other bundles), the executable's embedded source, or the built
 * `worker.js` beside this file. Undefined (running from .ts sources without an
 * override): every task runs in this thread.
 */
export function workerEntry(): WorkerEntry | undefined {
  if (scriptOverride !== undefined) return scriptOverride === null ? undefined : { file: scriptOverride };
  if (embeddedWorkerSources.size > 0) {
    const source = embeddedWorkerSources.get('worker');
    return source === undefined ? undefined : { source };
  }
  return __filename.endsWith('.js') ? { file: join(__dirname, 'worker.js') } : undefined;
}

/** Override where workers load from (a test's built copy); null: no workers; undefined: back to the default. */
export function setWorkerScript(path: string | null | undefined): void {
  scriptOverride = path;
}

/** Default thread count: every core the process may use. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

export interface PoolOptions {
  /** Test hook: each worker exits abruptly on its (failAfter+1)-th task. */
  failAfter?: number | undefined;
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

interface Pending {
  task: Task;
  resolve: (r: TaskResult) => void;
  reject: (e: unknown) => void;
}

export class Pool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<number, { slot: Slot; job: Pending }>();
  private nextId = 0;
  /** Tasks that ended up running in this thread because a worker failed. */
  fallbacks = 0;

  /** `threads` ≤ 1 (or no worker script): no workers at all. */
  constructor(threads: number, options: PoolOptions = {}) {
    const entry = workerEntry();
    if (threads <= 1 || entry === undefined) return;
    for (let i = 0; i < threads; i++) {
      try {
        const workerData = { failAfter: options.failAfter };
        // The executable's entry is its own bundled ES module (no file to load), started from a data: URL by the
        // module loader, never evaluated as a string (ADR 0016); anything else is a built file.
        const worker =
          'file' in entry
            ? new Worker(entry.file, { workerData })
            : new Worker(new URL(`data:text/javascript,${encodeURIComponent(entry.source)}`), { workerData });
        const slot: Slot = { worker, busy: false };
        worker.on('message', (msg: { id: number; result: TaskResult }) => this.finished(msg.id, msg.result));
        worker.on('error', () => this.lost(slot));
        worker.on('exit', () => this.lost(slot));
        this.slots.push(slot);
      } catch {
        break;
      }
    }
  }

  /** Threads that can run tasks at once. */
  get size(): number {
    return Math.max(1, this.slots.length);
  }

  /** Queue `task`; `first`: ahead of every queued task (work others will wait for). */
  run(task: Task, first = false): Promise<TaskResult> {
    return new Promise((resolve, reject) => {
      if (first) this.queue.unshift({ task, resolve, reject });
      else this.queue.push({ task, resolve, reject });
      this.pump();
    });
  }

  close(): void {
    for (const s of this.slots.splice(0)) void s.worker.terminate();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => !s.busy);
      if (slot === undefined) {
        if (this.slots.length > 0) return;
        // No workers (left): run here, one task per turn so callers can interleave.
        const job = this.queue.shift()!;
        setImmediate(() => this.runHere(job));
        continue;
      }
      const job = this.queue.shift()!;
      const id = this.nextId++;
      slot.busy = true;
      this.running.set(id, { slot, job });
      try {
        slot.worker.postMessage({ id, task: job.task });
      } catch {
        this.running.delete(id);
        this.lost(slot);
        this.runHere(job);
      }
    }
  }

  private runHere(job: Pending): void {
    try {
      job.resolve(runTask(job.task));
    } catch (e) {
      job.reject(e);
    }
  }

  private finished(id: number, result: TaskResult): void {
    const r = this.running.get(id);
    if (r === undefined) return;
    this.running.delete(id);
    r.slot.busy = false;
    r.job.resolve(result);
    this.pump();
  }

  private lost(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    void slot.worker.terminate();
    for (const [id, r] of this.running) {
      if (r.slot !== slot) continue;
      this.running.delete(id);
      this.fallbacks++;
      this.runHere(r.job);
    }
    this.pump();
  }
}
