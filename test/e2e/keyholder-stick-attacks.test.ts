/**
 * An attacker with write access to the USB stick edits the parts of a request
 * that no signature covers (keyholder hints, labels, the purpose note). The
 * keyholder's tufsign must never open, load or probe anything named there,
 * must show those strings escaped and marked unverified, must refuse to sign
 * without the fingerprint comparison, and must say so when it signed nothing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TAMPERED_COPY_ADVICE } from '../../src/repository/keyholder-sign';
import { readRequestFile } from '../../src/repository/requests';
import { ROOT } from '../helpers/cli';
import { requireComponent } from '../helpers/requirements';
import {
  copyWorkspace,
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

const base = tmp('tufsign-stick-');
const org = join(base, 'org');
const stick = join(base, 'stick');
const markerDir = join(base, 'markers');
const evilModule = join(stick, 'evil.so');
const fifo = join(stick, 'key.pem');
const REQ = 'root-v2.tufsign-request.json';
let alice: ReturnType<typeof keyholder>;
let aliceKeyid: string;
let original: string;
/** the organizer's workspace as it was when the request was made (root v1), for keyholder laptops */
const orgAtV1 = join(base, 'org-at-v1');
const haveCc = requireComponent('gcc (to build a marker PKCS#11 module)', spawnSync('gcc', ['--version']).status === 0);

/**
 * A keyholder's laptop: no PC/SC (the YubiKey scan must not touch the shared test pcscd), and no
 * TUFSIGN_PASSPHRASE with no terminal, so any attempt to ask for a secret fails with its own code.
 */
function noSecrets(): Record<string, string | undefined> {
  return {
    TUFSIGN_PASSPHRASE: undefined,
    NODE_OPTIONS: `--require ${join(ROOT, 'test', 'fixtures', 'block-pcsc.js')}`,
  };
}

function markers(): string[] {
  return existsSync(markerDir)
    ? execFileSync('ls', ['-A', markerDir], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l !== '')
    : [];
}

/** The stick copy with every keyholder hint pointing at something that would leave a marker if opened. */
function poisonedCopy(dest: string, edit: (doc: any) => void = () => undefined): string {
  const doc = JSON.parse(original);
  for (const keyid of [...Object.keys(doc.keyholders), aliceKeyid]) {
    doc.keyholders[keyid] = {
      owner: 'bob (new YubiKey)',
      uri: `pkcs11:token=x;object=y?module-path=${evilModule}`,
      serial: '1',
    };
  }
  // alice's own key file, as a hint relative to her folder: used, it would find a key that can sign
  doc.keyholders[aliceKeyid] = { owner: 'alice', uri: 'file:keys/alice.pem' };
  const others = Object.keys(doc.keyholders).filter((k) => k !== aliceKeyid);
  if (others[0] !== undefined) doc.keyholders[others[0]].uri = `file:${fifo}`;
  if (others[1] !== undefined) doc.keyholders[others[1]].uri = 'yubikey:serial=99999999;slot=9c';
  edit(doc);
  writeFileSync(dest, JSON.stringify(doc, null, 1));
  return dest;
}

beforeAll(() => {
  mkdirSync(stick, { recursive: true });
  mkdirSync(markerDir, { recursive: true });
  if (haveCc) {
    // A "PKCS#11 module" whose constructor leaves a marker: loading it is code execution from the stick.
    const src = join(base, 'evil.c');
    writeFileSync(
      src,
      `#include <stdio.h>\n__attribute__((constructor)) static void mark(void) { FILE *f = fopen("${join(markerDir, 'module-loaded')}", "w"); if (f) fclose(f); }\nint C_GetFunctionList(void **p) { (void)p; return 5; }\n`,
    );
    execFileSync('gcc', ['-shared', '-fPIC', '-o', evilModule, src]);
  }
  // A FIFO as a "key file": opening it for reading blocks forever, so any open hangs the command.
  execFileSync('mkfifo', [fifo]);
  ok(['init', org]);
  alice = keyholder(base, 'alice');
  aliceKeyid = readJson(alice.pub).keyid;
  ok(rootToKeyholderArgs(org, alice.pub, ['--out', join(org, REQ)]));
  original = readFileSync(join(org, REQ), 'utf8');
  mkdirSync(orgAtV1);
  copyWorkspace(org, orgAtV1);
});

