/**
 * `sign ROLE` for a delegated role whose keys are not on this machine (#12): instead of THRESHOLD_NOT_MET, one
 * signing request for ROLE's next version (format 3, with its delegating chain), signed by ROLE's keyholder on a
 * laptop that holds only the key file and a pinned root, finalized by the organizer with snapshot and timestamp
 * signed online; then tuf-js and python-tuf, from root v1, fetch a target through ROLE's new version. Hostile
 * requests are refused at finalize with nothing written: ROLE's body altered after it was signed, a role the
 * workspace does not have. A taken request name stops the run before anything is written; a killed run re-runs.
 * And `delegate add` of a role whose own key is on the laptop: one request for targets' new version and the
 * role's first version, signed by the role's keyholder, finalized together; then a target goes in by request.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequest, serializeRequest, type SigningRequest } from '../../src/ceremony';
import { readRequestFile } from '../../src/repository/requests';
import { DelegatedRole, TargetFile, type Targets } from '../../src/tuf/metadata';
import { BIN, TEST_PASSPHRASE } from '../helpers/cli';
import { runPython } from '../helpers/python-clients';
import { fetchTarget, newClient, serveDirectory } from '../helpers/tuf-client';
import {
  errorCode,
  keyholderSignsOnLaptop,
  offlineRolePaths,
  ok,
  readJson,
  setUpOfflineRole,
  signOnLaptop,
  tmp,
  tufsign,
  type Run,
} from '../helpers/ceremony';

jest.setTimeout(120_000);

const base = tmp('tufsign-sign-offline-');
const where = offlineRolePaths(base);
const { org, laptop } = where;

/** Everything a client could read, plus tufsign.json: a refused run must leave it byte-identical. */
function snapshotOfWorkspace(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(join(org, 'metadata'))) out.set(f, readFileSync(join(org, 'metadata', f), 'utf8'));
  out.set('tufsign.json', readFileSync(join(org, 'tufsign.json'), 'utf8'));
  return out;
}

/** r's version as the published snapshot lists it (consistent snapshots: N.snapshot.json). */
function rVersion(role = 'r'): number | undefined {
  const snapshot = readJson(join(org, 'metadata', 'timestamp.json')).signed.meta['snapshot.json'].version;
  return readJson(join(org, 'metadata', `${snapshot}.snapshot.json`)).signed.meta[`${role}.json`]?.version;
}

const keyholderSigns = (request: string): void => keyholderSignsOnLaptop(where, request);

beforeAll(() => {
  // r's key goes to its keyholder's laptop once x.txt is in r; the laptop pins root v1
  setUpOfflineRole(where, 'sign-offline', () => {
    writeFileSync(join(base, 'x.txt'), 'x in r\n');
    ok(['targets', 'add', join(base, 'x.txt'), '--path', 'r/x.txt', '-w', org]);
  });
});

it('sign r --expires with r’s key elsewhere: one request, the ceremony, then both clients fetch through r', async () => {
  const before = snapshotOfWorkspace();
  const v = rVersion() as number;
  const request = join(base, 'sign-r.tufsign-request.json');
  const r = ok(['sign', 'r', '--expires', '30d', '--request-out', request, '-w', org, '--json']);
  expect(r.json.complete).toBe(false);
  expect(r.json.written).toEqual([]);
  expect(r.json.request.request).toBe(request);
  const json = readJson(request);
  expect(json.roles.map((x: { role: string; delegated_by?: string }) => [x.role, x.delegated_by])).toEqual([
    ['r', 'targets'],
  ]);
  expect(json.roles[0].metadata.signed.version).toBe(v + 1);
  expect(json.delegators.map((d: { role: string }) => d.role)).toEqual(['targets']);
  // nothing a client reads (nor tufsign.json) changes before the finalize
  expect(snapshotOfWorkspace()).toEqual(before);

  keyholderSigns(request);
  const f = ok(['ceremony', 'finalize', request, '--bundle-out', join(base, 'bundle'), '-w', org, '--json']);
  expect(f.json.roles.map((x: { role: string }) => x.role)).toEqual(['r']);
  expect(rVersion()).toBe(v + 1);
  const rMeta = readJson(join(org, 'metadata', `${v + 1}.r.json`));
  const days = (Date.parse(rMeta.signed.expires) - Date.now()) / 86_400_000;
  expect(days).toBeGreaterThan(29);
  expect(days).toBeLessThan(31);
  expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);

  const server = await serveDirectory(org);
  try {
    const client = newClient(server, join(org, 'metadata', '1.root.json'));
    expect((await fetchTarget(client, 'r/x.txt')).toString()).toBe('x in r\n');
    const py = await runPython([
      join(base, 'py-meta'),
      join(base, 'py-targets'),
      server.url,
      join(org, 'metadata', '1.root.json'),
      'r/x.txt',
    ]);
    expect({ code: py.code, stderr: py.stderr }).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(JSON.parse(py.stdout).path, 'utf8')).toBe('x in r\n');
    // python-tuf read r's new version
    expect(readJson(join(base, 'py-meta', 'r.json')).signed.version).toBe(v + 1);
  } finally {
    await server.close();
  }
});

