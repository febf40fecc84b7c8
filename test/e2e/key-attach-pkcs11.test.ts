/**
 * A key imported public-only becomes usable on the token that holds it: the
 * python-tuf fixture's second root key is put on a SoftHSM2 token (as its
 * keyholder's HSM), `tufsign key attach 'pkcs11:…'` checks the token's public
 * key against the imported root before recording the URI, and the next root
 * rotation is signed by that token and a key file; a tuf-js client holding
 * python-tuf's root v1 follows it. A token key the repository does not list is
 * refused and tufsign.json is left as it was.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, TEST_PASSPHRASE } from '../helpers/cli';
import { describeSoftHsm, SoftHsmLab, SOFTHSM_MODULE, USER_PIN } from '../helpers/softhsm';
import { tempDir } from '../helpers/tmp';
import { fetchTarget, newClient, serveDirectory } from '../helpers/tuf-client';
import { encryptPrivateKey } from '../../src/keystore/file/pkcs8';
import { readSourceKeyFile } from '../../src/import/keyfiles';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'import');
const HOLDERS = join(FIXTURES, 'python-tuf-keyholders');

async function holderKey(name: string): Promise<KeyObject> {
  const [k] = await readSourceKeyFile({ name, file: join(HOLDERS, name), kind: 'securesystemslib' }, () =>
    Promise.reject(new Error('not encrypted')),
  );
  if (k === undefined) throw new Error(`no key in ${name}`);
  return k.privateKey;
}

describeSoftHsm('key attach: an imported public-only root key on a PKCS#11 token signs the next root', () => {
  let lab: SoftHsmLab;
  let env: Record<string, string>;
  const base = tempDir('tufsign-attach-pkcs11-');
  const ws = join(base, 'ws');
  const src = join(base, 'src');

  beforeAll(() => {
    lab = SoftHsmLab.create();
    lab.addToken('keyholder');
    env = {
      SOFTHSM2_CONF: lab.conf,
      TUFSIGN_PKCS11_MODULE: SOFTHSM_MODULE,
      TUFSIGN_PIN: USER_PIN,
    };
  });
  afterAll(() => lab?.cleanup());

  /** Put a private key (and its public key) on the token under an id and label, as a keyholder's HSM holds it. */
  function onToken(privateKey: KeyObject, id: string, label: string): void {
    const priv = join(base, `${label}.der`);
    const pub = join(base, `${label}.pub.der`);
    writeFileSync(priv, privateKey.export({ format: 'der', type: 'pkcs8' }), { mode: 0o600 });
    writeFileSync(pub, createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
    const common = ['--login', '--pin', USER_PIN, '--token-label', 'keyholder', '--id', id, '--label', label];
    lab.pkcs11Tool([...common, '--write-object', priv, '--type', 'privkey']);
    lab.pkcs11Tool([...common, '--write-object', pub, '--type', 'pubkey']);
  }

  it('attaches after checking the token key, signs a root rotation with it, and a client follows', async () => {
    cpSync(join(FIXTURES, 'python-tuf'), src, { recursive: true });
    expect(runCli(['init', ws, '--import', src, '--json']).status).toBe(0);
    const root2 = JSON.parse(readFileSync(join(ws, 'metadata', '2.root.json'), 'utf8'));
    const [firstRootId, secondRootId] = root2.signed.roles.root.keyids as [string, string];

    // a key on the token that the repository does not list: refused, nothing recorded
    onToken(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, '09', 'stranger');
    const configBefore = readFileSync(join(ws, 'tufsign.json'));
    const stranger = runCli(['key', 'attach', 'pkcs11:token=keyholder;object=stranger', '-w', ws, '--json'], { env });
    expect(stranger.status).not.toBe(0);
    expect(JSON.parse(stranger.stdout).error.code).toBe('KEY_MISMATCH');
    expect(readFileSync(join(ws, 'tufsign.json'))).toEqual(configBefore);

    // the keyholder's root key on the token, the other keys as files
    onToken(await holderKey('root2'), '02', 'root2');
    const attached = runCli(
      [
        'key',
        'attach',
        'pkcs11:token=keyholder;object=root2',
        '--keyid',
        secondRootId.slice(0, 16),
        '-w',
        ws,
        '--json',
      ],
      { env },
    );
    expect(attached.status).toBe(0);
    expect(attached.json().keyids).toEqual([secondRootId]);
    expect(attached.stdout + attached.stderr).not.toContain(USER_PIN);
    mkdirSync(join(ws, 'keys'), { recursive: true });
    for (const name of ['root', 'snapshot', 'timestamp']) {
      writeFileSync(
        join(ws, 'keys', `${name}.pem`),
        encryptPrivateKey(await holderKey(name), Buffer.from(TEST_PASSPHRASE)),
        { mode: 0o600 },
      );
      expect(runCli(['key', 'attach', `file:keys/${name}.pem`, '-w', ws]).status).toBe(0);
    }

    // root v3: the file-held root key leaves, the token key stays (signed by both old keys, then the token)
    const r = runCli(['root', 'rotate', '--remove-key', firstRootId, '--threshold', '1', '-w', ws, '--json'], { env });
    expect(r.status).toBe(0);
    const root3 = JSON.parse(readFileSync(join(ws, 'metadata', '3.root.json'), 'utf8'));
    expect(root3.signed.roles.root.keyids).toEqual([secondRootId]);
    expect(root3.signatures.map((s: { keyid: string }) => s.keyid).sort()).toEqual([firstRootId, secondRootId].sort());
    expect(runCli(['verify', ws, '--strict-keyids']).status).toBe(0);

    const server = await serveDirectory(ws);
    try {
      const client = newClient(server, join(src, 'metadata', '1.root.json'));
      expect((await fetchTarget(client, 'releases/notes-1.0.txt')).length).toBeGreaterThan(0);
      expect(JSON.parse(readFileSync(join(client.metadataDir, 'root.json'), 'utf8')).signed.version).toBe(3);
    } finally {
      await server.close();
    }
  });
});
