/**
 * `sign snapshot` without --bump that adds a missing signature changes snapshot vN's bytes, and timestamp records
 * snapshot's length and hash (ADR 0013). Reachable: `key rotate snapshot` hands the snapshot key to carol, whose key
 * is not here, so finalize publishes root v2 and leaves snapshot/timestamp as a follow-up; later carol's key is
 * attached here and the organizer runs `sign snapshot`. Before the fix that wrote snapshot v2 with carol's signature
 * and left timestamp naming the old bytes: `verify` failed (length/sha256) and tuf-js refused the snapshot.
 * Now timestamp gets a new version naming the new bytes; without the timestamp key nothing is written.
 */
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Updater } from 'tuf-js';
import { runPython } from '../helpers/python-clients';
import { serveDirectory, type StaticServer } from '../helpers/tuf-client';
import { errorCode, keyholder, ok, pinnedRootDir, readJson, tmp, tufsign } from './ceremony-helpers';

jest.setTimeout(120_000);

const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** A tuf-js client whose metadata folder persists between refreshes (a client that updated before). */
async function clientFetch(server: StaticServer, dir: string, target: string): Promise<string> {
  const updater = new Updater({
    metadataDir: join(dir, 'metadata'),
    targetDir: join(dir, 'targets'),
    metadataBaseUrl: `${server.url}/metadata`,
    targetBaseUrl: `${server.url}/targets`,
    config: { fetchRetries: 0, fetchTimeout: 5000 },
  });
  await updater.refresh();
  const info = await updater.getTargetInfo(target);
  if (info === undefined) throw new Error(`${target} not found`);
  return readFileSync(await updater.downloadTarget(info, join(dir, 'targets', `${Date.now()}`))).toString();
}

describe('sign snapshot (no --bump) that completes a published snapshot', () => {
  const base = tmp('tufsign-sign-snapshot-');
  const org = join(base, 'org');
  const cached = join(base, 'cached-client');
  const meta = (name: string): string => join(org, 'metadata', name);
  let server: StaticServer;
  /** the snapshot/timestamp follow-up the rotation left, which `sign snapshot` supersedes */
  let followUp = '';

  beforeAll(async () => {
    ok(['init', org, '--name', 'demo']);
    writeFileSync(join(base, 'a.txt'), 'payload a\n');
    ok(['targets', 'add', join(base, 'a.txt'), '--path', 'a.txt', '-w', org]);
    server = await serveDirectory(org);
    // a client that updated before the rotation and keeps its metadata (snapshot v2 as first signed)
    pinnedRootDir(org, join(cached, 'metadata'));
    mkdirSync(join(cached, 'targets'));
    expect(await clientFetch(server, cached, 'a.txt')).toBe('payload a\n');
    const carol = keyholder(base, 'carol');
    const old = readJson(meta('1.root.json')).signed.roles.snapshot.keyids[0];
    const r = ok(['key', 'rotate', 'snapshot', '--replace', old, '--with', carol.pub, '-w', org, '--json']);
    expect(r.json.applied.followUp.status.roles.map((x: any) => x.role)).toEqual(['snapshot', 'timestamp']);
    followUp = r.json.applied.followUp.request;
    // carol brings her key to the organizer's machine
    for (const f of ['carol.pem', 'carol.pem.pub.json']) copyFileSync(join(carol.dir, 'keys', f), join(org, 'keys', f));
    ok(['key', 'attach', 'file:keys/carol.pem', '-w', org]);
  });
  afterAll(() => server.close());

  it('without the timestamp key: THRESHOLD_NOT_MET and nothing written (no snapshot without its timestamp)', () => {
    const before = [meta('2.snapshot.json'), meta('timestamp.json')].map(sha256);
    const aside = join(base, 'timestamp-1.pem');
    renameSync(join(org, 'keys', 'timestamp-1.pem'), aside);
    try {
      const r = tufsign(['sign', 'snapshot', '-w', org, '--json']);
      expect(r.status).toBe(4);
      expect(errorCode(r)).toBe('THRESHOLD_NOT_MET');
      expect(r.json.error.message).toMatch(/^timestamp v3 /);
    } finally {
      renameSync(aside, join(org, 'keys', 'timestamp-1.pem'));
    }
    expect([meta('2.snapshot.json'), meta('timestamp.json')].map(sha256)).toEqual(before);
  });

  it('adds carol’s signature to snapshot v2 and re-issues timestamp v3 naming the new bytes; clients follow', async () => {
    const tsBefore = readJson(meta('timestamp.json')).signed;
    expect(tsBefore.meta['snapshot.json'].version).toBe(2);
    const r = ok(['sign', 'snapshot', '-w', org, '--json']);
    expect(r.json.roles.map((x: any) => [x.role, x.version])).toEqual([
      ['snapshot', 2],
      ['timestamp', tsBefore.version + 1],
    ]);
    const ts = readJson(meta('timestamp.json')).signed;
    const snap = readFileSync(meta('2.snapshot.json'));
    expect(ts.meta['snapshot.json']).toEqual({
      version: 2,
      length: snap.length,
      hashes: { sha256: createHash('sha256').update(snap).digest('hex') },
    });
    expect(readJson(meta('2.snapshot.json')).signatures.map((x: any) => x.keyid)).toContain(
      readJson(join(base, 'carol.pub.json')).keyid,
    );
    expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);
    // the client that cached snapshot v2's old bytes, a new tuf-js client and python-tuf, each from root v1
    expect(await clientFetch(server, cached, 'a.txt')).toBe('payload a\n');
    const fresh = join(base, 'fresh-client');
    pinnedRootDir(org, join(fresh, 'metadata'));
    mkdirSync(join(fresh, 'targets'));
    expect(await clientFetch(server, fresh, 'a.txt')).toBe('payload a\n');
    const py = await runPython([
      join(base, 'py', 'm'),
      join(base, 'py', 't'),
      server.url,
      meta('1.root.json'),
      'a.txt',
    ]);
    expect(py.code).toBe(0);
    expect(JSON.parse(py.stdout).root).toBe(2);
  });

  it('the follow-up the rotation left is superseded: finalize refuses it as stale and writes nothing', () => {
    const before = [meta('2.snapshot.json'), meta('timestamp.json')].map(sha256);
    const f = tufsign(['ceremony', 'finalize', followUp, '-w', org, '--bundle-out', join(base, 'bundle'), '--json']);
    expect(errorCode(f)).toBe('REQUEST_STALE');
    expect([meta('2.snapshot.json'), meta('timestamp.json')].map(sha256)).toEqual(before);
    expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);
  });

  it('run again: nothing to add, nothing rewritten', () => {
    const before = [meta('2.snapshot.json'), meta('timestamp.json')].map(sha256);
    const r = ok(['sign', 'snapshot', '-w', org, '--json']);
    expect(r.json.written).toEqual([]);
    expect([meta('2.snapshot.json'), meta('timestamp.json')].map(sha256)).toEqual(before);
  });
});
