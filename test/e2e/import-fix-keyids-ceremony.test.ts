/**
 * The keyid-migration root of an imported tufup repository when the root key
 * is NOT on the organizer's machine (ADR 0015): `root rotate --fix-keyids`
 * writes a signing request; the keyholder signs it on their own machine, with
 * no workspace, from the request file alone; that one signature is recorded
 * under the key's legacy keyid (root v2's threshold: what python-tuf, tuf-js
 * and tufup clients look up) and under its correct keyid (root v3's); the
 * organizer finalizes, strict verification from root v3 passes, and a tuf-js
 * client holding tufup's root v1 follows.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TEST_PASSPHRASE } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';
import { fetchTarget, newClient, serveDirectory } from '../helpers/tuf-client';
import { errorCode, fingerprintOf, ok, readJson, tufsign } from './ceremony-helpers';
import { readSourceKeyFile } from '../../src/import/keyfiles';
import { encryptPrivateKey } from '../../src/keystore/file/pkcs8';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'import', 'tufup');
const SOURCE_ENV = { TUFSIGN_SOURCE_PASSPHRASE: 'tufup-fixture' };

describe('root rotate --fix-keyids through a file-carried ceremony (root and targets keys on keyholder machines)', () => {
  const base = tempDir('tufsign-fix-keyids-ceremony-');
  const src = join(base, 'src');
  const org = join(base, 'organizer');
  const holder = join(base, 'keyholder');
  const targetsHolder = join(base, 'targets-keyholder');
  const request = 'fix.tufsign-request.json';
  let legacyRootId: string;
  let legacyTargetsId: string;

  beforeAll(() => {
    cpSync(FIXTURE, src, { recursive: true });
    const imported = ok(['init', org, '--import', src, '--json'], { env: SOURCE_ENV });
    // tufup's expiration_days (3650 for every role here) is beyond tufsign's default max_expiry: kept, and said so
    expect(readJson(join(org, 'tufsign.json')).max_expiry).toMatchObject({ root: '3650d', targets: '3650d' });
    expect(imported.json.notes.join('\n')).toContain('max_expiry');
    // The root and targets keys leave the organizer's machine: each file goes to its keyholder, the workspace
    // keeps the public keys.
    const config = readJson(join(org, 'tufsign.json'));
    const roles = readJson(join(org, 'metadata', '2.root.json')).signed.roles;
    legacyRootId = roles.root.keyids[0];
    legacyTargetsId = roles.targets.keyids[0];
    for (const [dir, id, name] of [
      [holder, legacyRootId, 'root_two'],
      [targetsHolder, legacyTargetsId, 'targets'],
    ] as const) {
      mkdirSync(join(dir, 'keys'), { recursive: true });
      renameSync(join(org, 'keys', `${name}.pem`), join(dir, 'keys', `${name}.pem`));
      // once, on the keyholder's machine: the public part beside the key file, so signing matches it to the plan
      // before its passphrase (ADR 0008)
      ok(['key', 'export', `file:keys/${name}.pem`, '--out', `keys/${name}.pem.pub.json`], { cwd: dir });
      expect(config.keys[id].uri).toBe(`file:keys/${name}.pem`);
      delete config.keys[id].uri;
    }
    writeFileSync(join(org, 'tufsign.json'), JSON.stringify(config, null, 2));
  });

  it('the organizer plans root v3 (for 365 days: a keyholder without the workspace refuses 3650): both sides need the keyholder', () => {
    const r = ok([
      'root',
      'rotate',
      '--fix-keyids',
      '--expires',
      '365d',
      '-w',
      org,
      '--request-out',
      join(org, request),
      '--json',
    ]);
    expect(r.json.applied).toBeUndefined();
    const root = r.json.request.status.roles.find((x: any) => x.role === 'root');
    expect(root.version).toBe(3);
    expect(root.sides.map((s: any) => [s.side, s.missing]).sort()).toEqual([
      ['new', 1],
      ['previous', 1],
    ]);
    // targets moves to its correct keyid too: re-signed under it, by its keyholder
    const targets = r.json.request.status.roles.find((x: any) => x.role === 'targets');
    expect(targets.sides.map((s: any) => s.missing)).toEqual([1]);
    expect(existsSync(join(org, 'metadata', '3.root.json'))).toBe(false);
  });

  it('the keyholder signs once, from the request alone; it counts under the legacy and the correct keyid', () => {
    cpSync(join(org, request), join(holder, request));
    const signed = ok(
      [
        'ceremony',
        'sign',
        request,
        '--key',
        'file:keys/root_two.pem',
        '--fingerprint',
        fingerprintOf(request, holder),
        '--yes',
        '--json',
      ],
      { cwd: holder },
    );
    const added = signed.json.added.filter((a: any) => a.role === 'root').map((a: any) => a.keyid);
    const newRootId = readJson(join(holder, request)).roles.find((r: any) => r.role === 'root').metadata.signed.roles
      .root.keyids[0];
    expect(newRootId).not.toBe(legacyRootId);
    expect(added.sort()).toEqual([legacyRootId, newRootId].sort());
    expect(signed.json.status.canFinalize).toBe(false); // targets still needs its keyholder
    // signing again adds nothing
    const again = ok(
      [
        'ceremony',
        'sign',
        request,
        '--key',
        'file:keys/root_two.pem',
        '--fingerprint',
        fingerprintOf(request, holder),
        '--yes',
        '--json',
      ],
      { cwd: holder },
    );
    expect(again.json.added).toEqual([]);
  });

  it('the targets keyholder signs the same file next, under the correct keyid the trusted root knows by its legacy one', () => {
    cpSync(join(holder, request), join(targetsHolder, request));
    const signed = ok(
      [
        'ceremony',
        'sign',
        request,
        '--key',
        'file:keys/targets.pem',
        '--fingerprint',
        fingerprintOf(request, targetsHolder),
        '--yes',
        '--json',
      ],
      { cwd: targetsHolder },
    );
    const newTargetsId = readJson(join(targetsHolder, request)).roles.find((r: any) => r.role === 'root').metadata
      .signed.roles.targets.keyids[0];
    expect(newTargetsId).not.toBe(legacyTargetsId);
    expect(signed.json.added.map((a: any) => [a.role, a.keyid])).toEqual([['targets', newTargetsId]]);
    expect(signed.json.status.canFinalize).toBe(true);
  });

  it('a key outside the plan is still refused', () => {
    // imported key files have no public part beside them: refused before the passphrase until one is there
    const ts = join(org, 'keys', 'timestamp.pem');
    const attempt = () =>
      tufsign(
        [
          'ceremony',
          'sign',
          request,
          '--key',
          `file:${ts}`,
          '--fingerprint',
          fingerprintOf(request, holder),
          '--yes',
          '--json',
        ],
        { cwd: holder, env: { TUFSIGN_PASSPHRASE: undefined } },
      );
    expect(errorCode(attempt())).toBe('KEY_IDENTITY_UNKNOWN');
    ok(['key', 'export', `file:${ts}`, '--out', `${ts}.pub.json`]);
    expect(errorCode(attempt())).toBe('SIGNATURE_REFUSED');
    const stranger = tufsign(
      [
        'ceremony',
        'sign',
        request,
        '--key',
        `file:${join(org, 'keys', 'timestamp.pem')}`,
        '--fingerprint',
        fingerprintOf(request, holder),
        '--yes',
        '--json',
      ],
      { cwd: holder },
    );
    expect(errorCode(stranger)).toBe('SIGNATURE_REFUSED');
  });

  it('the organizer finalizes; root v3 verifies strictly; a client holding tufup root v1 follows', async () => {
    cpSync(join(targetsHolder, request), join(org, 'signed.tufsign-request.json'));
    ok([
      'ceremony',
      'finalize',
      join(org, 'signed.tufsign-request.json'),
      '-w',
      org,
      '--bundle-out',
      join(base, 'bundle'),
      '--json',
    ]);
    const root3 = readJson(join(org, 'metadata', '3.root.json'));
    const newRootId = root3.signed.roles.root.keyids[0];
    expect(root3.signatures.map((s: any) => s.keyid).sort()).toEqual([legacyRootId, newRootId].sort());
    expect(tufsign(['verify', org, '--strict-keyids', '--root', join(org, 'metadata', '3.root.json')]).status).toBe(0);
    expect(tufsign(['verify', org]).status).toBe(0);
    const server = await serveDirectory(org);
    try {
      const client = newClient(server, join(src, 'repository', 'metadata', '1.root.json'));
      expect((await fetchTarget(client, 'example_app-3.0.tar.gz')).length).toBeGreaterThan(0);
      expect(JSON.parse(readFileSync(join(client.metadataDir, 'root.json'), 'utf8')).signed.version).toBe(3);
    } finally {
      await server.close();
    }
  });
});

describe('a tuf-on-ci keyholder signs from the request alone with a key whose stored object carries x- fields', () => {
  const base = tempDir('tufsign-tuf-on-ci-ceremony-');
  const src = join(base, 'src');
  const org = join(base, 'organizer');
  const alice = join(base, 'alice');
  const request = 'renew.tufsign-request.json';

  it("@alice's plain key file signs under the keyid hashed over x-tuf-on-ci-keyowner; finalize publishes root v4", async () => {
    cpSync(join(ROOT, 'test', 'fixtures', 'import', 'tuf-on-ci'), src, { recursive: true });
    ok(['init', org, '--import', src, '--json']);
    // the organizer holds no root key: the renewal becomes a request
    const r = ok(['root', 'rotate', '--expires', '400d', '-w', org, '--request-out', join(org, request), '--json']);
    expect(r.json.applied).toBeUndefined();
    mkdirSync(join(alice, 'keys'), { recursive: true });
    const [k] = await readSourceKeyFile(
      {
        name: 'alice',
        file: join(ROOT, 'test', 'fixtures', 'import', 'tuf-on-ci-keyholders', 'alice'),
        kind: 'securesystemslib',
      },
      () => Promise.reject(new Error('not encrypted')),
    );
    writeFileSync(join(alice, 'keys', 'alice.pem'), encryptPrivateKey(k!.privateKey, Buffer.from(TEST_PASSPHRASE)), {
      mode: 0o600,
    });
    ok(['key', 'export', 'file:keys/alice.pem', '--out', 'keys/alice.pem.pub.json'], { cwd: alice });
    cpSync(join(org, request), join(alice, request));
    const stored = readJson(join(org, 'metadata', '3.root.json')).signed;
    const aliceId = Object.keys(stored.keys).find((id) => stored.keys[id]['x-tuf-on-ci-keyowner'] === '@alice')!;
    const signed = ok(
      [
        'ceremony',
        'sign',
        request,
        '--key',
        'file:keys/alice.pem',
        '--fingerprint',
        fingerprintOf(request, alice),
        '--yes',
        '--json',
      ],
      { cwd: alice },
    );
    expect(signed.json.added.map((a: any) => a.keyid)).toEqual([aliceId]);
    cpSync(join(alice, request), join(org, 'signed.tufsign-request.json'));
    ok([
      'ceremony',
      'finalize',
      join(org, 'signed.tufsign-request.json'),
      '-w',
      org,
      '--bundle-out',
      join(base, 'b'),
      '--json',
    ]);
    expect(readJson(join(org, 'metadata', '4.root.json')).signatures.map((s: any) => s.keyid)).toContain(aliceId);
    expect(tufsign(['verify', org]).status).toBe(0);
  });
});