it('a taken request name stops sign r before anything is written; the same command re-runs elsewhere', () => {
  const taken = join(base, 'taken.tufsign-request.json');
  writeFileSync(taken, 'signatures already collected\n');
  const before = snapshotOfWorkspace();
  const r = tufsign(['sign', 'r', '--bump', '--request-out', taken, '-w', org, '--json']);
  expect(errorCode(r)).toBe('IO_ERROR');
  expect(readFileSync(taken, 'utf8')).toBe('signatures already collected\n');
  expect(snapshotOfWorkspace()).toEqual(before);
  const again = ok(['sign', 'r', '--bump', '--request-out', join(base, 'free.tufsign-request.json'), '-w', org]);
  expect(again.stdout).toMatch(/^r must be signed by keys that are not here/m);
  rmSync(join(base, 'free.tufsign-request.json'));
});

describe('finalize refuses a hostile request for r with nothing written', () => {
  const request = join(base, 'hostile.tufsign-request.json');
  /** the same request once r's keyholder signed it, kept aside */
  const signed = join(base, 'signed.tufsign-request.json');
  beforeAll(() => {
    ok(['sign', 'r', '--bump', '--request-out', request, '-w', org]);
    keyholderSigns(request);
    copyFileSync(request, signed);
  });

  /** Finalize must fail with `code`, leaving every published file and tufsign.json as they were. */
  function refused(file: string, code: string): Run {
    const before = snapshotOfWorkspace();
    const f = tufsign(['ceremony', 'finalize', file, '--bundle-out', join(base, `b-${code}`), '-w', org, '--json']);
    expect(errorCode(f)).toBe(code);
    expect(f.status).not.toBe(0);
    expect(snapshotOfWorkspace()).toEqual(before);
    expect(existsSync(join(base, `b-${code}`))).toBe(false);
    return f;
  }

  /**
   * A forger who rewrites the request consistently: the signed request's parts, changed by `edit`, made into a
   * new request (fresh digests, fingerprint and transcript), with r's keyholder signature put back afterwards.
   */
  function forge(name: string, edit: (req: SigningRequest) => { role: string; delegatedBy: string }): string {
    const req = readRequestFile(signed);
    const r = req.roles[0]!;
    const sigs = [...r.metadata.signatures.values()];
    expect(sigs).toHaveLength(1);
    const named = edit(req);
    const forged = createRequest({
      repository: req.repository,
      purpose: req.purpose,
      ...(req.trustedRoot !== undefined ? { trustedRoot: req.trustedRoot } : {}),
      rootHistory: req.rootHistory,
      base: req.base,
      roles: [{ metadata: r.metadata, trusted: r.trusted!, name: named.role, delegatedBy: named.delegatedBy }],
      delegators: req.delegators,
      keyholders: req.keyholders,
      now: new Date(),
      tool: 'forger',
    });
    for (const sig of sigs) forged.roles[0]!.metadata.signatures.set(sig.keyid, sig);
    const file = join(base, name);
    writeFileSync(file, serializeRequest(forged));
    return file;
  }

  it('r’s body altered after it was signed: the recorded digest no longer matches', () => {
    const json = JSON.parse(readFileSync(signed, 'utf8'));
    json.roles[0].metadata.signed.targets['r/evil.txt'] = { length: 4, hashes: { sha256: 'ab'.repeat(32) } };
    const altered = join(base, 'altered.tufsign-request.json');
    writeFileSync(altered, JSON.stringify(json, null, 2));
    refused(altered, 'REQUEST_PAYLOAD_CHANGED');
  });

  it('r’s body altered and every digest rewritten to match: r’s signature no longer verifies', () => {
    const file = forge('forged.tufsign-request.json', (req) => {
      const targets = req.roles[0]!.metadata.signed as Targets;
      targets.targets.set('r/evil.txt', new TargetFile(4, new Map([['sha256', 'ab'.repeat(32)]])));
      return { role: 'r', delegatedBy: 'targets' };
    });
    // the forged file is self-consistent: it parses, and only a signature check can tell
    expect(readRequestFile(file).roles[0]!.metadata.signatures.size).toBe(1);
    const f = refused(file, 'REQUEST_INVALID');
    expect(f.json.error.details.problems.map((p: { code: string }) => p.code)).toEqual(['SIGNATURE_REFUSED']);
  });

  it('r’s signed version renamed to a role the workspace does not have', () => {
    // the forger also makes the chain's targets delegate to ghost, with r's key (so r's signature counts for ghost)
    const file = forge('ghost.tufsign-request.json', (req) => {
      const d = req.delegators[0]!.metadata.signed.delegations!;
      const r = d.roles!.find((x) => x.name === 'r')!;
      d.roles!.push(new DelegatedRole('ghost', [...r.keyids], r.threshold, false, ['r/*']));
      return { role: 'ghost', delegatedBy: 'targets' };
    });
    refused(file, 'ROLE_INVALID');
  });

  it('the untouched request, finalize killed at random moments, then re-run: published once, verified', async () => {
    const v = rVersion() as number;
    const finalize = (): Promise<string> =>
      new Promise((resolve) => {
        const child = spawn(
          process.execPath,
          [BIN, 'ceremony', 'finalize', request, '--bundle-out', join(base, 'b-killed'), '-w', org],
          {
            env: { ...process.env, TUFSIGN_PASSPHRASE: TEST_PASSPHRASE },
            stdio: 'ignore',
          },
        );
        const timer = setTimeout(() => child.kill('SIGKILL'), 250 + Math.floor(Math.random() * 900));
        child.on('exit', (code, sig) => {
          clearTimeout(timer);
          resolve(sig === 'SIGKILL' ? 'killed' : `exit ${code}`);
        });
      });
    const first = await finalize();
    expect(['killed', 'exit 0']).toContain(first);
    ok(['ceremony', 'finalize', request, '--bundle-out', join(base, 'b-rerun'), '-w', org]);
    expect(rVersion()).toBe(v + 1);
    expect(existsSync(join(org, 'metadata', `${v + 1}.r.json`))).toBe(true);
    expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);
  });
});

