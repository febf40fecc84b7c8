/**
 * The guided keyholder flow looks at the key files in `keys/` where it runs (a keyholder's laptop has no
 * tufsign.json), but trusts none of them: a key is offered only when the public part beside it names a key the
 * request asks for, the file is opened with the plan's key as the expected one (a public part that lies ends in
 * KEY_MISMATCH after decryption, nothing signed), and symlinks, FIFOs and oversized public parts are never
 * opened or followed (ADR 0008). With two usable key files there, the keyholder on a terminal picks which one signs
 * (driven through test/fixtures/pty-drive.py); Ctrl-C at that choice signs and writes nothing.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor } from '../../src/errors';
import { ROOT, TEST_PASSPHRASE } from '../helpers/cli';
import {
  errorCode,
  fingerprintOf,
  keyholder,
  ok,
  pinnedRootDir,
  readJson,
  rootKeyids,
  rootToKeyholderArgs,
  tmp,
  tufsign,
} from '../helpers/ceremony';
import { CTRL_C, describeOnPty, runOnPty, type PtyRun, type PtyScript } from '../helpers/pty';

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

describeOnPty('two usable key files in keys/, on a terminal: the keyholder picks one', () => {
  const base = tmp('tufsign-keys-choice-');
  const org = join(base, 'org');
  const laptop = join(base, 'laptop');
  const REQ = 'root-v2.tufsign-request.json';
  const req = join(laptop, REQ);
  const DOWN = '\u001b[B';
  let aliceKeyid: string;
  let bobKeyid: string;
  let original: string;
  let trust: string;

  beforeAll(() => {
    ok(['init', org, '--name', 'demo-choice']);
    const alice = keyholder(base, 'alice');
    const bob = keyholder(base, 'bob');
    aliceKeyid = readJson(alice.pub).keyid;
    bobKeyid = readJson(bob.pub).keyid;
    // root v2 needs alice and bob: each of their keys can sign something still needed
    const v1Key = rootKeyids(org, 1)[0]!;
    ok(
      ['root', 'rotate', '-w', org, '--add-key', alice.pub, '--add-key', bob.pub, '--remove-key', v1Key].concat([
        '--threshold',
        '2',
        '--out',
        join(base, REQ),
      ]),
    );
    original = readFileSync(join(base, REQ), 'utf8');
    // one laptop holding both key files, each with its public part beside it (keys/ is read by name: alice, bob)
    mkdirSync(join(laptop, 'keys'), { recursive: true });
    for (const k of [alice, bob])
      for (const f of readdirSync(join(k.dir, 'keys'))) copyFileSync(join(k.dir, 'keys', f), join(laptop, 'keys', f));
    trust = pinnedRootDir(org);
  });

  /** The guided flow on a pseudo-terminal in the laptop folder, typing `steps`; no PC/SC, no prompt for the passphrase. */
  const drive = (steps: PtyScript): PtyRun =>
    runOnPty(steps, ['ceremony', REQ, '--trust-dir', trust], {
      cwd: laptop,
      env: { NODE_OPTIONS: BLOCK_PCSC, TUFSIGN_PASSPHRASE: TEST_PASSPHRASE, TUFSIGN_TRUST_HOME: tmp('tufsign-trust-') },
    });

  /** Every file under the laptop folder and the trust folder, with its bytes. */
  const written = (): Record<string, string> =>
    Object.fromEntries(
      [laptop, trust].flatMap((d) =>
        readdirSync(d, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => [join(e.parentPath, e.name), readFileSync(join(e.parentPath, e.name), 'hex')]),
      ),
    );

  /** The keyids whose signatures the request holds, over both sides of root v2 (previous root, new root). */
  const signers = (): string[] => {
    const s = ok(['ceremony', 'status', req, '--json']).json.status.roles[0].sides;
    return [...new Set<string>(s.flatMap((side: { signed: string[] }) => side.signed))].sort();
  };

  it('Ctrl-C at the choice of key: ABORTED, nothing written', () => {
    writeFileSync(req, original);
    const before = written();
    const r = drive([['Sign with which key', CTRL_C]]);
    expect(r.transcript).toContain('key available: file:keys/alice.pem');
    expect(r.transcript).toContain('key available: file:keys/bob.pem');
    expect(r.status).toBe(exitCodeFor('ABORTED'));
    expect(r.transcript).toContain('ABORTED');
    expect(r.transcript).not.toMatch(/INTERNAL|bug in tufsign|ExitPromptError/);
    expect(written()).toEqual(before);
  });

  it('the second key picked, after the fingerprint and the confirmation: the signature is by that key only', () => {
    writeFileSync(req, original);
    const before = signers();
    expect(before).not.toContain(aliceKeyid);
    expect(before).not.toContain(bobKeyid);
    const r = drive([
      ['Sign with which key', `${DOWN}\r`],
      ['Type the fingerprint', `${fingerprintOf(req)}\r`],
      ['Sign root v2', 'y\r'],
    ]);
    expect(r.status).toBe(0);
    expect(signers()).toEqual([...before, bobKeyid].sort());
  });
});
