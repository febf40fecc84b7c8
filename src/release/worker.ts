/**
 * Worker-thread entry for the release jobs (tasks.ts): a built module of its
 * own (dist/release/worker.js), loaded by workers.ts through `workerEntry()`.
 * It runs one task per message and answers with its result; large inputs and
 * indexes are in shared memory, results are transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTask, type Task } from './tasks';

/** Test hook (workers.ts `failAfter`): exit abruptly after this many tasks, to prove the fallback. */
const failAfter = (workerData as { failAfter?: number } | null)?.failAfter ?? Infinity;
let done = 0;

parentPort?.on('message', (msg: { id: number; task: Task }) => {
  if (done++ >= failAfter) throw new Error('worker failure forced by a test');
  const result = runTask(msg.task);
  // Move results that are not in shared memory instead of copying them.
  const owned = result instanceof Int32Array ? result.buffer : 'bytes' in result ? result.bytes.buffer : undefined;
  parentPort?.postMessage({ id: msg.id, result }, owned instanceof ArrayBuffer ? [owned] : []);
});
