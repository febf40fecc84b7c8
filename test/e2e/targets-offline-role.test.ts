/**
 * `targets add --role R` and `targets remove --role R` when R's keys are not on this machine (#12): instead of
 * THRESHOLD_NOT_MET, the change becomes a signing request (format 3, R with its delegating chain) that R's
 * keyholder signs on a laptop holding only a pinned root; the organizer finalizes it and tuf-js, from root v1,
 * finds (then no longer finds) the target. Nothing a client reads changes before the finalize. A key marked
 * offline whose file is here but whose own secret is not is left for the request too, never opened.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchTarget, newClient, serveDirectory } from '../helpers/tuf-client';
import { TEST_PASSPHRASE } from '../helpers/cli';
import {
  errorCode,
  keyholderSignsOnLaptop,
  offlineRolePaths,
  ok,
  readJson,
  setUpOfflineRole,
  tmp,
  tufsign,
} from '../helpers/ceremony';

jest.setTimeout(120_000);

const base = tmp('tufsign-offline-role-');
const where = offlineRolePaths(base);
const { org, laptop } = where;
/** what an unattended release machine has: the online secret only */
const ONLINE = { TUFSIGN_OFFLINE_PASSPHRASE: undefined };

function published(): { snapshot: number; timestamp: string } {
  const ts = readFileSync(join(org, 'metadata', 'timestamp.json'), 'utf8');
  return { snapshot: JSON.parse(ts).signed.meta['snapshot.json'].version, timestamp: ts };
}

/** tuf-js from root v1 over HTTP: the target's content, or undefined when no role lists it. */
async function clientSees(path: string): Promise<string | undefined> {
  const server = await serveDirectory(org);
  try {
    const client = newClient(server, join(org, 'metadata', '1.root.json'));
    await client.updater.refresh();
    client.refreshed = true;
    if ((await client.updater.getTargetInfo(path)) === undefined) return undefined;
    return (await fetchTarget(client, path)).toString();
  } finally {
    await server.close();
  }
}

/** The keyholder signs with only a pinned root (no workspace), checking the fingerprint read to them. */
const keyholderSigns = (request: string): void => keyholderSignsOnLaptop(where, request);

beforeAll(() => {
  // r's key goes to its keyholder's laptop; the laptop pins root v1
  setUpOfflineRole(where, 'offline-role');
  writeFileSync(join(base, 'x.txt'), 'x in r\n');
});

it('targets add --role r with r’s key elsewhere: a request, then the ceremony, then clients find the target', async () => {
  const before = published();
  const request = join(base, 'add.tufsign-request.json');
  const r = ok(
    ['targets', 'add', join(base, 'x.txt'), '--path', 'r/x.txt', '--role', 'r', '--request-out', request, '-w', org],
    { env: ONLINE },
  );
  expect(r.stdout).toMatch(/^r must be signed by keys that are not here/m);
  // the delegated-role request: r (delegated by targets) with its delegating chain, nothing for targets itself
  const json = readJson(request);
  expect(json.roles.map((x: { role: string; delegated_by?: string }) => [x.role, x.delegated_by])).toEqual([
    ['r', 'targets'],
  ]);
  expect(json.delegators.map((d: { role: string }) => d.role)).toEqual(['targets']);
  // published metadata unchanged until the finalize; the target file itself is already in targets/
  expect(published()).toEqual(before);
  expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);
  expect(await clientSees('r/x.txt')).toBeUndefined();

  keyholderSigns(request);
  const f = ok(['ceremony', 'finalize', request, '--bundle-out', join(base, 'bundle-add'), '-w', org, '--json']);
  expect(f.json.roles.map((x: { role: string }) => x.role)).toEqual(['r']);
  expect(published().snapshot).toBe(before.snapshot + 1);
  expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);
  expect(await clientSees('r/x.txt')).toBe('x in r\n');
});

it('targets remove --role r the same way; a key marked offline whose secret is not here is never opened', async () => {
  // r's key is marked offline and a FIFO stands in its file's place: without TUFSIGN_OFFLINE_PASSPHRASE it must be
  // left for the request before anything opens it (reading the FIFO would block or fail the run).
  const cfgPath = join(org, 'tufsign.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  const entry = Object.values(cfg.keys as Record<string, { uri?: string; offline?: boolean }>).find(
    (e) => e.uri === 'file:keys/r.pem',
  );
  expect(entry).toBeDefined();
  (entry as { offline?: boolean }).offline = true;
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
  expect(spawnSync('mkfifo', ['-m', '600', join(org, 'keys', 'r.pem')]).status).toBe(0);
  const before = published();
  const request = join(base, 'remove.tufsign-request.json');
  const r = ok(['targets', 'remove', 'r/x.txt', '--role', 'r', '--request-out', request, '-w', org, '--json'], {
    env: ONLINE,
  });
  expect(r.json.complete).toBe(false);
  expect(r.json.request.status.roles.map((x: { role: string }) => x.role)).toEqual(['r']);
  expect(published()).toEqual(before);
  expect(await clientSees('r/x.txt')).toBe('x in r\n');

  keyholderSigns(request);
  ok(['ceremony', 'finalize', request, '--bundle-out', join(base, 'bundle-remove'), '-w', org]);
  expect(await clientSees('r/x.txt')).toBeUndefined();
  expect(tufsign(['verify', org, '--json']).json.ok).toBe(true);

  // With the key file here and the offline secret given, the same key signs at once: no request.
  rmSync(join(org, 'keys', 'r.pem'));
  copyFileSync(join(laptop, 'r.pem'), join(org, 'keys', 'r.pem'));
  writeFileSync(join(base, 'y.txt'), 'y in r\n');
  const direct = ok(['targets', 'add', join(base, 'y.txt'), '--path', 'r/y.txt', '--role', 'r', '-w', org, '--json'], {
    env: { TUFSIGN_OFFLINE_PASSPHRASE: TEST_PASSPHRASE },
  });
  expect(direct.json.complete).toBe(true);
  expect(direct.json.request).toBeUndefined();
  expect(await clientSees('r/y.txt')).toBe('y in r\n');
});

it('a request is not a way around the paths: r cannot take a path outside r/*', () => {
  writeFileSync(join(base, 'z.txt'), 'z\n');
  const r = tufsign(
    ['targets', 'add', join(base, 'z.txt'), '--path', 'other/z.txt', '--role', 'r', '-w', org, '--json'],
    {
      env: ONLINE,
    },
  );
  expect(errorCode(r)).toBe('PATH_NOT_DELEGATED');
});
