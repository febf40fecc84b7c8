/**
 * The ` ```sh yubikey ` doc examples run as written on two virtual YubiKeys (pcscd + vsmartcard-vpcd + the PIV
 * emulator, test/helpers/virtual-yubikey.ts), with Yubico's own `ykman` and ykcs11 against them.
 *
 * What this machine stands in for, and nothing else:
 * - the reader's YubiKeys: serial 12345678 (Alice's) and 87654321 (Bob's), factory PIN, PUK and management key;
 * - what a person types at ykman's prompts (TYPED: the current and the new PIN, PUK, …), piped to that one
 *   command; tufsign itself reads the PIN from TUFSIGN_PIN (no terminal here), the passphrases of the key files
 *   init writes from TUFSIGN_PASSPHRASE and TUFSIGN_OFFLINE_PASSPHRASE, the fingerprint a keyholder hears read
 *   out from `ceremony status --json`, and the "yes" a keyholder answers at the terminal as `--yes`;
 * - Bob: before docs/yubikey.md runs, its blocks that prepare a YubiKey and generate a key run for Bob's
 *   serial and name, as the doc says Bob does on his own YubiKey;
 * - the virtual card's attestations chain to a test CA, where a real YubiKey's chain to Yubico:
 *   TUFSIGN_YUBIKEY_TEST_CA trusts it for attestation checks, and the root-key policy (init's
 *   --require-attested-root-keys, key attest --policy root) is given it with `--attestation-ca`: the policy
 *   trusts only Yubico's roots and the CAs given, never the test variable;
 * - a package install is the check that it is installed (scripts/install-test-deps.sh installs it).
 * The files run one after another on the same two cards, docs/yubikey.md first (the key it generates in
 * slot 9c of 12345678 is the one docs/hsm.md's ykcs11 example imports).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli';
import {
  commandsMdExamples,
  docBlocks,
  ON_VIRTUAL_CARDS,
  onPty,
  PTY_ENV,
  refusedUnchanged,
  runScript,
  tufsignShim,
  withRequestFingerprint,
  type Block,
} from '../helpers/doc-examples';
import { tempDir } from '../helpers/tmp';
import { describeWithVirtualCards, VirtualYubiKeyLab } from '../helpers/virtual-yubikey';

// docs/delegations.md's PEP 458 layout: ~20 tufsign runs on the cards and a token, minutes on a loaded machine
jest.setTimeout(240_000);

const ALICE = 12345678;
const BOB = 87654321;
const PIN = '246813';
const PUK = '97531864';

const blocks = docBlocks().filter((b) => b.info === 'sh yubikey');
const FIRST = 'docs/yubikey.md';
const files = [...new Set(blocks.map((b) => b.file))].sort((a, b) => Number(b === FIRST) - Number(a === FIRST));

/** What a person types at each ykman prompt, one command at a time. */
const TYPED: [RegExp, string[]][] = [
  [/^(ykman .*piv access change-pin\b.*)$/gm, ['123456', PIN, PIN]],
  [/^(ykman .*piv access change-puk\b.*)$/gm, ['12345678', PUK, PUK]],
  // the current management key (blank: the factory one), then the PIN the new key is stored under
  [/^(ykman .*piv access change-management-key\b.*)$/gm, ['', PIN]],
];
const FILL: [RegExp, string][] = [
  [/--require-attested-root-keys\b/g, '--require-attested-root-keys --attestation-ca "$TUFSIGN_YUBIKEY_TEST_CA"'],
  [/--policy root\b/g, '--policy root --attestation-ca "$TUFSIGN_YUBIKEY_TEST_CA"'],
  [/^sudo apt install ([\w -]+)$/gm, 'dpkg -s $1 >/dev/null'],
  // the fingerprint init printed, as the keyholders type it after hearing it read out
  [
    /^(tufsign ceremony sign (\S+).*--fingerprint "\$FINGERPRINT")/gm,
    'FINGERPRINT=$(tufsign ceremony status $2 --json | node -e "$READ_FINGERPRINT")\n$1 --yes',
  ],
];
const READ_FINGERPRINT = `let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => console.log(JSON.parse(s).fingerprint));`;

