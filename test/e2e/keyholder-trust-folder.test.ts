/**
 * `ceremony trust show | policy`: the keyholder's trust folder is visible and
 * its expiry policy is written by a command, then enforced by the keyholder
 * flow before any secret is asked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli';
import {
  errorCode,
  fingerprintOf,
  keyholder,
  ok,
  readJson,
  rootToKeyholderArgs,
  tmp,
  tufsign,
} from '../helpers/ceremony';

jest.setTimeout(120_000);

const NO_SECRETS = {
  TUFSIGN_PASSPHRASE: undefined,
  NODE_OPTIONS: `--require ${join(ROOT, 'test', 'fixtures', 'block-pcsc.js')}`,
};

describe('the keyholder trust folder: show and policy', () => {
  const base = tmp('tufsign-trust-folder-');
  const home = join(base, 'trust-home');
  const org = join(base, 'org');
  const req = join(base, 'root-v2.tufsign-request.json');
  const env = { TUFSIGN_TRUST_HOME: home };
  let alice: ReturnType<typeof keyholder>;

  beforeAll(() => {
    ok(['init', org, '--name', 'demo']);
    alice = keyholder(base, 'alice');
    ok(rootToKeyholderArgs(org, alice.pub, ['--expires', '365d', '--out', req]));
  });

  it('show: nothing pinned yet, and the default maxima', () => {
    const r = ok(['ceremony', 'trust', 'show', 'demo', '--json'], { env });
    expect(r.json.dir).toBe(join(home, 'demo'));
    expect(r.json.pinned).toBe(false);
    expect(r.json.maxExpiry.root).toEqual({ period: '730d', source: 'default' });
    expect(existsSync(join(home, 'demo'))).toBe(false); // showing creates nothing
  });

  it('policy refuses a bad period, an unknown role, a role twice and an empty change; nothing is written', () => {
    for (const args of [
      ['--max-expiry', 'root=forever'],
      ['--max-expiry', 'root=0d'],
      ['--max-expiry', 'mirror=30d'],
      ['--max-expiry', 'root=30d', '--max-expiry', 'root=40d'],
      [],
    ]) {
      const r = tufsign(['ceremony', 'trust', 'policy', 'demo', ...args, '--json'], { env });
      expect(errorCode(r)).toBe('USAGE');
    }
    expect(existsSync(join(home, 'demo', 'policy.json'))).toBe(false);
  });

  it('attack: a repository name that is not a plain folder name is refused', () => {
    const r = tufsign(['ceremony', 'trust', 'policy', '../escape', '--max-expiry', 'root=30d', '--json'], { env });
    expect(errorCode(r)).toBe('REQUEST_INVALID');
    expect(existsSync(join(base, 'escape'))).toBe(false);
  });

  it('policy writes policy.json; the keyholder flow then refuses a longer expiry before any secret', () => {
    const r = ok(['ceremony', 'trust', 'policy', 'demo', '--max-expiry', 'root=30d', '--json'], { env });
    expect(r.json.maxExpiry.root).toEqual({ period: '30d', source: 'policy.json' });
    expect(readJson(join(home, 'demo', 'policy.json'))).toEqual({ max_expiry: { root: '30d' } });
    const before = readFileSync(req, 'utf8');
    const s = tufsign(
      ['ceremony', 'sign', req, '--key', alice.uri, '--fingerprint', fingerprintOf(req), '--yes', '--json'],
      {
        cwd: alice.dir,
        env: { ...env, ...NO_SECRETS },
      },
    );
    expect(errorCode(s)).toBe('EXPIRY_TOO_LONG');
    expect(readFileSync(req, 'utf8')).toBe(before);
  });

  it('--reset returns a role to its default; the request then signs (first contact) and show names the pin', () => {
    ok(['ceremony', 'trust', 'policy', 'demo', '--reset', 'root', '--max-expiry', 'targets=90d'], { env });
    expect(readJson(join(home, 'demo', 'policy.json'))).toEqual({ max_expiry: { targets: '90d' } });
    ok(['ceremony', 'sign', req, '--key', alice.uri, '--fingerprint', fingerprintOf(req), '--yes'], {
      cwd: alice.dir,
      env,
    });
    const r = ok(['ceremony', 'trust', 'show', '--trust-dir', join(home, 'demo'), '--json'], { env });
    const root1 = readJson(join(org, 'metadata', '1.root.json'));
    expect(r.json.pinned.version).toBe(1);
    expect(r.json.pinned.keyids).toEqual(root1.signed.roles.root.keyids);
    expect(r.json.pinned.rootFingerprint).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/);
    const text = ok(['ceremony', 'trust', 'show', 'demo'], { env }).stdout;
    expect(text).toContain(r.json.pinned.rootFingerprint);
    expect(readFileSync(join(home, 'demo', 'root.json'), 'utf8')).toBe(
      readFileSync(join(org, 'metadata', '1.root.json'), 'utf8'),
    );
  });
});
