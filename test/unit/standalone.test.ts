/**
 * The parts of the standalone build (ADR 0012) that run in-process: worker modules from embedded source,
 * the transcript's `executable_sha256`, and the `--version` line. The executable itself is exercised by
 * test/e2e/standalone-airgap.test.ts.
 */
import { buildSync } from 'esbuild';
import { join } from 'node:path';
import { TufsignError } from '../../src/errors';
import { appendEvent, checkChain, readEvents, setExecutableDigest } from '../../src/ceremony/transcript';
import { bsdiff } from '../../src/release/bsdiff';
import { embeddedWorkerSources } from '../../src/release/workers';
import { isStandalone } from '../../src/io/executable';
import { standaloneUserAgent } from '../../src/standalone/main';
import { newObject } from '../../src/tuf/json';
import { ROOT } from '../helpers/cli';

function text(n: number): Uint8Array {
  const t = new Uint8Array(new SharedArrayBuffer(n));
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    t[i] = 97 + ((x >>> 16) % 4);
  }
  return t;
}

describe('worker modules from embedded source', () => {
  afterEach(() => embeddedWorkerSources.clear());
  const old = text(1_500_000);
  const nw = Uint8Array.from(old);
  nw.set(text(5000), 700_000);

  it('the workers run the embedded bundle of the worker entry, with the bytes of one thread', async () => {
    const bundled = buildSync({
      entryPoints: [join(ROOT, 'src', 'release', 'worker.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm', // as scripts/package.js embeds it: the executable starts workers from a data: URL (ADR 0016)
      write: false,
      logLevel: 'silent',
    });
    const one = await bsdiff(old, nw, { threads: 1 });
    embeddedWorkerSources.set('worker', bundled.outputFiles[0]!.text);
    const two = await bsdiff(old, nw, { threads: 2 });
    expect(two.stats).toMatchObject({ threads: 2, fallbacks: 0 });
    expect(Buffer.compare(two.patch, one.patch)).toBe(0);
  });

  it('an embedded source that fails makes this thread do the jobs (same bytes)', async () => {
    const one = await bsdiff(old, nw, { threads: 1 });
    embeddedWorkerSources.set('worker', 'throw new Error("broken worker source")');
    const r = await bsdiff(old, nw, { threads: 2 });
    expect(Buffer.compare(r.patch, one.patch)).toBe(0);
  });
});

describe('transcript events and the executable that wrote them', () => {
  const created = (): ReturnType<typeof appendEvent> =>
    appendEvent([], 'created', newObject(), new Date('2026-01-01T00:00:00Z'), 'tufsign test');

  it('outside the standalone executable there is no executable hash to record', () => {
    expect(isStandalone()).toBe(false);
    expect(created()[0]).not.toHaveProperty('executable_sha256');
  });

  it('with the digest set by the standalone entry, every event carries it inside its hash', () => {
    setExecutableDigest(() => 'cd'.repeat(32));
    try {
      const events = appendEvent(created(), 'signed', newObject(), new Date('2026-01-01T00:00:00Z'), 'tufsign test');
      expect(events.map((e) => e['executable_sha256'])).toEqual(['cd'.repeat(32), 'cd'.repeat(32)]);
      const edited = { ...events[1]!, executable_sha256: 'ef'.repeat(32) };
      expect(checkChain([events[0]!, edited]).ok).toBe(false);
    } finally {
      setExecutableDigest(undefined);
    }
  });

  it('a stored executable_sha256 must be 64 lowercase hex digits', () => {
    const good = { ...created()[0], executable_sha256: 'ab'.repeat(32) };
    expect(readEvents([good])[0]?.executable_sha256).toBe('ab'.repeat(32));
    for (const bad of ['AB'.repeat(32), 'ab'.repeat(31), 42, null, '../../etc/passwd']) {
      let err: unknown;
      try {
        readEvents([{ ...created()[0], executable_sha256: bad }], 'req.json');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TufsignError);
      expect(err).toMatchObject({ code: 'REQUEST_INVALID' });
    }
  });
});

describe('--version of the standalone executable', () => {
  it('keeps oclif\'s first three words and adds "standalone" and the commit', () => {
    const line = standaloneUserAgent({ version: '1.2.3', commit: '0123456789ab' }, 'v20.20.2');
    expect(line).toBe(`tufsign/1.2.3 ${process.platform}-${process.arch} node-v20.20.2 standalone commit 0123456789ab`);
  });
});
