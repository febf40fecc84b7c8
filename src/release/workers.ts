/**
 * The patch's two heavy loops on two threads. A worker thread sorts the
 * suffixes of the second half of the old bytes while this thread sorts the
 * first (SA-IS is bound by memory latency, so two cores nearly halve its
 * time); then both run bsdiff's loop over chunks of the new bytes.
 *
 * A worker loads one import-free module (`sais`, `diff-core`): the compiled
 * `.js` next to this file (built CLI, benchmark) or, under ts-jest where only
 * the `.ts` exists, that file transpiled by `typescript` inside the worker;
 * in the standalone executable, its bundled source embedded in the program.
 * Inputs and the suffix arrays live in shared memory, so nothing large is
 * copied. Every job's result is a function of its input alone, so patches do
 * not depend on timing; if a worker cannot start or fails, this thread does
 * its job itself.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { suffixArray } from './sais';
import { diffChunk, diffChunks, type IndexPart } from './diff-core';

// Plain JS, so it needs no loader: it loads the module and runs one job.
const BOOT = `
const { workerData, parentPort } = require('node:worker_threads');
let mod;
if (workerData.code !== undefined || workerData.typescript) {
  const Module = require('node:module');
  let js = workerData.code;
  if (js === undefined) {
    const ts = require(workerData.typescript);
    const src = require('node:fs').readFileSync(workerData.file, 'utf8');
    js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  }
  const m = new Module(workerData.file);
  m.filename = workerData.file;
  m._compile(js, workerData.file);
  mod = m.exports;
} else mod = require(workerData.file);
const result = mod[workerData.job](workerData.args);
parentPort.postMessage(result ?? null, result && result.buffer instanceof ArrayBuffer ? [result.buffer] : []);
`;

/** Set by the standalone entry (src/standalone/main.ts): each worker module's bundled CommonJS source. */
export const embeddedWorkerSources = new Map<string, string>();

function moduleSource(name: string): { file: string; typescript?: string; code?: string } | undefined {
  const code = embeddedWorkerSources.get(name);
  if (code !== undefined) return { file: `${name}.js`, code };
  const js = join(__dirname, `${name}.js`);
  if (existsSync(js)) return { file: js };
  const ts = join(__dirname, `${name}.ts`);
  if (!existsSync(ts)) return undefined;
  try {
    return { file: ts, typescript: require.resolve('typescript') };
  } catch {
    return undefined;
  }
}

/** Run `module.job(args)` in a worker; resolves to its result, or undefined if the worker failed. */
function inWorker<T>(module: string, job: string, args: unknown): Promise<T | undefined> {
  const source = moduleSource(module);
  if (source === undefined) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let settled = false;
    const done = (value: T | undefined): void => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    let worker: Worker;
    try {
      worker = new Worker(BOOT, { eval: true, workerData: { ...source, job, args } });
    } catch {
      done(undefined);
      return;
    }
    worker.once('message', (value: T) => {
      done(value);
      void worker.terminate();
    });
    worker.once('error', () => done(undefined));
    worker.once('exit', () => done(undefined));
  });
}

/** Suffix arrays of `text[0, cut)` and `text[cut, end)` in shared memory, built in parallel; `threads` is 1 if the worker failed. */
export async function suffixArrayHalves(text: Uint8Array, cut: number): Promise<{ sa: [Int32Array, Int32Array]; threads: number }> {
  const first = text.subarray(0, cut);
  let second = text.subarray(cut);
  if (!(second.buffer instanceof SharedArrayBuffer)) {
    // The worker can only see shared memory: copy just the half it sorts.
    const shared = new Uint8Array(new SharedArrayBuffer(second.length));
    shared.set(second);
    second = shared;
  }
  const sa1 = new Int32Array(new SharedArrayBuffer(first.length * 4));
  const sa2 = new Int32Array(new SharedArrayBuffer(second.length * 4));
  const pending = inWorker<null>('sais', 'suffixArrayJob', { text: second, sa: sa2 });
  suffixArray(first, sa1);
  const ok = (await pending) === null;
  if (!ok) suffixArray(second, sa2);
  return { sa: [sa1, sa2], threads: ok ? 2 : 1 };
}

/**
 * bsdiff's loop over `nw` in fixed chunks, shared out between this thread and a
 * worker through an atomic counter (the cost per byte varies a lot: new random
 * data needs a search at every byte), all buffers shared. Returns each chunk's
 * pieces in order, newStart relative to `nw`.
 */
export async function diffInChunks(old: Uint8Array, nw: Uint8Array, parts: IndexPart[], chunk: number): Promise<{ triples: Int32Array[]; threads: number }> {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const args = { old, nw, parts, chunk, counter };
  const pending = inWorker<{ index: number[]; triples: Int32Array[] }>('diff-core', 'diffChunks', args);
  const mine = diffChunks(args);
  const theirs = await pending;
  const count = Math.ceil(nw.length / chunk);
  const byIndex = new Array<Int32Array | undefined>(count);
  for (const r of theirs === undefined ? [mine] : [mine, theirs]) r.index.forEach((i, k) => (byIndex[i] = r.triples[k]));
  // Chunks a failed worker had taken are done here.
  const triples = Array.from({ length: count }, (_, i) => byIndex[i] ?? diffChunk(old, nw, parts, i * chunk, Math.min(nw.length, (i + 1) * chunk)));
  return { triples, threads: theirs === undefined ? 1 : 2 };
}
