/**
 * The snapshot/timestamp follow-up after those keys rotate, signed by a keyholder WITHOUT the workspace (ADR 0008,
 * "a basis published before a key rotation"): `key rotate snapshot` replaces the snapshot key with carol's, whose
 * key is on her own laptop; finalize publishes root v2 and writes one follow-up request for snapshot + timestamp.
 * Its snapshot basis is signed by the key root v2 replaced, so only an earlier root verified from carol's pin can
 * vouch for it: pinned at v1 she signs (and is told which root vouched); pinned at v2 she is refused. The organizer
 * finalizes, and tuf-js starting from root v1 downloads a target over HTTP.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchTarget, newClient, serveDirectory } from '../helpers/tuf-client';
import { errorCode, fingerprintOf, keyholder, ok, pinnedRootDir, readJson, tmp, tufsign } from './ceremony-helpers';

jest.setTimeout(180_000);

describe('a snapshot/timestamp follow-up after a key rotation, signed without the workspace', () => {
  const base = tmp('tufsign-followup-rotated-');
  const org = join(base, 'org');
  let carol: ReturnType<typeof keyholder>;
  let request: string;
  /** carol's trust folder, pinned at root v1 by an earlier ceremony */
  const pinnedV1 = join(base, 'carol-trust-v1');
  /** another keyholder's trust folder, already at root v2 */
  const pinnedV2 = join(base, 'dave-trust-v2');

  beforeAll(() => {
    ok(['init', org, '--name', 'demo']);
    writeFileSync(join(base, 'a.txt'), 'payload a\n');
    ok(['targets', 'add', join(base, 'a.txt'), '--path', 'a.txt', '-w', org]);
    carol = keyholder(base, 'carol');
    pinnedRootDir(org, pinnedV1);
    const oldSnapshotKey = readJson(join(org, 'metadata', '1.root.json')).signed.roles.snapshot.keyids[0];
    const r = ok(['key', 'rotate', 'snapshot', '--replace', oldSnapshotKey, '--with', carol.pub, '-w', org, '--json']);
    expect(r.json.applied.roles.map((x: any) => x.role)).toEqual(['root']);
    request = r.json.applied.followUp.request;
    expect(r.json.applied.followUp.status.roles.map((x: any) => x.role)).toEqual(['snapshot', 'timestamp']);
    mkdirSync(pinnedV2);
    copyFileSync(join(org, 'metadata', '2.root.json'), join(pinnedV2, 'root.json'));
  });

  const sign = (trustDir: string, extra: string[] = []): ReturnType<typeof tufsign> =>
    tufsign(
      [
        'ceremony',
        'sign',
        request,
        '--key',
        carol.uri,
        '--trust-dir',
        trustDir,
        '--fingerprint',
        fingerprintOf(request),
        '--yes',
        '--json',
        ...extra,
      ],
      { cwd: carol.dir },
    );

  it('a keyholder pinned at the new root has no earlier root to vouch for the old snapshot: refused, nothing written', () => {
    const before = readFileSync(request, 'utf8');
    expect(errorCode(sign(pinnedV2))).toBe('TRUST_BASIS_INVALID');
    expect(readFileSync(request, 'utf8')).toBe(before);
  });

  it('the guided screen names the earlier root that vouches for the basis, before the secret', () => {
    // no passphrase on this run: the screen is shown, then the secret cannot be had and nothing is signed
    const r = tufsign(
      [
        'ceremony',
        request,
        '--key',
        carol.uri,
        '--trust-dir',
        pinnedV1,
        '--fingerprint',
        fingerprintOf(request),
        '--yes',
      ],
      { cwd: carol.dir, env: { TUFSIGN_PASSPHRASE: undefined } },
    );
    expect(r.status).not.toBe(0);
    const screen = r.stdout + r.stderr;
    expect(screen).toMatch(/snapshot v2 .*root v1.*REPLACED/s);
    expect(readJson(request).roles[0].metadata.signatures).toEqual([]);
  });

  it('pinned at root v1, carol signs; the pin moves to root v2; the organizer finalizes and tuf-js follows', async () => {
    const r = sign(pinnedV1);
    expect(r.status).toBe(0);
    expect(r.json.added.map((a: any) => a.role)).toEqual(['snapshot']);
    expect(r.json.status.canFinalize).toBe(true);
    expect(readFileSync(join(pinnedV1, 'root.json'), 'utf8')).toBe(
      readFileSync(join(org, 'metadata', '2.root.json'), 'utf8'),
    );
    const bundle = join(base, 'bundle');
    const f = ok(['ceremony', 'finalize', request, '--bundle-out', bundle, '-w', org, '--json']);
    expect(f.json.followUp).toBeUndefined();
    expect(f.json.roles.map((x: any) => x.role)).toEqual(['snapshot', 'timestamp']);
    ok(['verify', bundle, '--root', join(org, 'metadata', '1.root.json')]);
    expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);
    const server = await serveDirectory(org);
    try {
      const client = newClient(server, join(org, 'metadata', '1.root.json'));
      expect((await fetchTarget(client, 'a.txt')).toString()).toBe('payload a\n');
    } finally {
      await server.close();
    }
    // the snapshot clients now read is signed by carol's key alone
    const ts = readJson(join(org, 'metadata', 'timestamp.json'));
    const snap = readJson(join(org, 'metadata', `${ts.signed.meta['snapshot.json'].version}.snapshot.json`));
    expect(snap.signatures.map((s: any) => s.keyid)).toEqual([readJson(carol.pub).keyid]);
  });
});
