/**
 * `init --import` for python-tuf, tuf-on-ci and go-tuf v0 repositories
 * (test/fixtures/import, see its README), end to end with the built CLI:
 * import, verify, one change signed by tufsign, and the tuf-js client holding
 * the source's FIRST root following it over HTTP.
 * Keys python-tuf and tuf-on-ci hold outside files (signers, YubiKeys, KMS)
 * are imported public-only; the test then attaches the keyholders' test keys
 * the way an operator does (a key file per key, its URI in tufsign.json).
 */
import { createPublicKey } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, TEST_PASSPHRASE } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';
import { fetchTarget, newClient, serveDirectory } from '../helpers/tuf-client';
import { readSourceKeyFile } from '../../src/import/keyfiles';
import { encryptPrivateKey } from '../../src/keystore/file/pkcs8';
import { keyFromPublicKeyObject } from '../../src/tuf/key';
import { Workspace } from '../../src/repository/workspace';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'import');
const base = tempDir('tufsign-import-formats-');

function importFixture(
  name: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): { ws: string; src: string; report: any } {
  const src = join(base, `${name}-src`);
  cpSync(join(FIXTURES, name), src, { recursive: true });
  const ws = join(base, `${name}-ws`);
  const r = runCli(['init', ws, '--import', src, '--json', ...extra], { env });
  if (r.status !== 0) throw new Error(`import of ${name} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return { ws, src, report: r.json() };
}

/**
 * What an operator does for keys held outside files: put each key where tufsign can use it (here: the
 * keyholder's test key converted to an encrypted PKCS#8 file) and attach it with `tufsign key attach`, which
 * checks that the URI holds a key the metadata lists.
 */
async function attachKeys(ws: string, holders: string, names: string[]): Promise<void> {
  mkdirSync(join(ws, 'keys'), { recursive: true });
  for (const name of names) {
    const [k] = await readSourceKeyFile({ name, file: join(FIXTURES, holders, name), kind: 'securesystemslib' }, () =>
      Promise.reject(new Error('not encrypted')),
    );
    if (k === undefined) throw new Error(`no key in ${name}`);
    const rel = `keys/${name}.pem`;
    writeFileSync(join(ws, rel), encryptPrivateKey(k.privateKey, Buffer.from(TEST_PASSPHRASE)), { mode: 0o600 });
    const r = runCli(['key', 'attach', `file:${rel}`, '-w', ws, '--json']);
    if (r.status !== 0) throw new Error(`key attach ${rel} failed (${r.status}): ${r.stdout}${r.stderr}`);
    const pub = keyFromPublicKeyObject(createPublicKey(k.privateKey), k.scheme);
    const listed = [...Workspace.open(ws).config.keys]
      .filter(([, e]) => e.ref?.uri === `file:${rel}`)
      .map(([id]) => id);
    expect(r.json().keyids).toEqual(listed);
    expect(listed.length).toBeGreaterThan(0);
    expect(pub.scheme).toBe(r.json().scheme);
  }
}

async function clientFollows(
  ws: string,
  trustedRoot: string,
  target: string,
  expectRootVersion: number,
): Promise<void> {
  const server = await serveDirectory(ws);
  try {
    const client = newClient(server, trustedRoot);
    const data = await fetchTarget(client, target);
    expect(data.length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(client.metadataDir, 'root.json'), 'utf8')).signed.version).toBe(
      expectRootVersion,
    );
  } finally {
    await server.close();
  }
}

describe('python-tuf (Metadata API repository: consistent snapshots, ECDSA root, a delegation)', () => {
  let ws: string;
  let src: string;
  let report: any;
  beforeAll(() => ({ ws, src, report } = importFixture('python-tuf', ['--format', 'python-tuf'])));

  it('imports both roots, the delegated role and the hash-prefixed targets; every key public-only', () => {
    expect(report.rootVersions).toEqual([1, 2]);
    expect(report.roles.map((r: any) => r.role).sort()).toEqual([
      'releases',
      'root',
      'snapshot',
      'targets',
      'timestamp',
    ]);
    expect(report.targets).toEqual({ count: 2, copied: 2, missing: [] });
    expect(report.keys.every((k: any) => k.uri === null)).toBe(true);
    expect(report.legacyKeyids).toEqual([]);
    expect(readFileSync(join(ws, 'metadata', '1.releases.json'))).toEqual(
      readFileSync(join(src, 'metadata', '1.releases.json')),
    );
    expect(runCli(['verify', ws, '--strict-keyids']).status).toBe(0);
  });

  it('a target listed with sha256 and sha512 is stored once: its two hash-prefixed names are one file (ADR 0017)', () => {
    const names = readdirSync(join(ws, 'targets', 'releases')).filter((n) => n.endsWith('.notes-1.0.txt'));
    expect(names).toHaveLength(2);
    const [a, b] = names.map((n) => statSync(join(ws, 'targets', 'releases', n)));
    expect(a?.ino).toBe(b?.ino);
    expect(a?.nlink).toBe(2);
  });

  it('a root rotation signed by tufsign (threshold 2 → 1, one root key removed) is followed by a client holding root v1', async () => {
    await attachKeys(ws, 'python-tuf-keyholders', ['root', 'root2', 'snapshot', 'timestamp']);
    const root2 = JSON.parse(readFileSync(join(ws, 'metadata', '2.root.json'), 'utf8'));
    const removed = root2.signed.roles.root.keyids[1] as string;
    const r = runCli(['root', 'rotate', '--remove-key', removed, '--threshold', '1', '-w', ws, '--json']);
    expect(r.status).toBe(0);
    expect(r.json().applied).toBeDefined();
    expect(runCli(['verify', ws, '--strict-keyids']).status).toBe(0);
    await clientFollows(ws, join(src, 'metadata', '1.root.json'), 'releases/notes-1.0.txt', 3);
  });
});

describe('tuf-on-ci (root_history, x- fields, "sig": "" placeholders, go-tuf-era root v1, a keyid edited after the fact)', () => {
  let ws: string;
  let src: string;
  let report: any;
  beforeAll(() => ({ ws, src, report } = importFixture('tuf-on-ci')));

  it('detects the format, keeps the re-serialized history and placeholders byte for byte, names the owners', () => {
    expect(report.format).toBe('tuf-on-ci');
    expect(report.rootVersions).toEqual([1, 2, 3]);
    for (const v of [1, 2, 3])
      expect(readFileSync(join(ws, 'metadata', `${v}.root.json`))).toEqual(
        readFileSync(join(src, 'metadata', 'root_history', `${v}.root.json`)),
      );
    expect(readFileSync(join(ws, 'metadata', '4.targets.json'), 'utf8')).toContain('"sig": ""');
    expect(
      report.keys
        .map((k: any) => k.owner)
        .filter(Boolean)
        .sort(),
    ).toEqual(['@alice', '@bob']);
    expect(readdirSync(join(ws, 'targets')).some((n) => n.endsWith('.trusted_root.json'))).toBe(true);
  });

  it('the edited keyid in root v2 is history: default verify passes, --strict-keyids (tough) fails, from root v3 it passes', () => {
    expect(report.legacyKeyids).toHaveLength(1);
    expect(report.legacyKeyids[0]).toMatchObject({ where: 'root v2 keys', derivation: 'unknown' });
    expect(runCli(['verify', ws]).status).toBe(0);
    expect(runCli(['verify', ws, '--strict-keyids']).status).toBe(1);
    expect(runCli(['verify', ws, '--strict-keyids', '--root', join(ws, 'metadata', '3.root.json')]).status).toBe(0);
  });

  it('a root renewal signed by tufsign is followed by a client holding the go-tuf-era root v1', async () => {
    await attachKeys(ws, 'tuf-on-ci-keyholders', ['alice', 'online']);
    const r = runCli(['root', 'rotate', '--expires', '400d', '-w', ws, '--json']);
    expect(r.status).toBe(0);
    expect(r.json().applied).toBeDefined();
    await clientFollows(ws, join(src, 'metadata', 'root_history', '1.root.json'), 'trusted_root.json', 4);
  });
});

describe('go-tuf v0 (repository/ + staged/ + keys/)', () => {
  let ws: string;
  let src: string;
  let report: any;
  beforeAll(
    () => ({ ws, src, report } = importFixture('go-tuf-v0', [], { TUFSIGN_SOURCE_PASSPHRASE: 'go-tuf-fixture' })),
  );

  it('converts the plain key files and the encrypted one (scrypt + secretbox, written by PyNaCl), leaves staged/ out', () => {
    expect(report.format).toBe('go-tuf-v0');
    expect(report.keys.map((k: any) => k.uri).sort()).toEqual([
      'file:keys/root.pem',
      'file:keys/snapshot.pem',
      'file:keys/targets.pem',
      'file:keys/timestamp.pem',
    ]);
    expect(report.notes.join('\n')).toContain('staged/');
    expect(report.warnings).toEqual([]);
    expect(readFileSync(join(ws, 'metadata', '1.root.json'))).toEqual(
      readFileSync(join(src, 'repository', 'root.json')),
    );
  });

  it('the staged target added with tufsign (every key from the converted files) is followed by a client holding root v1', async () => {
    const r = runCli(['targets', 'add', join(src, 'staged', 'targets', 'new.txt'), '-w', ws, '--json']);
    expect(r.status).toBe(0);
    await clientFollows(ws, join(src, 'repository', 'root.json'), 'new.txt', 1);
  });
});
