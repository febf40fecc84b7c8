/**
 * A 2-of-3 root rotation across separate laptops: the organizer prepares root
 * v2, the request travels as a file to each keyholder's own workspace copy,
 * two of them sign separate copies, the organizer merges and finalizes, the
 * bundle verifies offline, and tuf-js holding root v1 updates to v2.
 */
import { copyFileSync, cpSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { serveDirectory, newClient, fetchTarget } from '../helpers/tuf-client';
import {
  copyWorkspace,
  errorCode,
  fingerprintOf,
  keyholder,
  ok,
  readJson,
  rootKeyids,
  tmp,
  tufsign,
} from './ceremony-helpers';

jest.setTimeout(180_000);

describe('2-of-3 root rotation across three workspace copies', () => {
  const base = tmp();
  const org = join(base, 'org');
  let alice: ReturnType<typeof keyholder>;
  let bob: ReturnType<typeof keyholder>;
  let carol: ReturnType<typeof keyholder>;
  const oldRoot = join(base, 'trusted-1.root.json');
  const request = 'root-v2.tufsign-request.json';

  beforeAll(() => {
    ok(['init', org, '--name', 'demo']);
    writeFileSync(join(base, 'app.txt'), 'hello ceremony\n');
    ok(['targets', 'add', join(base, 'app.txt'), '-w', org]);
    copyFileSync(join(org, 'metadata', '1.root.json'), oldRoot);
    alice = keyholder(base, 'alice');
    bob = keyholder(base, 'bob');
    carol = keyholder(base, 'carol');
    for (const k of [alice, bob, carol]) copyWorkspace(org, k.dir);
  });

  it('plans root v2: previous threshold signed at once, new threshold needs 2 of alice/bob/carol', () => {
    const old = rootKeyids(org, 1)[0]!;
    const r = ok([
      'root',
      'rotate',
      '-w',
      org,
      '--add-key',
      alice.pub,
      '--add-key',
      bob.pub,
      '--add-key',
      carol.pub,
      '--remove-key',
      old.slice(0, 12),
      '--threshold',
      '2',
      '--json',
    ]);
    expect(r.json.request.request).toBe(join(org, request));
    const root = r.json.request.status.roles[0];
    expect(root.version).toBe(2);
    const [mine, previous] = root.sides;
    expect(previous).toMatchObject({ side: 'previous', threshold: 1, missing: 0 });
    expect(mine).toMatchObject({ side: 'new', threshold: 2, missing: 2 });
    expect(mine.needed.map((n: any) => n.owner).sort()).toEqual(['alice', 'bob', 'carol']);
    // nothing published yet
    expect(existsSync(join(org, 'metadata', '2.root.json'))).toBe(false);
  });

  it('keyholders sign their own copies; the same key twice adds nothing; a key outside the plan is refused', () => {
    copyFileSync(join(org, request), join(alice.dir, request));
    copyFileSync(join(org, request), join(bob.dir, request));
    copyFileSync(join(org, request), join(carol.dir, request));
    const a = ok(
      [
        'ceremony',
        'sign',
        request,
        '--key',
        alice.uri,
        '--fingerprint',
        fingerprintOf(request, alice.dir),
        '--yes',
        '--json',
      ],
      { cwd: alice.dir },
    );
    expect(a.json.added).toHaveLength(1);
    const before = readFileSync(join(alice.dir, request));
    const again = ok(
      [
        'ceremony',
        'sign',
        request,
        '--key',
        alice.uri,
        '--fingerprint',
        fingerprintOf(request, alice.dir),
        '--yes',
        '--json',
      ],
      { cwd: alice.dir },
    );
    expect(again.json.added).toHaveLength(0);
    expect(readFileSync(join(alice.dir, request)).equals(before)).toBe(true);
    ok(['ceremony', 'sign', request, '--key', bob.uri, '--fingerprint', fingerprintOf(request, bob.dir), '--yes'], {
      cwd: bob.dir,
    });
    // carol tries with a copy of the organizer's old timestamp key: not in the plan
    const stray = join(carol.dir, 'keys', 'old-timestamp.pem');
    copyFileSync(join(org, 'keys', 'timestamp-1.pem'), stray);
    const attempt = (): ReturnType<typeof tufsign> =>
      tufsign(
        [
          'ceremony',
          'sign',
          request,
          '--key',
          `file:${stray}`,
          '--fingerprint',
          fingerprintOf(request, carol.dir),
          '--yes',
          '--json',
        ],
        // no passphrase and no terminal: asking for the secret would fail with its own code
        { cwd: carol.dir, env: { TUFSIGN_PASSPHRASE: undefined } },
      );
    // nothing here says which key the file holds: refused before its passphrase
    const unknown = attempt();
    expect(unknown.status).toBe(5);
    expect(errorCode(unknown)).toBe('KEY_IDENTITY_UNKNOWN');
    // with its public part beside it, it is known to be outside the plan: refused, still without the passphrase
    ok(['key', 'export', `file:${stray}`, '--out', `${stray}.pub.json`], { cwd: carol.dir });
    const wrong = attempt();
    expect(wrong.status).toBe(7);
    expect(errorCode(wrong)).toBe('SIGNATURE_REFUSED');
    const st = ok(['ceremony', 'status', request, '--json'], { cwd: alice.dir });
    expect(st.json.status.canFinalize).toBe(false);
  });

  it('finalize refuses a single copy, then merge + finalize emit a bundle that verifies offline', () => {
    copyFileSync(join(alice.dir, request), join(org, 'alice.tufsign-request.json'));
    copyFileSync(join(bob.dir, request), join(org, 'bob.tufsign-request.json'));
    const single = tufsign(
      ['ceremony', 'finalize', 'alice.tufsign-request.json', '--out', join(base, 'nope'), '--json'],
      { cwd: org },
    );
    expect(errorCode(single)).toBe('THRESHOLD_NOT_MET');
    expect(single.json.error.details.missing).toEqual([
      expect.objectContaining({ role: 'root', side: 'new', missing: 1 }),
    ]);
    expect(existsSync(join(org, 'metadata', '2.root.json'))).toBe(false);

    const m = ok(
      [
        'ceremony',
        'merge',
        'alice.tufsign-request.json',
        'bob.tufsign-request.json',
        '--out',
        'merged.tufsign-request.json',
        '--json',
      ],
      { cwd: org },
    );
    expect(m.json.added).toHaveLength(1);
    expect(m.json.status.canFinalize).toBe(true);
    const f = ok(['ceremony', 'finalize', 'merged.tufsign-request.json', '--out', join(base, 'bundle'), '--json'], {
      cwd: org,
    });
    expect(f.json.bundle.files.map((x: any) => x.path)).toEqual(
      expect.arrayContaining([
        'metadata/2.root.json',
        'metadata/root.json',
        'metadata/timestamp.json',
        'metadata/3.snapshot.json',
      ]),
    );
    expect(readdirSync(join(base, 'bundle')).sort()).toEqual(
      ['BUNDLE.json', 'TRANSCRIPT.json', 'metadata', 'targets'].filter(
        (x) => x !== 'targets' || existsSync(join(base, 'bundle', 'targets')),
      ),
    );
    const v = tufsign(['verify', join(base, 'bundle'), '--root', oldRoot, '--json']);
    expect(v.status).toBe(0);
    expect(v.json.roles.find((r: any) => r.role === 'bundle').ok).toBe(true);
    // the workspace itself verifies from root v1 too
    ok(['verify', org]);
    const transcript = readJson(join(base, 'bundle', 'TRANSCRIPT.json'));
    expect(transcript.map((e: any) => e.event)).toEqual([
      'created',
      'signed',
      'signed',
      'signed',
      'merged',
      'finalized',
    ]);
    expect(JSON.stringify(transcript)).not.toContain('correct horse');
  });

  it('the bundle is written once: a folder, no tarball beside it (ADR 0017)', () => {
    expect(existsSync(join(base, 'bundle', 'BUNDLE.json'))).toBe(true);
    expect(existsSync(join(base, 'bundle.tar.gz'))).toBe(false);
  });

  it('tuf-js holding root v1 updates to root v2 from the bundle over HTTP', async () => {
    const server = await serveDirectory(join(base, 'bundle'));
    try {
      // the bundle carries only new target files: serve targets from the workspace for the download
      const client = newClient(server, oldRoot);
      await client.updater.refresh();
      expect(readJson(join(client.metadataDir, 'root.json')).signed.version).toBe(2);
    } finally {
      await server.close();
    }
    const ws = await serveDirectory(org);
    try {
      const client = newClient(ws, oldRoot);
      expect((await fetchTarget(client, 'app.txt')).toString()).toBe('hello ceremony\n');
      expect(readJson(join(client.metadataDir, 'root.json')).signed.version).toBe(2);
    } finally {
      await ws.close();
    }
  });

  it('a tampered bundle fails verify: changed file, unlisted file', () => {
    const b2 = join(base, 'bundle-tampered');
    cpSync(join(base, 'bundle'), b2, { recursive: true });
    writeFileSync(join(b2, 'metadata', 'extra.json'), '{}');
    const v = tufsign(['verify', b2, '--root', oldRoot, '--json']);
    expect(v.status).toBe(1);
    const ts = join(b2, 'TRANSCRIPT.json');
    writeFileSync(ts, readFileSync(ts, 'utf8').replace('"finalized"', '"signed"'));
    const v2 = tufsign(['verify', b2, '--root', oldRoot, '--json']);
    expect(v2.status).toBe(1);
    expect(v2.json.error.code).toBe('VERIFY_FAILED');
    const bundle = v2.json.error.details.report.roles.find((r: any) => r.role === 'bundle');
    expect(
      bundle.checks
        .filter((c: any) => !c.ok)
        .map((c: any) => c.message)
        .join(' '),
    ).toMatch(/unlisted|not in the manifest/);
    expect(bundle.checks.some((c: any) => !c.ok && /TRANSCRIPT/.test(c.message))).toBe(true);
  });

  it('a request from another repository is refused; a finished ceremony re-run changes nothing', () => {
    const other = join(base, 'other');
    ok(['init', other, '--name', 'other']);
    const foreign = tufsign([
      'ceremony',
      'finalize',
      join(org, 'merged.tufsign-request.json'),
      '--out',
      join(base, 'x'),
      '-w',
      other,
      '--json',
    ]);
    expect(errorCode(foreign)).toBe('REQUEST_FOREIGN');
    // finalize is re-runnable after a kill (ADR 0007): when every role is on disk at the request's exact bytes, a
    // re-run completes without a new root or targets version; only snapshot and timestamp are signed again (a
    // request older than the disk is REQUEST_STALE, anchor tests)
    const metadata = (): string[] =>
      readdirSync(join(org, 'metadata'))
        .filter((f) => /(root|targets)\.json$/.test(f))
        .sort();
    const before = metadata();
    const rootBefore = readFileSync(join(org, 'metadata', 'root.json'));
    const again = tufsign(['ceremony', 'finalize', 'merged.tufsign-request.json', '--out', join(base, 'y'), '--json'], {
      cwd: org,
    });
    expect(again.status).toBe(0);
    expect(metadata()).toEqual(before);
    expect(readFileSync(join(org, 'metadata', 'root.json'))).toEqual(rootBefore);
  });
});
