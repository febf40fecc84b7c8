/**
 * The device pre-flight for PKCS#11 tokens (#11, ADR 0004), through the built CLI with two real SoftHSM2 tokens.
 * Root is 2-of-2 over both tokens, targets lives on token A and snapshot on token B, so `sign targets --bump`
 * needs A first (targets) and B second (snapshot). Every failing run is given a WRONG PIN: SoftHSM2 raises
 * CKF_USER_PIN_COUNT_LOW on a token after a failed login, so a token whose flag stays clear was never asked
 * for its PIN. Without the pre-flight, token A gets the wrong PIN first and the run fails with PIN_INCORRECT.
 * `targets add` and `add-release` check the whole chain (targets, snapshot, timestamp) before their first PIN.
 * Needs `npm run build` first.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, type CliResult } from '../helpers/cli';
import {
  describeSoftHsm,
  pkcs11GenerateArgs,
  publicOutJsonFlags,
  SoftHsmLab,
  SOFTHSM_MODULE,
  USER_PIN,
} from '../helpers/softhsm';

const WRONG_PIN = '000000';

describeSoftHsm('PKCS#11 pre-flight: every token a run needs is checked before the first PIN', () => {
  let lab: SoftHsmLab;
  let work: string;
  let env: Record<string, string>;
  const run = (args: string[], extra: Record<string, string> = {}): CliResult =>
    runCli(args, { cwd: work, env: { ...env, ...extra } });
  const generate = (token: string, label: string): string => {
    const r = run(pkcs11GenerateArgs(token, label, publicOutJsonFlags(label)));
    if (r.status !== 0) throw new Error(`key generate failed: ${r.stdout}${r.stderr}`);
    return (r.json() as { uri: string }).uri;
  };
  /** The token's flags as `tufsign devices` reports them (read-only: no login; it asks pcscd too: the card lock). */
  const pinCountLow = (label: string): boolean => {
    const j = runCli(['devices', '--json'], { cwd: work, env, card: true }).json() as {
      backends: {
        backend: string;
        devices: { module: string; slots?: { token?: { label: string; flags: { pinCountLow: boolean } } }[] }[];
      }[];
    };
    const module = j.backends.find((b) => b.backend === 'pkcs11')?.devices.find((d) => d.module === SOFTHSM_MODULE);
    const token = module?.slots?.find((s) => s.token?.label === label)?.token;
    if (token === undefined) throw new Error(`token ${label} not listed by tufsign devices`);
    return token.flags.pinCountLow;
  };
  /** The newest version of a role on disk (consistent snapshots: N.ROLE.json). */
  const version = (role: string): number =>
    Math.max(
      ...readdirSync(join(work, 'repo', 'metadata'))
        .map((f) => new RegExp(`^(\\d+)\\.${role}\\.json$`).exec(f)?.[1])
        .filter((v): v is string => v !== undefined)
        .map(Number),
    );
  /** SoftHSM keeps each token in a folder under tokens/; moving it away unplugs the token for the next run. */
  const tokenDir = (serialHex: string): string => {
    const tokens = join(lab.dir, 'tokens');
    for (const d of readdirSync(tokens))
      if (readFileSync(join(tokens, d, 'token.object')).includes(Buffer.from(serialHex, 'ascii')))
        return join(tokens, d);
    throw new Error(`no token folder for serial ${serialHex}`);
  };

  let serialB: string;
  let snapshotId: string;

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'commands'))) throw new Error('run `npm run build` first');
    lab = SoftHsmLab.create();
    lab.addToken('hsm-a');
    serialB = lab.addToken('hsm-b').serial;
    work = join(lab.dir, 'work');
    mkdirSync(work);
    env = { SOFTHSM2_CONF: lab.conf, TUFSIGN_PIN: USER_PIN, TUFSIGN_PKCS11_MODULE: SOFTHSM_MODULE };
    const rootA = generate('hsm-a', 'root-a');
    const rootB = generate('hsm-b', 'root-b');
    const targets = generate('hsm-a', 'targets');
    const snapshot = generate('hsm-b', 'snapshot');
    snapshotId = (/;id=([^;?]+)/.exec(snapshot)?.[1] ?? '').replace(/%/g, '');
    expect(snapshotId).toMatch(/^[0-9a-fA-F]{4}$/);
    const r = run([
      'init',
      'repo',
      '--scheme',
      'ecdsa-sha2-nistp256',
      '--root-key',
      rootA,
      '--root-key',
      rootB,
      '--root-threshold',
      '2',
      '--targets-key',
      targets,
      '--snapshot-key',
      snapshot,
      '--pkcs11-module',
      SOFTHSM_MODULE,
      '--yes',
      '--json',
    ]);
    if (r.status !== 0) throw new Error(`init failed: ${r.stdout}${r.stderr}`);
  }, 120_000);
  afterAll(() => lab?.cleanup());

  it('both tokens present: sign targets --bump signs targets on A and snapshot on B', () => {
    const r = run(['sign', 'targets', '--bump', '-w', 'repo', '--json']);
    if (r.status !== 0) throw new Error(`sign failed: ${r.stdout}${r.stderr}`);
    expect(version('targets')).toBe(2);
    expect(version('snapshot')).toBe(2);
  });

  it('token B unplugged: TOKEN_NOT_PRESENT naming it, before token A is asked for a PIN', () => {
    const dir = tokenDir(serialB);
    const away = join(lab.dir, 'unplugged');
    renameSync(dir, away);
    try {
      const r = run(['sign', 'targets', '--bump', '-w', 'repo', '--json'], { TUFSIGN_PIN: WRONG_PIN });
      expect(r.status).toBe(6);
      expect(r.json().error.code).toBe('TOKEN_NOT_PRESENT');
      expect(r.json().error.message).toContain('hsm-b');
      expect(pinCountLow('hsm-a')).toBe(false);
      expect(version('targets')).toBe(2);
    } finally {
      renameSync(away, dir);
    }
  });

  it('token B unplugged: targets add and add-release (targets on A, snapshot on B) stop before A is asked for a PIN', () => {
    // Each run checks the whole chain first; role by role, A would get the wrong PIN (PIN_INCORRECT) before B
    // was looked for.
    writeFileSync(join(work, 'notes.txt'), 'hello\n');
    mkdirSync(join(work, 'app'), { recursive: true });
    writeFileSync(join(work, 'app', 'main.py'), 'print(1)\n');
    const dir = tokenDir(serialB);
    const away = join(lab.dir, 'unplugged');
    renameSync(dir, away);
    try {
      for (const args of [
        ['targets', 'add', 'notes.txt', '-w', 'repo'],
        ['add-release', 'myapp', '1.0', 'app', '-w', 'repo'],
      ]) {
        const r = run([...args, '--json'], { TUFSIGN_PIN: WRONG_PIN });
        expect({ args, code: r.json().error.code }).toEqual({ args, code: 'TOKEN_NOT_PRESENT' });
      }
      expect(pinCountLow('hsm-a')).toBe(false);
      expect(version('targets')).toBe(2);
    } finally {
      renameSync(away, dir);
    }
  });

  it("a token with B's label holding another key: KEY_MISMATCH before any PIN, on either token", () => {
    // the genuine token B goes away; an impostor with the same label and a "snapshot" key of its own, under the
    // same object id, comes in
    const dir = tokenDir(serialB);
    const away = join(lab.dir, 'genuine-b');
    renameSync(dir, away);
    try {
      lab.addToken('hsm-b');
      const made = lab.pkcs11Tool([
        '--token-label',
        'hsm-b',
        '--login',
        '--pin',
        USER_PIN,
        '--keypairgen',
        '--key-type',
        'EC:prime256v1',
        '--label',
        'snapshot',
        '--id',
        snapshotId,
      ]);
      expect(made).toMatch(/Public Key Object/);
      const r = run(['sign', 'targets', '--bump', '-w', 'repo', '--json'], { TUFSIGN_PIN: WRONG_PIN });
      expect(r.json().error.code).toBe('KEY_MISMATCH');
      expect(r.status).toBe(5);
      expect(pinCountLow('hsm-a')).toBe(false);
      expect(pinCountLow('hsm-b')).toBe(false);
      expect(version('targets')).toBe(2);
    } finally {
      const impostor = lab.tokens[lab.tokens.length - 1];
      if (impostor !== undefined && impostor.serial !== serialB)
        renameSync(tokenDir(impostor.serial), join(lab.dir, 'impostor'));
      renameSync(away, dir);
    }
  });

  describe('key files in the same pre-flight: targets on token A, snapshot and timestamp in key files', () => {
    const targetsPin = (): boolean => pinCountLow('hsm-a');
    /** The snapshot key file of workspace `mixed`, from its root and tufsign.json (not a guessed name). */
    const snapshotKeyFile = (): string => {
      const rootFile = readdirSync(join(work, 'mixed', 'metadata')).filter((f) => /^\d+\.root\.json$/.test(f))[0];
      const root = JSON.parse(readFileSync(join(work, 'mixed', 'metadata', rootFile ?? ''), 'utf8')) as {
        signed: { roles: { snapshot: { keyids: string[] } } };
      };
      const config = JSON.parse(readFileSync(join(work, 'mixed', 'tufsign.json'), 'utf8')) as {
        keys: Record<string, { uri: string }>;
      };
      const uri = config.keys[root.signed.roles.snapshot.keyids[0] ?? '']?.uri ?? '';
      expect(uri).toMatch(/^file:/);
      return join(work, 'mixed', uri.slice('file:'.length));
    };
    const mixedVersion = (): number =>
      readdirSync(join(work, 'mixed', 'metadata')).filter((f) => /^\d+\.targets\.json$/.test(f)).length;

    beforeAll(() => {
      const r = run([
        'init',
        'mixed',
        '--scheme',
        'ecdsa-sha2-nistp256',
        '--targets-key',
        generate('hsm-a', 'mixed-targets'),
        '--pkcs11-module',
        SOFTHSM_MODULE,
        '--yes',
        '--json',
      ]);
      if (r.status !== 0) throw new Error(`init failed: ${r.stdout}${r.stderr}`);
      writeFileSync(join(work, 'mixed.txt'), 'mixed\n');
      mkdirSync(join(work, 'mixed-app'), { recursive: true });
      writeFileSync(join(work, 'mixed-app', 'main.py'), 'print(2)\n');
    });

    it("a wrong passphrase for the snapshot key file: WRONG_PASSPHRASE before token A's PIN is used", () => {
      // Role by role, token A would get the wrong PIN (PIN_INCORRECT, its count-low flag set) before the
      // snapshot key file was opened.
      for (const args of [
        ['targets', 'add', 'mixed.txt', '-w', 'mixed'],
        ['add-release', 'mixedapp', '1.0', 'mixed-app', '-w', 'mixed'],
        ['sign', 'targets', '--bump', '-w', 'mixed'],
      ]) {
        const r = run([...args, '--json'], { TUFSIGN_PIN: WRONG_PIN, TUFSIGN_PASSPHRASE: 'not-the-passphrase' });
        expect({ args, code: r.json().error.code }).toEqual({ args, code: 'WRONG_PASSPHRASE' });
      }
      expect(targetsPin()).toBe(false);
      expect(mixedVersion()).toBe(1);
    });

    it("the snapshot key file missing: THRESHOLD_NOT_MET before token A's PIN is used, nothing written", () => {
      const file = snapshotKeyFile();
      renameSync(file, `${file}.away`);
      try {
        const r = run(['targets', 'add', 'mixed.txt', '-w', 'mixed', '--json'], { TUFSIGN_PIN: WRONG_PIN });
        // a key file that is not here is a key held elsewhere: snapshot cannot be signed, found before any key opens
        expect(r.status).toBe(4);
        expect(r.json().error.code).toBe('THRESHOLD_NOT_MET');
        expect(targetsPin()).toBe(false);
        expect(mixedVersion()).toBe(1);
      } finally {
        renameSync(`${file}.away`, file);
      }
    });

    it('with the right passphrase the same run completes: the key files are opened once, before the token', () => {
      const r = run(['targets', 'add', 'mixed.txt', '-w', 'mixed', '--json']);
      if (r.status !== 0) throw new Error(`targets add failed: ${r.stdout}${r.stderr}`);
      expect(mixedVersion()).toBe(2);
      expect(targetsPin()).toBe(false);
    });
  });

  it('the wrong PIN is the only fault left: the run reaches token A and reports PIN_INCORRECT (the oracle works)', () => {
    const r = run(['sign', 'targets', '--bump', '-w', 'repo', '--json'], { TUFSIGN_PIN: WRONG_PIN });
    expect(r.json().error.code).toBe('PIN_INCORRECT');
    expect(pinCountLow('hsm-a')).toBe(true);
    expect(version('targets')).toBe(2);
  });
});
