/**
 * `key rotate ROLE` for every non-root role, with the built CLI and file
 * keys: thresholds and key sets of targets, snapshot, timestamp, a delegated
 * role and a set of hash bins change, and tuf-js (over HTTP on 127.0.0.1)
 * follows each change from the client state it had before — and a fresh
 * client from root v1 too. A delegated role's change under an offline targets
 * key becomes a signing request the ceremony finalizes.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Updater } from 'tuf-js';
import { tempDir } from '../helpers/tmp';
import { serveDirectory } from '../helpers/tuf-client';
import { errorCode, fingerprintOf, ok, pinnedRootDir, readJson, tufsign } from './ceremony-helpers';

// Each step runs the CLI several times (PBKDF2 key files): generous on a loaded machine.
jest.setTimeout(240_000);

const base = tempDir('tufsign-keythr-');
const ws = join(base, 'repo');
const src = join(base, 'src');
/** The following client's own metadata folder: it keeps what it trusted before each change. */
const clientDir = mkdtempSync(join(tmpdir(), 'tufjs-follow-'));

function file(rel: string, content: string): string {
  const p = join(src, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
}

/** Refresh a client whose metadata folder is `metadataDir` and download `paths`. */
async function fetchAll(metadataDir: string, paths: string[]): Promise<Record<string, string>> {
  const server = await serveDirectory(ws);
  try {
    const targetDir = mkdtempSync(join(tmpdir(), 'tufjs-t-'));
    const updater = new Updater({
      metadataDir,
      targetDir,
      metadataBaseUrl: `${server.url}/metadata`,
      targetBaseUrl: `${server.url}/targets`,
      config: { fetchRetries: 0, fetchTimeout: 5000 },
    });
    await updater.refresh();
    const out: Record<string, string> = {};
    for (const p of paths) {
      const info = await updater.getTargetInfo(p);
      if (info === undefined) throw new Error(`tuf-js does not find ${p}`);
      const f = await updater.downloadTarget(info, join(targetDir, p.replace(/\//g, '_')));
      out[p] = readFileSync(f, 'utf8');
    }
    return out;
  } finally {
    await server.close();
  }
}

const PATHS = ['top.txt', 'proj/one.txt', 'pkg/p1.whl'];
const follow = (): Promise<Record<string, string>> => fetchAll(clientDir, PATHS);

function fresh(): Promise<Record<string, string>> {
  return fetchAll(pinnedRootDir(ws, mkdtempSync(join(tmpdir(), 'tufjs-fresh-'))), PATHS);
}

/** The newest consistent-snapshot file of `role`. */
function latest(role: string): any {
  const v = Math.max(
    ...readdirSync(join(ws, 'metadata'))
      .filter((f) => f.endsWith(`.${role}.json`) && /^[0-9]+\./.test(f))
      .map((f) => Number(f.split('.')[0])),
  );
  return readJson(join(ws, 'metadata', `${v}.${role}.json`));
}

function rootRole(role: string): { keyids: string[]; threshold: number } {
  return latest('root').signed.roles[role];
}

function delegation(parent: string, name: string): { keyids: string[]; threshold: number } {
  const d = latest(parent).signed.delegations;
  return name.endsWith('-*') ? d.succinct_roles : d.roles.find((r: any) => r.name === name);
}

/** The keyid tufsign.json maps to keys/NAME.pem (no decryption needed). */
function keyidOf(pem: string): string {
  const keys = readJson(join(ws, 'tufsign.json')).keys as Record<string, { uri?: string }>;
  const hit = Object.entries(keys).find(([, e]) => e.uri === `file:keys/${pem}.pem`);
  if (hit === undefined) throw new Error(`no key file:keys/${pem}.pem in tufsign.json`);
  return hit[0];
}

beforeAll(() => {
  ok(['init', ws, '--json']);
  for (const k of ['targets-2', 'snapshot-2', 'timestamp-2', 'proj-1', 'proj-2', 'proj-3', 'bins-1', 'bins-2'])
    ok(['key', 'generate', '--out', join(ws, 'keys', `${k}.pem`), '--json']);
  ok(['delegate', 'add', 'proj', '--key', 'file:keys/proj-1.pem', '--paths', 'proj/*', '-w', ws]);
  ok(['delegate', 'add', 'pkg', '--key', 'file:keys/proj-1.pem', '--paths', 'pkg/*', '-w', ws]);
  ok(['delegate', 'bins', '--count', '4', '--from', 'pkg', '--key', 'file:keys/bins-1.pem', '-w', ws]);
  file('top.txt', 'top\n');
  file('proj/one.txt', 'one\n');
  file('pkg/p1.whl', 'wheel\n');
  writeFileSync(join(base, 'list.txt'), PATHS.map((p) => `${join(src, p)}\t${p}`).join('\n') + '\n');
  ok(['targets', 'add', '--from-file', join(base, 'list.txt'), '-w', ws]);
  pinnedRootDir(ws, clientDir);
}, 180_000);

describe('thresholds of every non-root role change, and a client follows', () => {
  it('the client trusts the repository before the changes', async () => {
    expect(await follow()).toEqual({ 'top.txt': 'top\n', 'proj/one.txt': 'one\n', 'pkg/p1.whl': 'wheel\n' });
  });

  it.each([['targets'], ['snapshot'], ['timestamp']])(
    '%s: a second key and threshold 2 in root N+1, the role signed by both',
    async (role) => {
      const before = latest('root').signed.version;
      const r = ok([
        'key',
        'rotate',
        role,
        '--add-key',
        `file:keys/${role}-2.pem`,
        '--threshold',
        '2',
        '-w',
        ws,
        '--json',
      ]);
      expect(r.json.applied).toBeDefined();
      expect(r.json.rootVersion).toBe(before + 1);
      expect(rootRole(role).threshold).toBe(2);
      expect(rootRole(role).keyids).toContain(keyidOf(`${role}-2`));
      const signedBy = (role === 'timestamp' ? readJson(join(ws, 'metadata', 'timestamp.json')) : latest(role))
        .signatures;
      expect(signedBy).toHaveLength(2);
      expect(tufsign(['verify', ws, '--json']).json.ok).toBe(true);
      expect((await follow())['top.txt']).toBe('top\n');
    },
  );

  it('a delegated role: a new version of its parent, the role re-signed by its new key set', async () => {
    const r = ok([
      'key',
      'rotate',
      'proj',
      '--add-key',
      'file:keys/proj-2.pem',
      '--threshold',
      '2',
      '-w',
      ws,
      '--json',
    ]);
    expect(r.json.result.roles.map((x: any) => x.role)).toEqual(['targets', 'proj', 'snapshot', 'timestamp']);
    expect(delegation('targets', 'proj')).toMatchObject({ threshold: 2 });
    expect(delegation('targets', 'proj').keyids).toEqual([keyidOf('proj-1'), keyidOf('proj-2')]);
    // pkg keeps its own key set: only proj changed
    expect(delegation('targets', 'pkg')).toMatchObject({ keyids: [keyidOf('proj-1')], threshold: 1 });
    expect(latest('proj').signatures).toHaveLength(2);
    expect((await follow())['proj/one.txt']).toBe('one\n');
  });

  it('hash bins by their prefix: every bin re-signed by the replacing key', async () => {
    const old = keyidOf('bins-1');
    const r = ok([
      'key',
      'rotate',
      'bins',
      '--replace',
      old.slice(0, 10),
      '--with',
      'file:keys/bins-2.pem',
      '-w',
      ws,
      '--json',
    ]);
    expect(r.json.result.roles.map((x: any) => x.role).sort()).toEqual(
      ['bins-0', 'bins-1', 'bins-2', 'bins-3', 'pkg', 'snapshot', 'timestamp'].sort(),
    );
    expect(delegation('pkg', 'bins-*').keyids).toEqual([keyidOf('bins-2')]);
    expect(Object.keys(latest('pkg').signed.delegations.keys)).not.toContain(old);
    for (const b of ['bins-0', 'bins-1', 'bins-2', 'bins-3'])
      expect(latest(b).signatures.map((s: any) => s.keyid)).toEqual([keyidOf('bins-2')]);
    expect(await follow()).toEqual({ 'top.txt': 'top\n', 'proj/one.txt': 'one\n', 'pkg/p1.whl': 'wheel\n' });
  });

  it('a client starting from root v1 walks every change', async () => {
    expect(await fresh()).toEqual({ 'top.txt': 'top\n', 'proj/one.txt': 'one\n', 'pkg/p1.whl': 'wheel\n' });
  });

  it('refuses impossible changes before anything is written', () => {
    const before = readFileSync(join(ws, 'metadata', 'timestamp.json'));
    const code = (args: string[]): string | undefined => errorCode(tufsign([...args, '-w', ws, '--json']));
    expect(code(['key', 'rotate', 'proj', '--threshold', '3'])).toBe('THRESHOLD_INVALID');
    expect(code(['key', 'rotate', 'snapshot', '--threshold', '3'])).toBe('THRESHOLD_INVALID');
    expect(code(['key', 'rotate', 'bins', '--remove-key', keyidOf('bins-2')])).toBe('THRESHOLD_INVALID');
    expect(code(['key', 'rotate', 'bins-2', '--threshold', '1'])).toBe('ROLE_INVALID');
    expect(code(['key', 'rotate', 'nosuchrole', '--threshold', '1'])).toBe('ROLE_INVALID');
    expect(code(['key', 'rotate', 'proj', '--threshold', '2'])).toBe('USAGE');
    expect(code(['key', 'rotate', 'proj', '--add-key', 'file:keys/proj-2.pem'])).toBe('USAGE');
    expect(readFileSync(join(ws, 'metadata', 'timestamp.json'))).toEqual(before);
  });
});

describe('a delegated role under an offline targets key', () => {
  it('becomes a signing request; a second change waits for it; the ceremony finalizes and clients follow', async () => {
    const away = join(base, 'targets-keyholders');
    mkdirSync(away);
    // a keyholder's copy of a key file travels with its public part, so its keyid is known before the passphrase
    for (const k of ['targets-1', 'targets-2'])
      for (const f of [`${k}.pem`, `${k}.pem.pub.json`]) renameSync(join(ws, 'keys', f), join(away, f));
    const req = join(base, 'proj-keys.tufsign-request.json');
    const r = ok([
      'key',
      'rotate',
      'proj',
      '--remove-key',
      keyidOf('proj-2'),
      '--add-key',
      'file:keys/proj-3.pem',
      '--request-out',
      req,
      '-w',
      ws,
      '--json',
    ]);
    expect(r.json.request.status.roles.map((x: any) => x.role)).toEqual(['targets']);
    // nothing a client reads has changed; proj's next version waits unreferenced
    expect(tufsign(['verify', ws, '--json']).json.ok).toBe(true);
    expect(
      errorCode(
        tufsign(['targets', 'add', file('proj/two.txt', 'two\n'), '--path', 'proj/two.txt', '-w', ws, '--json']),
      ),
    ).toBe('ROLE_CHANGE_PENDING');
    for (const k of ['targets-1', 'targets-2'])
      ok([
        'ceremony',
        'sign',
        req,
        '--key',
        `file:${join(away, `${k}.pem`)}`,
        '--fingerprint',
        fingerprintOf(req),
        '--yes',
      ]);
    ok(['ceremony', 'finalize', req, '--out', join(base, 'proj-bundle'), '-w', ws]);
    expect(delegation('targets', 'proj').keyids).toEqual([keyidOf('proj-1'), keyidOf('proj-3')]);
    expect(
      latest('proj')
        .signatures.map((s: any) => s.keyid)
        .sort(),
    ).toEqual([keyidOf('proj-1'), keyidOf('proj-3')].sort());
    expect(tufsign(['verify', ws, '--json']).json.ok).toBe(true);
    ok(['targets', 'add', join(src, 'proj/two.txt'), '--path', 'proj/two.txt', '-w', ws]);
    expect(await fetchAll(clientDir, ['proj/one.txt', 'proj/two.txt'])).toEqual({
      'proj/one.txt': 'one\n',
      'proj/two.txt': 'two\n',
    });
  });
});

describe('sign and refresh cover delegated roles', () => {
  it('sign ROLE re-signs a delegated role, or every bin by prefix, as a new version', () => {
    const before = latest('proj').signed.version;
    const r = ok(['sign', 'proj', '--expires', '30d', '-w', ws, '--json']);
    expect(r.json.roles.map((x: any) => x.role)).toEqual(['proj', 'snapshot', 'timestamp']);
    expect(latest('proj').signed.version).toBe(before + 1);
    const bins = ok(['sign', 'bins', '-w', ws, '--json']);
    expect(bins.json.roles.map((x: any) => x.role).sort()).toEqual(
      ['bins-0', 'bins-1', 'bins-2', 'bins-3', 'snapshot', 'timestamp'].sort(),
    );
    expect(tufsign(['verify', ws, '--json']).json.ok).toBe(true);
  });

  it('refresh re-signs the delegated roles inside their signing window whose keys are here, and names the others', () => {
    // 75 days on: proj (30d, just re-signed) and the bins (targets period, 90d) are past their resign-by dates
    const later = new Date(Date.now() + 75 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const away = join(base, 'proj-1-away.pem');
    renameSync(join(ws, 'keys', 'proj-1.pem'), away);
    try {
      const r = ok(['refresh', '-w', ws, '--json'], { env: { TUFSIGN_NOW: later } });
      const roles = (r.json.roles as { role: string }[]).map((x) => x.role);
      expect(roles.filter((x) => x.startsWith('bins-')).sort()).toEqual(['bins-0', 'bins-1', 'bins-2', 'bins-3']);
      expect(roles).not.toContain('proj');
      expect(r.json.dueElsewhere).toEqual(expect.arrayContaining(['proj']));
      const status = ok(['status', '-w', ws, '--json'], { env: { TUFSIGN_NOW: later } }).json;
      const state = (name: string): string => status.roles.find((x: any) => x.role === name)?.state;
      expect(state('bins-*')).toBe('ok');
      expect(state('timestamp')).toBe('ok');
      expect(state('proj')).not.toBe('ok');
    } finally {
      renameSync(away, join(ws, 'keys', 'proj-1.pem'));
    }
  });
});

it('a bulk targets add (one durable batch of files) into a delegated role is what clients download', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 120; i++) lines.push(`${file(`bulk/b${i}.txt`, `bulk ${i}\n`)}\tproj/b${i}.txt`);
  writeFileSync(join(base, 'bulk.txt'), lines.join('\n') + '\n');
  const r = ok(['targets', 'add', '--from-file', join(base, 'bulk.txt'), '-w', ws]);
  // progress on stderr while the batch is written (240 names: two hash-prefixed names per target): without a
  // terminal, one final line for the stage
  expect(r.stderr).toMatch(/^write: \d+ files in [0-9.]+ s$/m);
  expect(r.stdout).toMatch(/^ok proj v/m);
  expect(tufsign(['verify', ws, '--json']).json.ok).toBe(true);
  expect(await fetchAll(clientDir, ['proj/b0.txt', 'proj/b119.txt'])).toEqual({
    'proj/b0.txt': 'bulk 0\n',
    'proj/b119.txt': 'bulk 119\n',
  });
});
