/**
 * End to end with the built CLI: root keys on two SoftHSM2 tokens (2-of-2),
 * the targets key on one of them, snapshot/timestamp in key files; checked by
 * `tufsign verify` and consumed by the tuf-js client over HTTP on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, resolve } from 'node:path';
import { Updater } from 'tuf-js';
import {
  describeSoftHsm,
  pkcs11GenerateArgs,
  publicOutJsonFlags,
  SoftHsmLab,
  SOFTHSM_MODULE,
  USER_PIN,
} from '../helpers/softhsm';
import { pinnedRootDir } from '../helpers/ceremony';
import { requireComponent } from '../helpers/requirements';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/run.js');
/** the tests run the built CLI: under CI=true a missing dist/ fails the run (a skipped test would hide it) */
const BUILT = requireComponent('the built CLI (dist/: npm run build)', existsSync(join(ROOT, 'dist/commands/init.js')));

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<RunResult> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env, cwd }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      done({ code, stdout, stderr });
    });
  });
}

function serve(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const p = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!));
    const file = join(dir, p);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

describeSoftHsm('e2e: a repository whose root and targets keys live on two SoftHSM2 tokens', () => {
  let lab: SoftHsmLab;
  let env: NodeJS.ProcessEnv;
  let work: string;

  beforeAll(() => {
    if (!BUILT) return;
    lab = SoftHsmLab.create();
    lab.addToken('hsm-a');
    lab.addToken('hsm-b');
    work = join(lab.dir, 'work');
    mkdirSync(work);
    // The same PIN on both tokens: TUFSIGN_PIN serves every PIN request of a run.
    env = {
      ...lab.env,
      TUFSIGN_PIN: USER_PIN,
      TUFSIGN_PASSPHRASE: 'correct horse battery staple',
      TUFSIGN_PKCS11_MODULE: SOFTHSM_MODULE,
    };
  });
  afterAll(() => lab?.cleanup());

  const maybe = BUILT ? test : test.skip;

  maybe('key generate on two tokens → init (2-of-2 root) → verify → targets add → tuf-js client update', async () => {
    const gen = async (token: string, label: string, scheme: string): Promise<{ uri: string; keyid: string }> => {
      const r = await run(pkcs11GenerateArgs(token, label, publicOutJsonFlags(label, scheme)), env, work);
      expect(r).toMatchObject({ code: 0 });
      return JSON.parse(r.stdout) as { uri: string; keyid: string };
    };
    const rootA = await gen('hsm-a', 'root-a', 'ecdsa-sha2-nistp256');
    const rootB = await gen('hsm-b', 'root-b', 'ed25519');
    const targets = await gen('hsm-a', 'targets', 'rsassa-pss-sha256');
    expect(rootA.uri).toMatch(/^pkcs11:token=hsm-a;object=root-a;id=/);

    // From here on the module comes only from --pkcs11-module, then from tufsign.json.
    const { TUFSIGN_PKCS11_MODULE: _unused, ...envNoModule } = env;
    const init = await run(
      [
        'init',
        'repo',
        '--root-key',
        rootA.uri,
        '--root-key',
        rootB.uri,
        '--root-threshold',
        '2',
        '--targets-key',
        targets.uri,
        '--pkcs11-module',
        SOFTHSM_MODULE,
        '--yes',
        '--json',
      ],
      envNoModule,
      work,
    );
    expect(init.stderr).not.toContain(USER_PIN);
    expect(init).toMatchObject({ code: 0 });
    const repo = join(work, 'repo');
    const root = JSON.parse(readFileSync(join(repo, 'metadata/1.root.json'), 'utf8')) as {
      signed: { roles: Record<string, { keyids: string[]; threshold: number }> };
      signatures: { keyid: string }[];
    };
    expect(root.signed.roles['root']).toMatchObject({ threshold: 2 });
    expect(root.signed.roles['root']!.keyids.sort()).toEqual([rootA.keyid, rootB.keyid].sort());
    expect(root.signed.roles['targets']!.keyids).toEqual([targets.keyid]);
    expect(root.signatures.map((s) => s.keyid).sort()).toEqual([rootA.keyid, rootB.keyid].sort());

    expect(await run(['verify', 'repo'], env, work)).toMatchObject({ code: 0 });

    // A second run (new process, new login) re-signs targets on the token; the module now comes from tufsign.json.
    writeFileSync(join(work, 'hello.txt'), 'hello from an HSM-signed repository\n');
    expect(await run(['targets', 'add', 'hello.txt', '-w', 'repo', '--yes'], envNoModule, work)).toMatchObject({
      code: 0,
    });
    expect(await run(['verify', 'repo'], envNoModule, work)).toMatchObject({ code: 0 });

    // An independent client: tuf-js 5 over HTTP.
    const server = await serve(repo);
    try {
      const port = (server.address() as AddressInfo).port;
      const metadataDir = join(lab.dir, 'client-metadata');
      const targetDir = join(lab.dir, 'client-targets');
      pinnedRootDir(repo, metadataDir);
      mkdirSync(targetDir);
      const updater = new Updater({
        metadataBaseUrl: `http://127.0.0.1:${port}/metadata`,
        targetBaseUrl: `http://127.0.0.1:${port}/targets`,
        metadataDir,
        targetDir,
      });
      await updater.refresh();
      const info = await updater.getTargetInfo('hello.txt');
      expect(info).toBeDefined();
      const path = await updater.downloadTarget(info!, join(targetDir, 'hello.txt'));
      expect(readFileSync(path, 'utf8')).toBe('hello from an HSM-signed repository\n');
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });

  maybe('the wrong PIN makes init fail with the device exit code and no metadata', async () => {
    const r = await run(
      [
        'init',
        'repo2',
        '--root-key',
        'pkcs11:token=hsm-b;object=root-b',
        '--targets-key',
        'pkcs11:token=hsm-a;object=targets',
        '--yes',
        '--json',
      ],
      { ...env, TUFSIGN_PIN: '000000' },
      work,
    );
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'PIN_INCORRECT' } });
    expect(existsSync(join(work, 'repo2/metadata/1.root.json'))).toBe(false);
  });
});