function prepare(body: string): string {
  for (const [re, typed] of TYPED)
    body = body.replace(re, `printf '%s\\n' ${typed.map((t) => `'${t}'`).join(' ')} | $1`);
  for (const [re, to] of FILL) body = body.replace(re, to);
  return body;
}

/**
 * What the reader of a file already has before its examples start: docs/migrating.md's tuf-on-ci reader has the
 * repository checked out and @alice's key on her YubiKey (here: the fixture's key, imported into Alice's card
 * with ykman, under the PIN and PIN-protected management key docs/yubikey.md set).
 */
const READER: Record<string, string> = {
  'docs/migrating.md': `cp -r '${join(ROOT, 'test', 'fixtures', 'import', 'tuf-on-ci')}' my-tuf-on-ci-repo
node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).keyval.private)' \\
  '${join(ROOT, 'test', 'fixtures', 'import', 'tuf-on-ci-keyholders', 'alice')}' > alice-key.pem
ykman --device ${ALICE} piv keys import --pin ${PIN} 9c alice-key.pem >/dev/null
rm alice-key.pem`,
  // docs/releases.md's CI machine has an HSM with a token "release" (here SoftHSM2, its PIN the one TUFSIGN_PIN
  // gives) and the application's build folder
  'docs/releases.md': `mkdir -p softhsm/tokens dist/myapp
echo "directories.tokendir = $PWD/softhsm/tokens" > softhsm/softhsm2.conf
export SOFTHSM2_CONF="$PWD/softhsm/softhsm2.conf"
softhsm2-util --init-token --free --label release --so-pin ${PUK} --pin ${PIN} >/dev/null
echo 'print("myapp 1.1")' > dist/myapp/main.py`,
  // docs/delegations.md's upload machine has an HSM with a token "online" (SoftHSM2 here) and the uploads of
  // the day, listed one per line
  'docs/delegations.md': `mkdir -p softhsm/tokens uploads
echo "directories.tokendir = $PWD/softhsm/tokens" > softhsm/softhsm2.conf
export SOFTHSM2_CONF="$PWD/softhsm/softhsm2.conf"
softhsm2-util --init-token --free --label online --so-pin ${PUK} --pin ${PIN} >/dev/null
for p in alpha beta gamma; do echo "$p 1.0" > uploads/$p-1.0.tar.gz; done
ls uploads/* > uploads.txt`,
};

/**
 * The docs/commands.md examples of ON_VIRTUAL_CARDS, each in a subshell after its `before`: the refusal of the
 * example as written where it is refused (`refused`, or another request's `fingerprint`), the example (on a
 * pseudo-terminal where a person types), then its `after`.
 */
function cardExamples(): string[] {
  const examples = commandsMdExamples();
  return Object.entries(ON_VIRTUAL_CARDS).map(([example, run]) => {
    if (!examples.includes(example)) throw new Error(`not a docs/commands.md example: ${example}`);
    const line = prepare(example).replace(/\/media\/usb\//g, 'usb/');
    const runs =
      run.fingerprint !== undefined ? withRequestFingerprint(line, run.fingerprint.literal, run.fingerprint.of) : line;
    return [
      `echo "### docs/commands.md: ${example.replace(/["$`\\]/g, '\\$&')}" >&2`,
      `(${run.before ?? ':'}`,
      ...(run.fingerprint === undefined ? [] : [refusedUnchanged(line, 'FINGERPRINT_MISMATCH', run.fingerprint.watch)]),
      run.refused !== undefined
        ? refusedUnchanged(runs, run.refused)
        : run.typed !== undefined
          ? `${onPty(runs, run.typed)} >&2`
          : runs,
      `${run.after ?? ':'}\n) >/dev/null`,
    ].join('\n');
  });
}

