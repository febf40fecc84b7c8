/**
 * Which keys a keyholder's tufsign uses, and what it costs: a key file is
 * matched to the plan BEFORE its passphrase (its keyid comes from the public
 * part beside it, or the workspace's mapping), so a key outside the plan costs
 * no secret; and the guided flow finds a PKCS#11 token only through this
 * machine's own configuration (TUFSIGN_PKCS11_MODULE / --pkcs11-module),
 * never through anything the request names.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli';
import { describeSoftHsm, pkcs11GenerateArgs, SoftHsmLab, SOFTHSM_MODULE, USER_PIN } from '../helpers/softhsm';
import {
  errorCode,
  fingerprintOf,
  keyholder,
  ok,
  pinnedRootDir,
  readJson,
  rootToKeyholderArgs,
  tmp,
  tufsign,
} from '../helpers/ceremony';

jest.setTimeout(240_000);

/** No PC/SC (the YubiKey scan must not touch the shared test pcscd). */
const BLOCK_PCSC = `--require ${join(ROOT, 'test', 'fixtures', 'block-pcsc.js')}`;
/** No passphrase and no terminal: asking for a secret would fail with its own code (SECRET_REQUIRED). */
const NO_SECRETS = { TUFSIGN_PASSPHRASE: undefined, TUFSIGN_PIN: undefined, NODE_OPTIONS: BLOCK_PCSC };

/** A trust folder pinning the organizer's root v1 (the keyholder has no workspace). */
describe('a key file is matched to the plan before its passphrase', () => {
  const base = tmp('tufsign-keys-here-');
  const org = join(base, 'org');
  const req = join(base, 'root-v2.tufsign-request.json');
  let alice: ReturnType<typeof keyholder>;
  let mallory: ReturnType<typeof keyholder>;
  let trust: string;

  beforeAll(() => {
    ok(['init', org, '--name', 'demo']);
    alice = keyholder(base, 'alice');
    mallory = keyholder(base, 'mallory');
    ok(rootToKeyholderArgs(org, alice.pub, ['--out', req]));
    trust = pinnedRootDir(org);
  });

  const sign = (uri: string, cwd: string, env: Record<string, string | undefined> = NO_SECRETS) =>
    tufsign(
      [
        'ceremony',
        'sign',
        req,
        '--key',
        uri,
        '--fingerprint',
        fingerprintOf(req),
        '--trust-dir',
        trust,
        '--yes',
        '--json',
      ],
      {
        cwd,
        env,
      },
    );

  it('key generate writes the public part beside the key file', () => {
    const pub = readJson(join(alice.dir, 'keys', 'alice.pem.pub.json'));
    expect(pub.keyid).toBe(readJson(alice.pub).keyid);
  });

  it('attack: a key file outside the plan is refused without asking its passphrase (ceremony sign and guided)', () => {
    const before = readFileSync(req, 'utf8');
    const r = sign(mallory.uri, mallory.dir);
    expect(errorCode(r)).toBe('SIGNATURE_REFUSED');
    expect(r.json.error.details.keyid).toBe(readJson(mallory.pub).keyid);
    const g = tufsign(
      [
        'ceremony',
        req,
        '--key',
        mallory.uri,
        '--fingerprint',
        fingerprintOf(req),
        '--trust-dir',
        trust,
        '--yes',
        '--json',
      ],
      { cwd: mallory.dir, env: NO_SECRETS },
    );
    expect(errorCode(g)).toBe('NOTHING_SIGNED');
    expect(readFileSync(req, 'utf8')).toBe(before);
  });

  it('a key file with nothing beside it is refused before its passphrase, with the way to name it', () => {
    copyFileSync(join(alice.dir, 'keys', 'alice.pem'), join(alice.dir, 'keys', 'bare.pem'));
    const before = readFileSync(req, 'utf8');
    const r = sign('file:keys/bare.pem', alice.dir);
    expect(errorCode(r)).toBe('KEY_IDENTITY_UNKNOWN');
    expect(r.status).toBe(5);
    expect(r.json.error.suggestion).toContain('key export file:keys/bare.pem');
    const g = tufsign(
      [
        'ceremony',
        req,
        '--key',
        'file:keys/bare.pem',
        '--fingerprint',
        fingerprintOf(req),
        '--trust-dir',
        trust,
        '--yes',
        '--json',
      ],
      { cwd: alice.dir, env: NO_SECRETS },
    );
    expect(errorCode(g)).toBe('KEY_IDENTITY_UNKNOWN');
    expect(readFileSync(req, 'utf8')).toBe(before);
  });

  it('a public part that lies about the key file is caught: the decrypted key must be the planned one', () => {
    // mallory's key file beside alice's public part: matched to the plan, then refused after decryption, nothing signed
    copyFileSync(join(mallory.dir, 'keys', 'mallory.pem'), join(alice.dir, 'keys', 'liar.pem'));
    copyFileSync(join(alice.dir, 'keys', 'alice.pem.pub.json'), join(alice.dir, 'keys', 'liar.pem.pub.json'));
    const before = readFileSync(req, 'utf8');
    const r = sign('file:keys/liar.pem', alice.dir, { NODE_OPTIONS: BLOCK_PCSC });
    expect(errorCode(r)).toBe('KEY_MISMATCH');
    expect(readFileSync(req, 'utf8')).toBe(before);
  });

  it('the key in the plan signs once its passphrase is given', () => {
    const r = sign(alice.uri, alice.dir, { NODE_OPTIONS: BLOCK_PCSC });
    expect(r.status).toBe(0);
    expect(r.json.added.map((a: { keyid: string }) => a.keyid)).toContain(readJson(alice.pub).keyid);
  });
});

