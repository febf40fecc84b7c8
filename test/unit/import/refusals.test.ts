/**
 * Bad sources are refused with a clear error and nothing written (ADR 0015):
 * the import use case run in-process on damaged copies of the real tufup
 * fixture (and the other formats where the damage is theirs).
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importRepository, type ImportOptions } from '../../../src/import';
import type { SecretRequest, SecretsHandler } from '../../../src/keystore/signer';
import { TufsignError } from '../../../src/errors';
import { tempDir } from '../../helpers/tmp';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'import');
const base = tempDir('tufsign-import-refusals-');
const NOW = new Date('2027-01-01T00:00:00Z');

function secrets(sourcePassphrase = 'tufup-fixture'): SecretsHandler {
  return {
    getSecret: (r: SecretRequest) =>
      Promise.resolve(Buffer.from(r.kind === 'source-passphrase' ? sourcePassphrase : 'new-passphrase-123')),
  };
}

let n = 0;
function copy(name: string): string {
  const dir = join(base, `${name}-${n++}`);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

async function importError(
  source: string,
  extra: Partial<ImportOptions> = {},
): Promise<{ err: TufsignError; ws: string }> {
  const ws = join(base, `ws-${n++}`);
  try {
    await importRepository({
      dir: ws,
      source,
      format: 'auto',
      dryRun: false,
      skipMissingTargets: false,
      now: NOW,
      secrets: secrets(),
      ...extra,
    });
  } catch (e) {
    if (e instanceof TufsignError) return { err: e, ws };
    throw e;
  }
  throw new Error('the import was not refused');
}

const editJson = (file: string, edit: (j: any) => void): void => {
  const j = JSON.parse(readFileSync(file, 'utf8'));
  edit(j);
  writeFileSync(file, JSON.stringify(j, null, 1));
};
const flipSig = (j: any): void => {
  for (const s of j.signatures) s.sig = s.sig.replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
};

describe('refused tufup sources', () => {
  const meta = (d: string, f: string): string => join(d, 'repository', 'metadata', f);
  const cases: [string, (d: string) => void, string, string | null][] = [
    ['a root history gap', (d) => rmSync(meta(d, '1.root.json')), 'IMPORT_REFUSED', 'gap'],
    [
      'a broken root chain',
      (d) => {
        editJson(meta(d, '2.root.json'), flipSig);
        editJson(meta(d, 'root.json'), flipSig);
      },
      'IMPORT_REFUSED',
      'THRESHOLD',
    ],
    [
      'root.json differing from N.root.json',
      (d) => editJson(meta(d, 'root.json'), (j) => (j.signed.expires = '2040-01-01T00:00:00Z')),
      'IMPORT_REFUSED',
      'differ',
    ],
    [
      'metadata edited after signing',
      (d) =>
        writeFileSync(
          meta(d, 'targets.json'),
          readFileSync(meta(d, 'targets.json'), 'utf8').replace('"required": false', '"required": true'),
        ),
      'IMPORT_REFUSED',
      'targets',
    ],
    [
      'a snapshot that no longer matches timestamp (rollback)',
      (d) => editJson(meta(d, 'timestamp.json'), (j) => (j.signed.meta['snapshot.json'].version = 4)),
      'IMPORT_REFUSED',
      null,
    ],
    [
      'a target file that does not match its hashes',
      (d) => {
        const f = join(d, 'repository', 'targets', 'example_app-2.0.patch');
        const b = readFileSync(f);
        b.writeUInt8(b.readUInt8(b.length - 1) ^ 1, b.length - 1);
        writeFileSync(f, b);
      },
      'IMPORT_REFUSED',
      'example_app-2.0.patch',
    ],
    [
      'a missing target file',
      (d) => rmSync(join(d, 'repository', 'targets', 'example_app-1.0.tar.gz')),
      'IMPORT_REFUSED',
      'skip-missing-targets',
    ],
    [
      'a keystore key that matches no root key',
      (d) =>
        writeFileSync(
          join(d, 'keystore', 'stray'),
          JSON.stringify({
            keytype: 'ed25519',
            scheme: 'ed25519',
            keyval: {
              public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
              private: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
            },
          }),
        ),
      'IMPORT_REFUSED',
      'stray',
    ],
    [
      'a corrupt key file',
      (d) =>
        writeFileSync(
          join(d, 'keystore', 'snapshot'),
          '{"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "00", "private": "zz"}}',
        ),
      'KEY_FILE_INVALID',
      null,
    ],
    [
      'a tampered encrypted key file (HMAC)',
      (d) =>
        writeFileSync(
          join(d, 'keystore', 'targets'),
          readFileSync(join(d, 'keystore', 'targets'), 'utf8').replace(/.$/, (c) => (c === '0' ? '1' : '0')),
        ),
      'WRONG_PASSPHRASE',
      null,
    ],
  ];
  it.each(cases)('%s', async (_name, damage, code, mention) => {
    const src = copy('tufup');
    damage(src);
    const { err, ws } = await importError(src);
    expect(err.code).toBe(code);
    if (mention !== null)
      expect(`${err.message} ${err.suggestion ?? ''} ${JSON.stringify(err.details ?? {})}`).toContain(mention);
    expect(existsSync(ws)).toBe(false);
  });

  it('a wrong source passphrase', async () => {
    const { err, ws } = await importError(copy('tufup'), { secrets: secrets('wrong passphrase') });
    expect(err.code).toBe('WRONG_PASSPHRASE');
    expect(existsSync(ws)).toBe(false);
  });

  it('a folder that is no known repository, and a workspace inside the source', async () => {
    expect((await importError(join(FIXTURES, 'tufup', 'keystore'))).err.code).toBe('IMPORT_REFUSED');
    const src = copy('tufup');
    const inside = join(src, 'ws');
    await expect(
      importRepository({
        dir: inside,
        source: src,
        format: 'auto',
        dryRun: false,
        skipMissingTargets: false,
        now: NOW,
        secrets: secrets(),
      }),
    ).rejects.toMatchObject({ code: 'IMPORT_REFUSED' });
    expect(existsSync(inside)).toBe(false);
  });

  it('--skip-missing-targets imports and lists the missing file; --dry-run writes nothing', async () => {
    const src = copy('tufup');
    rmSync(join(src, 'repository', 'targets', 'example_app-1.0.tar.gz'));
    const dry = await importRepository({
      dir: join(base, 'dry'),
      source: src,
      format: 'tufup',
      dryRun: true,
      skipMissingTargets: true,
      now: NOW,
      secrets: secrets(),
    });
    expect(dry).toMatchObject({ dryRun: true, written: [], targets: { missing: ['example_app-1.0.tar.gz'] } });
    expect(existsSync(join(base, 'dry'))).toBe(false);
    const r = await importRepository({
      dir: join(base, 'skip'),
      source: src,
      format: 'tufup',
      dryRun: false,
      skipMissingTargets: true,
      now: NOW,
      secrets: secrets(),
    });
    expect(r.warnings.join('\n')).toContain('example_app-1.0.tar.gz');
    expect(r.verify.ok).toBe(true);
  });

  it('--skip-missing-targets never skips a target file that is present but does not match', async () => {
    const src = copy('tufup');
    rmSync(join(src, 'repository', 'targets', 'example_app-1.0.tar.gz'));
    const f = join(src, 'repository', 'targets', 'example_app-3.0.tar.gz');
    const b = readFileSync(f);
    b.writeUInt8(b.readUInt8(0) ^ 1, 0);
    writeFileSync(f, b);
    const { err, ws } = await importError(src, { skipMissingTargets: true });
    expect(err.code).toBe('IMPORT_REFUSED');
    expect(JSON.stringify(err.details ?? {}) + err.message).toContain('example_app-3.0.tar.gz');
    expect(existsSync(ws)).toBe(false);
  });
});

describe('refused sources of the other formats', () => {
  it('tuf-on-ci: a root missing from root_history', async () => {
    const src = copy('tuf-on-ci');
    rmSync(join(src, 'metadata', 'root_history', '2.root.json'));
    expect((await importError(src)).err.message).toContain('2.root.json');
  });
  it('tuf-on-ci: a placeholder signature cannot stand in for a real one', async () => {
    const src = copy('tuf-on-ci');
    editJson(
      join(src, 'metadata', 'targets.json'),
      (j) => (j.signatures = j.signatures.map((s: any) => ({ keyid: s.keyid, sig: '' }))),
    );
    expect((await importError(src)).err.code).toBe('IMPORT_REFUSED');
  });
  it('python-tuf: a delegated target outside the delegated paths', async () => {
    const src = copy('python-tuf');
    // re-pointing the delegation breaks targets' signature, which is what a client sees first
    editJson(join(src, 'metadata', '1.targets.json'), (j) => (j.signed.delegations.roles[0].paths = ['other/*']));
    expect((await importError(src)).err.code).toBe('IMPORT_REFUSED');
  });
  it('go-tuf v0: a hostile target path in signed metadata is never written outside the workspace', async () => {
    const src = copy('go-tuf-v0');
    editJson(
      join(src, 'repository', 'targets.json'),
      (j) => (j.signed.targets['../../escape.txt'] = j.signed.targets['hello.txt']),
    );
    const { err, ws } = await importError(src);
    expect(['IMPORT_REFUSED', 'PATH_UNSAFE']).toContain(err.code);
    expect(existsSync(ws)).toBe(false);
  });
});
