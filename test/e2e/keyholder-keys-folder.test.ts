/**
 * The guided keyholder flow looks at the key files in `keys/` where it runs (a keyholder's laptop has no
 * tufsign.json), but trusts none of them: a key is offered only when the public part beside it names a key the
 * request asks for, the file is opened with the plan's key as the expected one (a public part that lies ends in
 * KEY_MISMATCH after decryption, nothing signed), and symlinks, FIFOs and oversized public parts are never
 * opened or followed (ADR 0008).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli';
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

jest.setTimeout(120_000);

/** No PC/SC (the YubiKey scan must not touch the shared test pcscd). */
const BLOCK_PCSC = `--require ${join(ROOT, 'test', 'fixtures', 'block-pcsc.js')}`;

describe('the guided flow and the key files in keys/', () => {
  const base = tmp('tufsign-keys-folder-');
  const org = join(base, 'org');
  const req = join(base, 'root-v2.tufsign-request.json');
  const hostile = join(base, 'hostile');
  let alice: ReturnType<typeof keyholder>;
  let mallory: ReturnType<typeof keyholder>;
  let trust: string;

  beforeAll(() => {
    ok(['init', org, '--name', 'demo']);
    alice = keyholder(base, 'alice');
    mallory = keyholder(base, 'mallory');
    ok(rootToKeyholderArgs(org, alice.pub, ['--out', req]));
    trust = pinnedRootDir(org);
    // a laptop whose keys/ someone else filled
    const keys = join(hostile, 'keys');
    mkdirSync(keys, { recursive: true });
    const alicePub = join(alice.dir, 'keys', 'alice.pem.pub.json');
    // a symlink to alice's real key file, with her public part beside it as a regular file
    symlinkSync(join(alice.dir, 'keys', 'alice.pem'), join(keys, 'link.pem'));
    copyFileSync(alicePub, join(keys, 'link.pem.pub.json'));
    // a regular key file whose public part is a symlink to alice's
    copyFileSync(join(mallory.dir, 'keys', 'mallory.pem'), join(keys, 'linked-part.pem'));
    symlinkSync(alicePub, join(keys, 'linked-part.pem.pub.json'));
    // a FIFO where the public part should be (opening it would block)
    copyFileSync(join(mallory.dir, 'keys', 'mallory.pem'), join(keys, 'fifo.pem'));
    expect(spawnSync('mkfifo', [join(keys, 'fifo.pem.pub.json')]).status).toBe(0);
    // a 100 MiB public part (sparse)
    copyFileSync(join(mallory.dir, 'keys', 'mallory.pem'), join(keys, 'huge.pem'));
    writeFileSync(join(keys, 'huge.pem.pub.json'), '');
    truncateSync(join(keys, 'huge.pem.pub.json'), 100 * 1024 * 1024);
    // mallory's own key, honestly described: not in the plan
    copyFileSync(join(mallory.dir, 'keys', 'mallory.pem'), join(keys, 'mallory.pem'));
    copyFileSync(join(mallory.dir, 'keys', 'mallory.pem.pub.json'), join(keys, 'mallory.pem.pub.json'));
  });

  const guided = (cwd: string, env: Record<string, string | undefined> = {}) =>
    tufsign(['ceremony', req, '--fingerprint', fingerprintOf(req), '--trust-dir', trust, '--yes', '--json'], {
      cwd,
      env: { NODE_OPTIONS: BLOCK_PCSC, ...env },
    });

  it('symlinks, a FIFO, a 100 MiB public part and a key outside the plan: none offered, no secret asked', () => {
    const before = readFileSync(req, 'utf8');
    // no passphrase here: asking for one would have failed with SECRET_REQUIRED instead
    const r = guided(hostile, { TUFSIGN_PASSPHRASE: undefined });
    expect(errorCode(r)).toBe('NOTHING_SIGNED');
    expect(r.json.error.details.skipped.map((x: { name: string }) => x.name)).toEqual([
      'keys/fifo.pem.pub.json',
      'keys/huge.pem.pub.json',
      'keys/link.pem',
      'keys/linked-part.pem.pub.json',
    ]);
    expect(readFileSync(req, 'utf8')).toBe(before);
  });

  it('a public part that lies (alice’s, beside mallory’s key file) is offered, then refused after decryption', () => {
    copyFileSync(join(mallory.dir, 'keys', 'mallory.pem'), join(hostile, 'keys', 'liar.pem'));
    copyFileSync(join(alice.dir, 'keys', 'alice.pem.pub.json'), join(hostile, 'keys', 'liar.pem.pub.json'));
    const before = readFileSync(req, 'utf8');
    const r = guided(hostile);
    expect(errorCode(r)).toBe('KEY_MISMATCH');
    expect(readFileSync(req, 'utf8')).toBe(before);
  });

  it('on alice’s laptop, her key file in keys/ is found without --key and signs', () => {
    const r = guided(alice.dir);
    expect(r.status).toBe(0);
    expect(r.json.signed.added.map((a: { keyid: string }) => a.keyid)).toEqual([readJson(alice.pub).keyid]);
    expect(r.json.signed.added[0].uri).toBe('file:keys/alice.pem');
  });
});