describeSoftHsm("the guided flow finds a PKCS#11 token only through this machine's configuration", () => {
  let lab: SoftHsmLab;
  const base = tmp('tufsign-token-here-');
  const org = join(base, 'org');
  const req = join(base, 'root-v2.tufsign-request.json');
  let trust: string;
  let carolKeyid: string;

  beforeAll(() => {
    lab = SoftHsmLab.create();
    lab.addToken('carol-hsm');
    ok(['init', org, '--name', 'demo']);
    const gen = ok(
      pkcs11GenerateArgs('carol-hsm', 'carol-root', [
        '--scheme',
        'ecdsa-sha2-nistp256',
        '--public-out',
        join(base, 'carol.pub.json'),
        '--json',
      ]),
      { env: { SOFTHSM2_CONF: lab.conf, TUFSIGN_PIN: USER_PIN, TUFSIGN_PKCS11_MODULE: SOFTHSM_MODULE } },
    );
    carolKeyid = gen.json.keyid;
    ok(rootToKeyholderArgs(org, join(base, 'carol.pub.json'), ['--out', req]));
    trust = pinnedRootDir(org);
  });
  afterAll(() => lab?.cleanup());

  const guided = (env: Record<string, string | undefined>) =>
    tufsign(['ceremony', req, '--fingerprint', fingerprintOf(req), '--trust-dir', trust, '--yes', '--json'], {
      cwd: base,
      env: { SOFTHSM2_CONF: lab.conf, NODE_OPTIONS: BLOCK_PCSC, ...env },
    });

  it('without a module named here, no token is looked at: nothing signed', () => {
    const before = readFileSync(req, 'utf8');
    const r = guided({ TUFSIGN_PKCS11_MODULE: undefined, TUFSIGN_PIN: undefined });
    expect(errorCode(r)).toBe('NOTHING_SIGNED');
    expect(readFileSync(req, 'utf8')).toBe(before);
  });

  it('with TUFSIGN_PKCS11_MODULE, the token key in the plan is found and signs (no --key)', () => {
    const r = guided({ TUFSIGN_PKCS11_MODULE: SOFTHSM_MODULE, TUFSIGN_PIN: USER_PIN });
    expect(r.status).toBe(0);
    expect(r.json.signed.added.map((a: { keyid: string }) => a.keyid)).toContain(carolKeyid);
    expect(r.json.signed.added[0].uri).toMatch(/^pkcs11:token=carol-hsm;/);
  });

  it('--pkcs11-module names the module too; a key that signed already is not offered and no PIN is asked', () => {
    const r = tufsign(
      [
        'ceremony',
        req,
        '--pkcs11-module',
        SOFTHSM_MODULE,
        '--fingerprint',
        fingerprintOf(req),
        '--trust-dir',
        trust,
        '--yes',
        '--json',
      ],
      {
        cwd: base,
        env: {
          SOFTHSM2_CONF: lab.conf,
          NODE_OPTIONS: BLOCK_PCSC,
          TUFSIGN_PIN: undefined,
          TUFSIGN_PKCS11_MODULE: undefined,
        },
      },
    );
    expect(errorCode(r)).toBe('NOTHING_SIGNED');
    expect(r.json.error.message).toContain('already signed');
  });
});
