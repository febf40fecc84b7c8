/**
 * A repository made by `tufsign init` + `targets add` (the built CLI, file keys)
 * is consumed by the independent tuf-js client over HTTP on 127.0.0.1; the same
 * after root rotations; and tampered copies are rejected by both `tufsign
 * verify` and tuf-js.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileBackend } from '../../src/keystore/file';
import { Metadata, Signature, type Root } from '../../src/tuf/metadata';
import { Workspace } from '../../src/repository/workspace';
import { runCli, TEST_OFFLINE_PASSPHRASE, TEST_PASSPHRASE } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';
import { fetchTarget, newClient, serveDirectory, type StaticServer } from '../helpers/tuf-client';
import { parseKeyRef, parseKeyRefOf } from '../../src/keystore/key-ref';

const base = tempDir();
const ws = join(base, 'repo');
const payload = join(base, 'hello.txt');
const CONTENT = 'hello, tuf\n';
const secrets = { getSecret: () => Promise.resolve(Buffer.from(TEST_PASSPHRASE)) };
// init keeps root offline by default: its key file is under offline-keys/, under a passphrase of its own (ADR 0011)
const offlineSecrets = { getSecret: () => Promise.resolve(Buffer.from(TEST_OFFLINE_PASSPHRASE)) };

function verifyJson(dir: string, extra: string[] = []): { status: number; report: any } {
  const r = runCli(['verify', dir, '--json', ...extra]);
  // failures come as the error envelope, with the full report in details
  const j = r.json();
  return { status: r.status, report: r.status === 0 ? j : j.error.details.report };
}

function failedChecks(report: any): { role: string; code: string }[] {
  return report.roles.flatMap((r: any) =>
    r.checks.filter((c: any) => !c.ok).map((c: any) => ({ role: r.role, code: c.code })),
  );
}

async function withServer<T>(dir: string, f: (s: StaticServer) => Promise<T>): Promise<T> {
  const server = await serveDirectory(dir);
  try {
    return await f(server);
  } finally {
    await server.close();
  }
}

beforeAll(() => {
  const init = runCli(['init', ws, '--json']);
  expect(init.status).toBe(0);
  expect(init.json()).toMatchObject({ complete: true });
  writeFileSync(payload, CONTENT);
  const add = runCli(['targets', 'add', payload, '-w', ws, '--json']);
  expect(add.status).toBe(0);
});

describe('a fresh repository', () => {
  it('passes tufsign verify', () => {
    const { status, report } = verifyJson(ws);
    expect(status).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.targets).toEqual([expect.objectContaining({ path: 'hello.txt', ok: true })]);
  });

  it('is consumed by the tuf-js client, which downloads and checks the target', async () => {
    await withServer(ws, async (server) => {
      const client = newClient(server, join(ws, 'metadata', '1.root.json'));
      expect((await fetchTarget(client, 'hello.txt')).toString()).toBe(CONTENT);
    });
  });
});

describe('a rotated root', () => {
  let rotated: string;
  beforeAll(async () => {
    rotated = join(base, 'rotated');
    cpSync(ws, rotated, { recursive: true });
    // v2: same keys, new version (tufsign sign root --bump)
    expect(runCli(['sign', 'root', '--bump', '-w', rotated]).status).toBe(0);
    // v3: the root key is replaced; signed by the old key (previous threshold) and the new one
    const gen = runCli(['key', 'generate', '--out', join(rotated, 'keys', 'root-2.pem'), '--json']);
    expect(gen.status).toBe(0);
    const workspace = Workspace.open(rotated);
    const v2 = workspace.loadRoot();
    const next = Metadata.fromJSON(v2.toJSON()) as Metadata<Root>;
    next.clearSignatures();
    next.signed.version = 3;
    const oldSigner = await fileBackend.open(parseKeyRefOf('file', 'file:offline-keys/root-1.pem'), {
      secrets: offlineSecrets,
      baseDir: rotated,
      env: {},
    });
    const newSigner = await fileBackend.open(parseKeyRefOf('file', 'file:keys/root-2.pem'), {
      secrets,
      baseDir: rotated,
      env: {},
    });
    next.signed.revokeKey(oldSigner.publicKey.keyid(), 'root');
    next.signed.addKey(newSigner.publicKey, 'root');
    for (const s of [oldSigner, newSigner]) {
      const { keyid, signature } = await s.sign(next.signedBytes());
      next.addSignature(new Signature(keyid, Buffer.from(signature).toString('hex')));
    }
    workspace.writeMetadata(next, true);
    workspace.config.keys.set(newSigner.publicKey.keyid(), { ref: parseKeyRef('file:keys/root-2.pem') });
    workspace.saveConfig();
  });

  it('passes tufsign verify from the v1 root, and tuf-js updates v1 → v3', async () => {
    const { status, report } = verifyJson(rotated);
    expect(status).toBe(0);
    expect(report.rootVersion).toBe(3);
    await withServer(rotated, async (server) => {
      const client = newClient(server, join(rotated, 'metadata', '1.root.json'));
      expect((await fetchTarget(client, 'hello.txt')).toString()).toBe(CONTENT);
      const trusted = JSON.parse(readFileSync(join(client.metadataDir, 'root.json'), 'utf8'));
      expect(trusted.signed.version).toBe(3);
    });
  });

  it('tufsign can keep signing with the rotated root (sign root --bump makes v4 under the new key)', () => {
    const r = runCli(['sign', 'root', '--bump', '-w', rotated, '--json']);
    expect(r.status).toBe(0);
    expect(verifyJson(rotated).report.rootVersion).toBe(4);
  });
});

describe('tampered copies are rejected by tufsign verify and by tuf-js', () => {
  function copy(name: string): string {
    const dir = join(base, name);
    cpSync(ws, dir, { recursive: true });
    return dir;
  }
  const latest = (dir: string, role: string): number =>
    Math.max(
      ...readdirSync(join(dir, 'metadata'))
        .map((f) => new RegExp(`^(\\d+)\\.${role}\\.json$`).exec(f)?.[1])
        .filter((v): v is string => v !== undefined)
        .map(Number),
    );

  it('a changed target byte', async () => {
    const dir = copy('tampered-target');
    for (const f of readdirSync(join(dir, 'targets'))) {
      if (!f.endsWith('hello.txt')) continue;
      const p = join(dir, 'targets', f);
      const b = readFileSync(p);
      b[0] = b[0]! ^ 1;
      writeFileSync(p, b);
    }
    const { status, report } = verifyJson(dir);
    expect(status).toBe(1);
    expect(report.targets).toEqual([expect.objectContaining({ path: 'hello.txt', ok: false })]);
    await withServer(dir, async (server) => {
      await expect(fetchTarget(newClient(server, join(dir, 'metadata', '1.root.json')), 'hello.txt')).rejects.toThrow(
        /hash|length/i,
      );
    });
  });

  it('a rolled-back snapshot served under the current name', async () => {
    const dir = copy('tampered-snapshot');
    const v = latest(dir, 'snapshot');
    writeFileSync(
      join(dir, 'metadata', `${v}.snapshot.json`),
      readFileSync(join(dir, 'metadata', `${v - 1}.snapshot.json`)),
    );
    const { status, report } = verifyJson(dir);
    expect(status).toBe(1);
    expect(failedChecks(report)).toEqual(expect.arrayContaining([expect.objectContaining({ role: 'snapshot' })]));
    await withServer(dir, async (server) => {
      await expect(fetchTarget(newClient(server, join(dir, 'metadata', '1.root.json')), 'hello.txt')).rejects.toThrow();
    });
  });

  it('an expired timestamp', async () => {
    const dir = copy('tampered-expired');
    const past = new Date(Date.now() - 3 * 86400 * 1000).toISOString();
    expect(runCli(['refresh', '-w', dir], { env: { TUFSIGN_NOW: past } }).status).toBe(0);
    const { status, report } = verifyJson(dir);
    expect(status).toBe(1);
    expect(failedChecks(report)).toEqual([{ role: 'timestamp', code: 'METADATA_EXPIRED' }]);
    await withServer(dir, async (server) => {
      await expect(fetchTarget(newClient(server, join(dir, 'metadata', '1.root.json')), 'hello.txt')).rejects.toThrow(
        /expired/i,
      );
    });
  });

  it('a signature removed below the threshold', async () => {
    const dir = copy('tampered-unsigned');
    const file = join(dir, 'metadata', `${latest(dir, 'targets')}.targets.json`);
    const md = JSON.parse(readFileSync(file, 'utf8'));
    md.signatures = [];
    writeFileSync(file, JSON.stringify(md, null, 2));
    const { status, report } = verifyJson(dir);
    expect(status).toBe(1);
    expect(failedChecks(report)).toEqual([{ role: 'targets', code: 'THRESHOLD_NOT_MET' }]);
    await withServer(dir, async (server) => {
      await expect(fetchTarget(newClient(server, join(dir, 'metadata', '1.root.json')), 'hello.txt')).rejects.toThrow(
        /signed by 0\/1|signature|threshold/i,
      );
    });
  });

  it('verify --at after the timestamp expiry fails, before it passes', () => {
    expect(runCli(['verify', ws, '--at', new Date(Date.now() + 2 * 86400 * 1000).toISOString()]).status).toBe(1);
    expect(runCli(['verify', ws, '--at', new Date(Date.now() + 3600 * 1000).toISOString()]).status).toBe(0);
  });
});