/** Bob's run of the blocks that prepare a YubiKey and generate a key on it. */
function asBob(b: Block): string | undefined {
  if (b.file !== FIRST || !/piv access change-pin|key generate --backend yubikey/.test(b.body)) return undefined;
  return b.body.replaceAll(String(ALICE), String(BOB)).replaceAll('alice', 'bob');
}

describeWithVirtualCards(
  'doc examples on the virtual YubiKey',
  () => {
    const lab = new VirtualYubiKeyLab();
    const shim = tufsignShim();
    const scratch = tempDir('tufsign-doc-yubikey-');

    beforeAll(async () => {
      if (!existsSync(join(ROOT, 'dist', 'commands'))) throw new Error('run `npm run build` first');
      await lab.startPcscd();
      await lab.insert(0, { serial: ALICE, version: '5.7.1', seed: 'doc-alice' });
      await lab.insert(1, { serial: BOB, version: '5.7.1', seed: 'doc-bob' });
    }, 30_000);
    afterAll(() => lab.teardown());

    it('runs docs/yubikey.md first, and at least the YubiKey and ykcs11 examples', () => {
      expect(files.slice(0, 1)).toEqual([FIRST]);
      expect(files).toContain('docs/hsm.md');
      expect(files).toContain('docs/delegations.md');
    });

    it.each(files)('%s: its sh yubikey examples run as written', async (file) => {
      const work = join(scratch, file.replace(/[/.]/g, '-'));
      mkdirSync(work, { recursive: true });
      const own = blocks.filter((b) => b.file === file);
      const script = [
        'set -eu',
        ...own.flatMap((b) => {
          const bob = asBob(b);
          return bob === undefined ? [] : [`echo "### Bob: ${b.file}:${b.line}" >&2`, prepare(bob)];
        }),
        ...(READER[file] === undefined ? [] : [`echo "### the reader of ${file}" >&2`, READER[file]]),
        ...own.map((b) => `echo "### ${b.file}:${b.line}" >&2\n${prepare(b.body)}`),
        // docs/commands.md's examples for Alice's YubiKey, where docs/yubikey.md left its files
        ...(file === FIRST ? cardExamples() : []),
      ].join('\n');
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: `${shim}:${process.env['PATH'] ?? ''}`,
        HOME: work,
        TUFSIGN_PIN: PIN,
        TUFSIGN_PASSPHRASE: 'doc-example-passphrase',
        TUFSIGN_OFFLINE_PASSPHRASE: 'doc-example-offline-passphrase',
        TUFSIGN_YUBIKEY_TEST_CA: lab.caCertFile,
        READ_FINGERPRINT,
        ...PTY_ENV,
        PTY_DRIVE_TIMEOUT: '120',
      };
      const r = await runScript(script, work, env, '', 230_000);
      if (r.status !== 0)
        throw new Error(
          `${file} failed (exit ${r.status}) in ${work}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
        );
      if (file === FIRST) {
        // the repository the last example made: root v1 signed by both YubiKeys, under the attested-key policy
        const root = JSON.parse(readFileSync(join(work, 'repo', 'metadata', '1.root.json'), 'utf8'));
        expect(root.signed.roles.root.keyids).toHaveLength(2);
        expect(root.signed.roles.root.threshold).toBe(2);
        expect(root.signatures).toHaveLength(2);
        const config = JSON.parse(readFileSync(join(work, 'repo', 'tufsign.json'), 'utf8'));
        expect(config.root_key_policy).toBeDefined();
      }
      if (file === 'docs/releases.md') {
        // root v1 signed by both YubiKeys; the release signed online by the HSM's targets key
        const root = JSON.parse(readFileSync(join(work, 'myapp-repo', 'metadata', '1.root.json'), 'utf8'));
        expect(root.signatures).toHaveLength(2);
        const metadata = join(work, 'myapp-repo', 'metadata');
        const newest = Math.max(
          ...readdirSync(metadata).flatMap((f) => /^(\d+)\.targets\.json$/.exec(f)?.slice(1).map(Number) ?? []),
        );
        const targets = JSON.parse(readFileSync(join(metadata, `${newest}.targets.json`), 'utf8'));
        expect(Object.keys(targets.signed.targets)).toContain('myapp-1.1.tar.gz');
      }
      if (file === 'docs/delegations.md') pep458Outcome(join(work, 'pypi'));
      if (file === 'docs/migrating.md') {
        // the imported tuf-on-ci repository's root v4, signed on the card by @alice's imported key
        const root = JSON.parse(readFileSync(join(work, 'ws', 'metadata', '4.root.json'), 'utf8'));
        const alice = JSON.parse(readFileSync(join(work, 'ws', 'tufsign.json'), 'utf8'));
        expect(root.signed.version).toBe(4);
        expect(JSON.stringify(alice)).toContain('yubikey:serial=12345678;slot=9c');
      }
    });
  },
  ['yubico-piv-tool', 'ykcs11', 'ykman'],
);

type Signed = { signed: Record<string, unknown>; signatures: { keyid: string }[] };
/** The newest `N.ROLE.json` of a workspace's metadata/. */
function newest(repo: string, role: string): Signed {
  const dir = join(repo, 'metadata');
  const re = new RegExp(`^(\\d+)\\.${role}\\.json$`);
  const v = Math.max(...readdirSync(dir).flatMap((f) => re.exec(f)?.slice(1).map(Number) ?? []));
  return JSON.parse(readFileSync(join(dir, `${v}.${role}.json`), 'utf8')) as Signed;
}

/**
 * docs/delegations.md's PEP 458 layout, read back: root v1 2-of-2 on the cards' 9a keys and targets 2-of-2 on
 * their 9e keys, each signed by both; targets delegating every path to 256 bins whose one key is the online
 * key that also holds snapshot and timestamp; each upload in exactly the bin its path hashes to, signed by that key.
 */
function pep458Outcome(repo: string): void {
  const work = join(repo, '..');
  const keyid = (pub: string): string =>
    (JSON.parse(readFileSync(join(work, `${pub}.pub.json`), 'utf8')) as { keyid: string }).keyid;
  const sigs = (m: Signed): string[] => m.signatures.map((s) => s.keyid).sort();
  const root = JSON.parse(readFileSync(join(repo, 'metadata', '1.root.json'), 'utf8')) as Signed;
  const roles = root.signed['roles'] as Record<string, { keyids: string[]; threshold: number }>;
  const rootKeys = [keyid('alice-root'), keyid('bob-root')].sort();
  const targetsKeys = [keyid('alice-targets'), keyid('bob-targets')].sort();
  expect({ keyids: roles['root']?.keyids.sort(), threshold: roles['root']?.threshold }).toEqual({
    keyids: rootKeys,
    threshold: 2,
  });
  expect({ keyids: roles['targets']?.keyids.sort(), threshold: roles['targets']?.threshold }).toEqual({
    keyids: targetsKeys,
    threshold: 2,
  });
  expect(sigs(root)).toEqual(rootKeys);
  const online = roles['snapshot']?.keyids ?? [];
  expect(online).toHaveLength(1);
  expect(roles['timestamp']?.keyids).toEqual(online);
  const targets = newest(repo, 'targets');
  expect(sigs(targets)).toEqual(targetsKeys);
  const bins = (
    targets.signed['delegations'] as { succinct_roles: { keyids: string[]; bit_length: number; name_prefix: string } }
  ).succinct_roles;
  expect({ keyids: bins.keyids, bit_length: bins.bit_length }).toEqual({ keyids: online, bit_length: 8 });
  for (const name of ['alpha', 'beta', 'gamma']) {
    const path = `${name}-1.0.tar.gz`; // --from-file: the file's name
    const hash = createHash('sha256').update(path).digest();
    const bin = `${bins.name_prefix}-${(hash[0] ?? 0).toString(16).padStart(2, '0')}`;
    const m = newest(repo, bin);
    expect(Object.keys(m.signed['targets'] as object)).toContain(path);
    expect(sigs(m)).toEqual(online);
  }
}