/** A trust folder that already pins the organizer's root v1. */
function pinnedTrust(): string {
  return pinnedRootDir(orgAtV1, tmp('tufsign-pinned-'));
}

const describeWithCc = haveCc ? describe : describe.skip;

/** The hint for alice's key names a folder nothing looks at on its own: only using the hint would find her key. */
const hintAtWallet = (doc: any): void => {
  doc.keyholders[aliceKeyid].uri = 'file:wallet/alice.pem';
};

describeWithCc('attack: code or files named by unsigned request fields', () => {
  it('the marker module really runs when loaded (the probe is live)', () => {
    const r = tufsign(['devices', '--module', evilModule, '--json'], { env: noSecrets() });
    expect(r.status).toBe(0);
    expect(markers()).toEqual(['module-loaded']);
    execFileSync('rm', [join(markerDir, 'module-loaded')]);
  });

  it('guided flow on a laptop without a workspace: nothing from the hints is probed; it signs nothing and says so', () => {
    const laptop = tmp('tufsign-laptop-');
    // alice's key where only the hint points: keys/ is looked at on its own (ADR 0008), wallet/ is not
    execFileSync('cp', ['-r', join(alice.dir, 'keys'), join(laptop, 'wallet')]);
    const req = poisonedCopy(join(laptop, REQ), hintAtWallet);
    const before = readFileSync(req, 'utf8');
    const r = tufsign(['ceremony', req, '--fingerprint', fingerprintOf(req), '--yes', '--json'], {
      cwd: laptop,
      env: noSecrets(),
    });
    expect(errorCode(r)).toBe('NOTHING_SIGNED');
    expect(r.status).toBe(7);
    expect(markers()).toEqual([]);
    expect(readFileSync(req, 'utf8')).toBe(before);
  });

  it('guided flow inside a workspace copy: the same hints are ignored', () => {
    const laptop = tmp('tufsign-laptop-ws-');
    copyWorkspace(orgAtV1, laptop);
    execFileSync('cp', ['-r', join(alice.dir, 'keys'), join(laptop, 'wallet')]);
    const req = poisonedCopy(join(laptop, REQ), hintAtWallet);
    const r = tufsign(['ceremony', req, '--fingerprint', fingerprintOf(req), '--yes', '--json'], {
      cwd: laptop,
      env: noSecrets(),
    });
    expect(errorCode(r)).toBe('NOTHING_SIGNED');
    expect(markers()).toEqual([]);
  });

  it('with the key named by the keyholder, it signs; the hints are still never opened, on either side of the stick', () => {
    const req = poisonedCopy(join(alice.dir, REQ));
    ok(['ceremony', req, '--key', alice.uri, '--fingerprint', fingerprintOf(req), '--yes'], { cwd: alice.dir });
    expect(markers()).toEqual([]);
    ok(['ceremony', 'status', req], { cwd: alice.dir });
    // back at the organizer: finalize learns no URI from the request
    copyFileSync(req, join(org, 'back.tufsign-request.json'));
    ok(['ceremony', 'finalize', 'back.tufsign-request.json', '--out', join(base, 'bundle')], { cwd: org });
    const config = readFileSync(join(org, 'tufsign.json'), 'utf8');
    expect(config).not.toContain('module-path');
    expect(config).not.toContain(fifo);
    // only a file: URI inside the workspace's keys/ folder may be learned from a returned request
    expect(readJson(join(org, 'tufsign.json')).keys[aliceKeyid]).toEqual({
      owner: 'alice',
      uri: 'file:keys/alice.pem',
    });
    expect(markers()).toEqual([]);
  });
});