describe('delegate add of a role whose own key is elsewhere: one request for targets and the new role', () => {
  it('the keyholder signs the role’s first version; finalize publishes both; then a target goes in by request', async () => {
    // n's key is generated on the laptop; the organizer has only its public key file
    ok([
      'key',
      'generate',
      '--out',
      join(laptop, 'n.pem'),
      '--public-out',
      join(base, 'n.pub.json'),
      '--owner',
      'nina',
    ]);
    const before = snapshotOfWorkspace();
    const request = join(base, 'add-n.tufsign-request.json');
    const r = ok(
      ['delegate', 'add', 'n', '--key', join(base, 'n.pub.json'), '--paths', 'n/*', '--request-out', request],
      { cwd: org, env: {} },
    );
    expect(r.stdout).toMatch(/must be signed by keys that are not here/);
    const json = readJson(request);
    // targets' new version (signed here: its key is online) and n's first version, which names no basis
    expect(
      json.roles.map((x: { role: string; delegated_by?: string; trusted?: unknown }) => [
        x.role,
        x.delegated_by,
        x.trusted === undefined,
      ]),
    ).toEqual([
      ['targets', undefined, false],
      ['n', 'targets', true],
    ]);
    // nothing a client reads changed: tufsign.json gained n's key entry, metadata/ is as it was
    const after = snapshotOfWorkspace();
    after.delete('tufsign.json');
    before.delete('tufsign.json');
    expect(after).toEqual(before);

    keyholderSignsOnLaptop(where, request, 'n');
    ok(['ceremony', 'finalize', request, '--bundle-out', join(base, 'b-add-n'), '-w', org]);
    expect(readJson(join(org, 'metadata', '1.n.json')).signed.version).toBe(1);
    expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);
    // a second finalize of the same request changes nothing more (re-runnable)
    const again = tufsign([
      'ceremony',
      'finalize',
      request,
      '--bundle-out',
      join(base, 'b-add-n2'),
      '-w',
      org,
      '--json',
    ]);
    expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);
    expect([0, 'REQUEST_STALE']).toContain(again.status === 0 ? 0 : errorCode(again));

    // n's key is still elsewhere: a target goes into n by request too, and both clients fetch it through n
    writeFileSync(join(base, 'n.txt'), 'n\n');
    const add = join(base, 'add-to-n.tufsign-request.json');
    ok(['targets', 'add', join(base, 'n.txt'), '--path', 'n/n.txt', '--request-out', add, '-w', org]);
    signOnLaptop(where, add, 'n.pem');
    ok(['ceremony', 'finalize', add, '--bundle-out', join(base, 'b-add-to-n'), '-w', org]);
    const server = await serveDirectory(org);
    try {
      const client = newClient(server, join(org, 'metadata', '1.root.json'));
      expect((await fetchTarget(client, 'n/n.txt')).toString()).toBe('n\n');
      const py = await runPython([
        join(base, 'py-meta-n'),
        join(base, 'py-targets-n'),
        server.url,
        join(org, 'metadata', '1.root.json'),
        'n/n.txt',
      ]);
      expect({ code: py.code, stderr: py.stderr }).toEqual({ code: 0, stderr: '' });
      expect(readJson(join(base, 'py-meta-n', 'n.json')).signed.version).toBe(2);
    } finally {
      await server.close();
    }
  });
  it('with targets’ key elsewhere too: targets’ and the role’s keyholders sign the one request, finalize publishes both', () => {
    // the targets key leaves this machine as well: now neither the parent nor the new role can be signed here
    renameSync(join(org, 'keys', 'targets-1.pem'), join(laptop, 'targets-1.pem'));
    // its keyholder keeps the public part beside it, to match the key to the plan before the passphrase
    ok(['key', 'export', `file:${join(laptop, 'targets-1.pem')}`, '--out', join(laptop, 'targets-1.pem.pub.json')]);
    ok(['key', 'generate', '--out', join(laptop, 'm.pem'), '--public-out', join(base, 'm.pub.json')]);
    const before = snapshotOfWorkspace();
    before.delete('tufsign.json');
    expect(rVersion('m')).toBeUndefined();
    const request = join(base, 'add-m.tufsign-request.json');
    ok([
      'delegate',
      'add',
      'm',
      '--key',
      join(base, 'm.pub.json'),
      '--paths',
      'm/*',
      '--request-out',
      request,
      '-w',
      org,
    ]);
    const json = readJson(request);
    expect(
      json.roles.map((x: { role: string; metadata: { signatures: unknown[] } }) => [
        x.role,
        x.metadata.signatures.length,
      ]),
    ).toEqual([
      ['targets', 0],
      ['m', 0],
    ]);
    const after = snapshotOfWorkspace();
    after.delete('tufsign.json');
    expect(after).toEqual(before);
    const sign = (key: string, role: string): boolean => {
      const r = signOnLaptop(where, request, key);
      expect(r.json.added.map((a: { role: string }) => a.role)).toEqual([role]);
      return r.json.status.canFinalize as boolean;
    };
    expect(sign('m.pem', 'm')).toBe(false);
    expect(sign('targets-1.pem', 'targets')).toBe(true);
    ok(['ceremony', 'finalize', request, '--bundle-out', join(base, 'b-add-m'), '-w', org]);
    expect(readJson(join(org, 'metadata', '1.m.json')).signed.version).toBe(1);
    expect(rVersion('m')).toBe(1);
    expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);
  });
});
