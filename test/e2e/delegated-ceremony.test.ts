/**
 * A signing request for a DELEGATED role (ADR 0008): targets → a → b, where a is signed by 2 of 3 keys held on
 * keyholders' laptops. `key rotate b` changes b's keys, which is a new version of a: the request carries a and its
 * delegating chain (targets); one keyholder signs inside a workspace copy, another with only a pinned trust folder
 * (the chain verified from root v1 down); a copy whose chain was forged is refused; the organizer finalizes
 * (a, the re-signed b, snapshot, timestamp) and tuf-js, starting from root v1, downloads a target from b.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRequest, requestFingerprint } from '../../src/ceremony';
import { Metadata } from '../../src/tuf/metadata';
import { fetchTarget, newClient, serveDirectory } from '../helpers/tuf-client';
import { copyWorkspace, errorCode, fingerprintOf, ok, pinnedRootDir, readJson, tmp, tufsign } from './ceremony-helpers';

jest.setTimeout(240_000);

describe('a two-level delegation: the inner role changes keys through a 2-of-3 ceremony of its parent', () => {
  const base = tmp('tufsign-delegated-ceremony-');
  const org = join(base, 'org');
  const request = join(base, 'b-keys.tufsign-request.json');
  const laptop = (k: string): string => join(base, k);
  let keyidOf: (name: string) => string;

  beforeAll(() => {
    ok(['init', org, '--name', 'demo']);
    for (const k of ['a-1', 'a-2', 'a-3', 'b-1', 'b-2'])
      ok(['key', 'generate', '--out', join(org, 'keys', `${k}.pem`)]);
    keyidOf = (name) => {
      const keys = readJson(join(org, 'tufsign.json')).keys as Record<string, { uri?: string }>;
      return Object.entries(keys).find(([, e]) => e.uri === `file:keys/${name}.pem`)?.[0] ?? '';
    };
    const aKeys = ['a-1', 'a-2', 'a-3'].flatMap((k) => ['--key', `file:keys/${k}.pem`]);
    ok(['delegate', 'add', 'a', ...aKeys, '--threshold', '2', '--paths', 'a/*', 'a/*/*', '-w', org]);
    ok(['delegate', 'add', 'b', '--from', 'a', '--key', 'file:keys/b-1.pem', '--paths', 'a/b/*', '-w', org]);
    writeFileSync(join(base, 'one.txt'), 'one\n');
    ok(['targets', 'add', join(base, 'one.txt'), '--path', 'a/b/one.txt', '-w', org]);
    // a's three keys go to their holders' laptops, each with its public part
    for (const k of ['a-1', 'a-2', 'a-3']) {
      mkdirSync(join(laptop(k), 'keys'), { recursive: true });
      for (const f of [`${k}.pem`, `${k}.pem.pub.json`]) renameSync(join(org, 'keys', f), join(laptop(k), 'keys', f));
    }
  });

  it('key rotate b writes a request for a (delegated by targets) instead of needing its keys here', () => {
    const r = ok([
      'key',
      'rotate',
      'b',
      '--replace',
      keyidOf('b-1'),
      '--with',
      'file:keys/b-2.pem',
      '--request-out',
      request,
      '-w',
      org,
      '--json',
    ]);
    expect(r.json.request.status.roles.map((x: any) => [x.role, x.version])).toEqual([['a', 3]]);
    const doc = readJson(request);
    expect(doc.format_version).toBe(3);
    expect(doc.roles.map((x: any) => [x.role, x.delegated_by])).toEqual([['a', 'targets']]);
    expect(doc.delegators.map((d: any) => d.role)).toEqual(['targets']);
    expect(doc.roles[0].plan.threshold).toBe(2);
    // nothing a client reads has changed; b's re-signed version waits unreferenced
    expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);
    // the screen shows the delegated change, with the parent role named
    const status = ok(['ceremony', 'status', request]).stdout;
    expect(status).toMatch(/a v2 → v3/);
    expect(status).toMatch(/delegated role "b" keys CHANGED/);
  });

  it('attack: a copy whose delegating chain was forged is refused before any secret, nothing written', () => {
    const trust = pinnedRootDir(org, join(base, 'trust-forged'));
    const attempt = (name: string, edit: (doc: any) => void): { code?: string; unchanged: boolean } => {
      const forged = join(base, `${name}.tufsign-request.json`);
      const doc = readJson(request);
      edit(doc);
      // the forger recomputes the stored fingerprint (and the organizer's channel is assumed compromised too)
      const req = parseRequest(readFileSync(request), request);
      const chain = doc.delegators.map((d: any, i: number) => ({
        ...req.delegators[i],
        metadata: Metadata.fromJSON(d.metadata, { expectedType: 'targets' }),
      }));
      doc.fingerprint = requestFingerprint({ ...req, delegators: chain });
      writeFileSync(forged, JSON.stringify(doc, null, 2));
      const before = readFileSync(forged, 'utf8');
      const r = tufsign(
        ['ceremony', 'sign', forged, '--key', 'file:keys/a-1.pem', '--trust-dir', trust].concat([
          '--fingerprint',
          doc.fingerprint,
          '--yes',
          '--json',
        ]),
        { cwd: laptop('a-1'), env: { TUFSIGN_PASSPHRASE: undefined } },
      );
      return { code: errorCode(r), unchanged: readFileSync(forged, 'utf8') === before };
    };
    // targets' delegation of a lowered to 1 of a-1 alone, in the stick's copy of targets only
    expect(
      attempt('threshold', (doc) => {
        doc.delegators[0].metadata.signed.delegations.roles[0].threshold = 1;
        doc.roles[0].plan.threshold = 1; // the derived plan, made to agree
      }),
    ).toEqual({ code: 'TRUST_CHAIN_INVALID', unchanged: true });
    // targets' signatures removed (a copy of targets nobody signed)
    expect(
      attempt('unsigned', (doc) => {
        doc.delegators[0].metadata.signatures = [];
      }),
    ).toEqual({ code: 'TRUST_CHAIN_INVALID', unchanged: true });
  });

  it('a-1 signs in a workspace copy; a-3 signs with only a pinned trust folder; then finalize; tuf-js follows', async () => {
    const fp = fingerprintOf(request);
    // a-1: a copy of the published workspace on the laptop (no keys in it)
    const copy = join(laptop('a-1'), 'ws');
    copyWorkspace(org, copy);
    const s1 = ok(
      ['ceremony', 'sign', request, '--key', `file:${join(laptop('a-1'), 'keys', 'a-1.pem')}`].concat([
        '-w',
        copy,
        '--fingerprint',
        fp,
        '--yes',
        '--json',
      ]),
    );
    expect(s1.json.added.map((a: any) => a.role)).toEqual(['a']);
    // a-3: pinned at root v1 by an earlier ceremony; the chain targets → a is verified from it
    const trust = pinnedRootDir(org, join(base, 'trust-a-3'));
    const s3 = ok(
      ['ceremony', 'sign', request, '--key', 'file:keys/a-3.pem', '--trust-dir', trust].concat([
        '--fingerprint',
        fp,
        '--yes',
        '--json',
      ]),
      { cwd: laptop('a-3') },
    );
    expect(s3.json.added.map((a: any) => a.role)).toEqual(['a']);
    expect(s3.json.status.canFinalize).toBe(true);

    const f = ok(['ceremony', 'finalize', request, '--bundle-out', join(base, 'bundle'), '-w', org, '--json']);
    expect(f.json.roles.map((x: any) => [x.role, x.version, x.signatures])).toEqual([['a', 3, 2]]);
    expect(f.json.followUp).toBeUndefined();
    ok(['verify', join(base, 'bundle'), '--root', join(org, 'metadata', '1.root.json')]);
    expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);
    const ts = readJson(join(org, 'metadata', 'timestamp.json'));
    const snap = readJson(join(org, 'metadata', `${ts.signed.meta['snapshot.json'].version}.snapshot.json`));
    expect(snap.signed.meta['a.json'].version).toBe(3);
    expect(snap.signed.meta['b.json'].version).toBe(3);
    const a = readJson(join(org, 'metadata', '3.a.json'));
    expect(a.signed.delegations.roles[0].keyids).toEqual([keyidOf('b-2')]);

    // b is now signed by b-2 alone: a new target goes into it without any of a's keys, and clients download it
    writeFileSync(join(base, 'two.txt'), 'two\n');
    ok(['targets', 'add', join(base, 'two.txt'), '--path', 'a/b/two.txt', '-w', org]);
    const server = await serveDirectory(org);
    try {
      const client = newClient(server, join(org, 'metadata', '1.root.json'));
      expect((await fetchTarget(client, 'a/b/one.txt')).toString()).toBe('one\n');
      expect((await fetchTarget(client, 'a/b/two.txt')).toString()).toBe('two\n');
    } finally {
      await server.close();
    }
  });
});