describe('attack: the fingerprint comparison skipped or faked', () => {
  let req: string;
  beforeEach(() => {
    req = join(alice.dir, 'fp.tufsign-request.json');
    writeFileSync(req, original);
  });

  it.each([
    ['missing', [], 'FINGERPRINT_REQUIRED'],
    ['empty', ['--fingerprint', ''], 'FINGERPRINT_REQUIRED'],
    ['wrong', ['--fingerprint', 'AAAA-BBBB-CCCC-DDDD-EEEE'], 'FINGERPRINT_MISMATCH'],
  ])('ceremony sign with the fingerprint %s: refused before any secret, nothing written', (_name, flags, code) => {
    const r = tufsign(['ceremony', 'sign', req, '--key', alice.uri, ...flags, '--yes', '--json'], {
      cwd: alice.dir,
      env: noSecrets(),
    });
    expect(errorCode(r)).toBe(code);
    expect(r.status).toBe(7);
    expect(readFileSync(req, 'utf8')).toBe(original);
  });

  it('the guided flow refuses a wrong or empty fingerprint before any secret', () => {
    for (const value of ['', 'AAAA-BBBB-CCCC-DDDD-EEEE']) {
      const r = tufsign(['ceremony', req, '--key', alice.uri, '--fingerprint', value, '--yes', '--json'], {
        cwd: alice.dir,
        env: noSecrets(),
      });
      expect(errorCode(r)).toBe(value === '' ? 'FINGERPRINT_REQUIRED' : 'FINGERPRINT_MISMATCH');
      expect(readFileSync(req, 'utf8')).toBe(original);
    }
  });

  it('compared ignoring case, spaces and dashes; the transcript records "compared"', () => {
    const fp = fingerprintOf(req).toLowerCase().replace(/-/g, ' ');
    ok(['ceremony', 'sign', req, '--key', alice.uri, '--fingerprint', fp, '--yes'], { cwd: alice.dir });
    expect(readRequestFile(req).transcript.at(-1)!['fingerprint_check']).toBe('compared');
  });

  it('--no-fingerprint-check signs and the transcript records that the check was skipped', () => {
    ok(['ceremony', 'sign', req, '--key', alice.uri, '--no-fingerprint-check', '--trust-dir', pinnedTrust(), '--yes'], {
      cwd: alice.dir,
    });
    expect(readRequestFile(req).transcript.at(-1)!['fingerprint_check']).toBe('skipped');
  });
});

describe('attack: the screen lies through unsigned labels and escapes', () => {
  it('escape sequences, CR and bidi overrides in labels and notes are shown escaped; labels are marked unverified', () => {
    const req = join(alice.dir, 'escapes.tufsign-request.json');
    const doc = JSON.parse(original);
    doc.purpose = 'routine\u001b[8m hidden \r\u202eevil';
    doc.keyholders[aliceKeyid] = { owner: 'bob (new YubiKey)\u001b[2J', serial: '7\u001b]0;x\u0007' };
    writeFileSync(req, JSON.stringify(doc, null, 1));
    const r = tufsign(['ceremony', 'status', req]);
    expect(r.status).toBe(0);
    const shown = r.stdout + r.stderr;
    expect(shown).not.toMatch(/[\u001b\r\u202e\u0007]/);
    expect(shown).toContain('\\x1b[8m');
    expect(shown).toContain('\\u{202e}');
    expect(shown).toContain('label "bob (new YubiKey)\\x1b[2J" from the request, unverified');
    const g = tufsign(['ceremony', req, '--key', alice.uri, '--fingerprint', 'AAAA-BBBB-CCCC-DDDD-EEEE', '--yes'], {
      cwd: alice.dir,
    });
    expect(g.stderr).not.toMatch(/[\u001b\r\u202e\u0007]/);
    // the key swap is shouted at the top, before anything else is asked
    expect(g.stderr.indexOf('DANGEROUS CHANGES')).toBeGreaterThanOrEqual(0);
    expect(g.stderr.indexOf('DANGEROUS CHANGES')).toBeLessThan(g.stderr.indexOf('FINGERPRINT'));
  });
});

