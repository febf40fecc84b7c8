/**
 * The parts of the standalone build (ADR 0012) that run in-process: worker modules from embedded source,
 * the transcript's `executable_sha256`, and the `--version` line. The executable itself is exercised by
 * test/e2e/standalone-airgap.test.ts.
 */
import { buildSync } from 'esbuild';
import { join } from 'node:path';
import { TufsignError } from '../../src/errors';
import { appendEvent, checkChain, readEvents, setExecutableDigest } from '../../src/ceremony/transcript';
import { suffixArray } from '../../src/release/sais';
import { embeddedWorkerSources, suffixArrayHalves } from '../../src/release/workers';
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

  it('the worker runs the embedded bundle and its suffix array equals the one computed here', async () => {
    const bundled = buildSync({
      entryPoints: [join(ROOT, 'src', 'release', 'sais.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      write: false,
      logLevel: 'silent',
    });
    embeddedWorkerSources.set('sais', bundled.outputFiles[0]!.text);
    const t = text(60_000);
    const { sa, threads } = await suffixArrayHalves(t, 25_000);
    expect(threads).toBe(2);
    expect(sa[1]).toEqual(suffixArray(t.slice(25_000)));
  });

  it('an embedded source that fails makes this thread do the job (one thread, same result)', async () => {
    embeddedWorkerSources.set('sais', 'throw new Error("broken worker source")');
    const t = text(50_000);
    const { sa, threads } = await suffixArrayHalves(t, 20_000);
    expect(threads).toBe(1);
    expect(sa[1]).toEqual(suffixArray(t.slice(20_000)));
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
