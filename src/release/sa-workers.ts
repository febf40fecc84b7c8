/**
 * Build the patch index in two halves at once: a worker thread sorts the
 * suffixes of the second half while this thread sorts the first. SA-IS is
 * bound by memory latency, so two cores nearly halve its wall time.
 *
 * The worker runs the same `sais` module: the compiled `.js` next to this file
 * (built CLI, benchmark), or, under ts-jest where only the `.ts` exists, that
 * file transpiled by `typescript` inside the worker. Both halves' arrays are
 * unique functions of their input, so the result never depends on timing; if
 * the worker cannot start or fails, this thread builds the second half itself.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { suffixArray } from './sais';

// Plain JS, so it needs no loader: it finds `sais` and runs one job.
const BOOT = `
const { workerData, parentPort } = require('node:worker_threads');
let mod;
if (workerData.typescript) {
  const Module = require('node:module');
  const ts = require(workerData.typescript);
  const src = require('node:fs').readFileSync(workerData.file, 'utf8');
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const m = new Module(workerData.file);
  m.filename = workerData.file;
  m._compile(js, workerData.file);
  mod = m.exports;
} else mod = require(workerData.file);
mod.suffixArray(workerData.text, workerData.sa);
parentPort.postMessage('done');
`;

function saisSource(): { file: string; typescript?: string } | undefined {
  const js = join(__dirname, 'sais.js');
  if (existsSync(js)) return { file: js };
  const ts = join(__dirname, 'sais.ts');
  if (!existsSync(ts)) return undefined;
  try {
    return { file: ts, typescript: require.resolve('typescript') };
  } catch {
    return undefined;
  }
}

function inWorker(text: Uint8Array, sa: Int32Array): Promise<void> {
  const source = saisSource();
  if (source === undefined) return Promise.reject(new Error('no sais module for the worker'));
  return new Promise((resolve, reject) => {
    let settled = false;
    const worker = new Worker(BOOT, { eval: true, workerData: { ...source, text, sa } });
    worker.once('message', () => {
      settled = true;
      resolve();
      void worker.terminate();
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`suffix-array worker exited with ${code}`));
    });
  });
}

/** Suffix arrays of `text[0, cut)` and `text[cut, end)`, built in parallel; `threads` is 1 if the worker failed. */
export async function suffixArrayHalves(text: Uint8Array, cut: number): Promise<{ sa: [Int32Array, Int32Array]; threads: number }> {
  const first = text.subarray(0, cut);
  let second = text.subarray(cut);
  if (!(second.buffer instanceof SharedArrayBuffer)) {
    // The worker can only see shared memory: copy just the half it sorts.
    const shared = new Uint8Array(new SharedArrayBuffer(second.length));
    shared.set(second);
    second = shared;
  }
  const sa2 = new Int32Array(new SharedArrayBuffer(second.length * 4));
  let job: Promise<boolean>;
  try {
    job = inWorker(second, sa2).then(
      () => true,
      () => false,
    );
  } catch {
    job = Promise.resolve(false);
  }
  const sa1 = suffixArray(first);
  const ok = await job;
  if (!ok) suffixArray(second, sa2);
  return { sa: [sa1, sa2], threads: ok ? 2 : 1 };
}