describe('no secret wasted, advice for the keyholder', () => {
  it('a key that already signed everything it can is not offered and no passphrase is asked', () => {
    const laptop = tmp('tufsign-laptop-signed-');
    copyWorkspace(orgAtV1, laptop);
    execFileSync('cp', ['-r', join(alice.dir, 'keys'), laptop]);
    // this machine's own workspace names alice's key file
    const config = readJson(join(laptop, 'tufsign.json'));
    config.keys[aliceKeyid] = { owner: 'alice', uri: 'file:keys/alice.pem' };
    writeFileSync(join(laptop, 'tufsign.json'), JSON.stringify(config, null, 2));
    const req = join(laptop, REQ);
    writeFileSync(req, original);
    ok(['ceremony', 'sign', req, '--key', 'file:keys/alice.pem', '--fingerprint', fingerprintOf(req), '--yes'], {
      cwd: laptop,
    });
    const again = tufsign(['ceremony', req, '--fingerprint', fingerprintOf(req), '--yes', '--json'], {
      cwd: laptop,
      env: noSecrets(),
    });
    expect(errorCode(again)).toBe('NOTHING_SIGNED');
  });

  it('an expiry beyond the policy maximum is refused before any secret (tufsign.json max_expiry or the 2-year default)', () => {
    const ws = tmp('tufsign-long-');
    copyWorkspace(orgAtV1, ws);
    execFileSync('cp', ['-r', join(org, 'keys'), ws]);
    const req = ok([
      'ceremony',
      'start',
      '--role',
      'root',
      '--expires',
      '1000d',
      '-w',
      ws,
      '--out',
      join(ws, 'long.tufsign-request.json'),
      '--json',
    ]).json.request;
    const before = readFileSync(req, 'utf8');
    const r = tufsign(
      [
        'ceremony',
        'sign',
        req,
        '--key',
        'file:keys/root-2.pem',
        '--fingerprint',
        fingerprintOf(req),
        '--yes',
        '--json',
        '-w',
        ws,
      ],
      { env: noSecrets() },
    );
    expect(errorCode(r)).toBe('EXPIRY_TOO_LONG');
    expect(readFileSync(req, 'utf8')).toBe(before);
  });

  it('a tampered copy tells the keyholder to get a fresh copy, not how to rebuild it', () => {
    const req = join(alice.dir, 'tampered.tufsign-request.json');
    const doc = JSON.parse(original);
    doc.roles[0].metadata.signed.expires = '2099-01-01T00:00:00Z';
    writeFileSync(req, JSON.stringify(doc, null, 1));
    for (const args of [
      ['ceremony', req, '--key', alice.uri, '--fingerprint', doc.fingerprint, '--yes', '--json'],
      ['ceremony', 'sign', req, '--key', alice.uri, '--fingerprint', doc.fingerprint, '--yes', '--json'],
    ]) {
      const r = tufsign(args, { cwd: alice.dir, env: noSecrets() });
      expect(errorCode(r)).toBe('REQUEST_PAYLOAD_CHANGED');
      expect(r.json.error.suggestion).toBe(TAMPERED_COPY_ADVICE);
    }
  });
});

describe("the keyholder's pinned root (trust folder, no workspace)", () => {
  const tbase = tmp('tufsign-trust-e2e-');
  const real = join(tbase, 'real', 'demo');
  const fork = join(tbase, 'fork', 'demo');
  const trust = join(tbase, 'bob-trust');
  let bob: ReturnType<typeof keyholder>;
  let realReq: string;
  let forkReq: string;

  beforeAll(() => {
    bob = keyholder(tbase, 'bob');
    for (const ws of [real, fork]) {
      ok(['init', ws, '--name', 'demo']);
      ok(rootToKeyholderArgs(ws, bob.pub, ['--out', join(ws, 'rotate.tufsign-request.json')]));
    }
    realReq = join(bob.dir, 'real.tufsign-request.json');
    forkReq = join(bob.dir, 'fork.tufsign-request.json');
    copyFileSync(join(real, 'rotate.tufsign-request.json'), realReq);
    copyFileSync(join(fork, 'rotate.tufsign-request.json'), forkReq);
  });

  it('first contact without the fingerprint comparison pins nothing and signs nothing', () => {
    const before = readFileSync(realReq, 'utf8');
    const r = tufsign(
      [
        'ceremony',
        'sign',
        realReq,
        '--key',
        bob.uri,
        '--no-fingerprint-check',
        '--trust-dir',
        trust,
        '--yes',
        '--json',
      ],
      { cwd: bob.dir, env: noSecrets() },
    );
    expect(errorCode(r)).toBe('TRUST_UNANCHORED');
    expect(existsSync(join(trust, 'root.json'))).toBe(false);
    expect(readFileSync(realReq, 'utf8')).toBe(before);
  });

  it('first contact, confirmed with the fingerprint: shown as FIRST CONTACT, signed, and the trusted root pinned', () => {
    const r = ok(
      [
        'ceremony',
        'sign',
        realReq,
        '--key',
        bob.uri,
        '--fingerprint',
        fingerprintOf(realReq),
        '--trust-dir',
        trust,
        '--yes',
      ],
      { cwd: bob.dir },
    );
    expect(r.stderr).toContain('FIRST CONTACT');
    expect(readFileSync(join(trust, 'root.json'), 'utf8')).toBe(
      readFileSync(join(real, 'metadata', '1.root.json'), 'utf8'),
    );
  });

  it('attack: a request from another repository of the same name (a fork) is refused against the pin', () => {
    const before = readFileSync(forkReq, 'utf8');
    const r = tufsign(
      [
        'ceremony',
        'sign',
        forkReq,
        '--key',
        bob.uri,
        '--fingerprint',
        fingerprintOf(forkReq),
        '--trust-dir',
        trust,
        '--yes',
        '--json',
      ],
      { cwd: bob.dir, env: noSecrets() },
    );
    expect(errorCode(r)).toBe('TRUST_CHAIN_INVALID');
    expect(readFileSync(forkReq, 'utf8')).toBe(before);
    const g = tufsign(
      [
        'ceremony',
        forkReq,
        '--key',
        bob.uri,
        '--fingerprint',
        fingerprintOf(forkReq),
        '--trust-dir',
        trust,
        '--yes',
        '--json',
      ],
      { cwd: bob.dir, env: noSecrets() },
    );
    expect(errorCode(g)).toBe('TRUST_CHAIN_INVALID');
  });

  it('the next ceremony is checked from the pin along the published chain, and the pin moves forward', () => {
    ok(['ceremony', 'finalize', realReq, '-w', real, '--out', join(tbase, 'bundle-v2')]);
    const next = ok([
      'ceremony',
      'start',
      '--role',
      'root',
      '-w',
      real,
      '--out',
      join(bob.dir, 'v3.tufsign-request.json'),
      '--json',
    ]).json.request;
    const r = ok(
      ['ceremony', 'sign', next, '--key', bob.uri, '--fingerprint', fingerprintOf(next), '--trust-dir', trust, '--yes'],
      { cwd: bob.dir },
    );
    expect(r.stderr).not.toContain('FIRST CONTACT');
    expect(readFileSync(join(trust, 'root.json'), 'utf8')).toBe(
      readFileSync(join(real, 'metadata', '2.root.json'), 'utf8'),
    );
  });
});
