/**
 * Rotations that need the previous AND the new threshold (BAD-28), init and
 * key rotation that write requests, and refusals at the CLI boundary.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  copyWorkspace,
  errorCode,
  fingerprintOf,
  keyholder,
  ok,
  readJson,
  rootKeyids,
  tmp,
  tufsign,
} from './ceremony-helpers';

jest.setTimeout(180_000);

describe('removing a key and raising the threshold needs the old AND the new threshold', () => {
  const base = tmp();
  const org = join(base, 'org');
  const away = join(base, 'away');
  const req = 'root-v2.tufsign-request.json';
  let alice: ReturnType<typeof keyholder>;
  let bob: ReturnType<typeof keyholder>;

  beforeAll(() => {
    // a rehearsal where both root key files start here (--offline none: under keys/, one passphrase)
    ok(['init', org, '--root-threshold', '2', '--offline', 'none']);
    alice = keyholder(base, 'alice');
    bob = keyholder(base, 'bob');
    // root-2 is held by someone else on another laptop
    mkdirSync(join(away, 'keys'), { recursive: true });
    renameSync(join(org, 'keys', 'root-2.pem'), join(away, 'keys', 'root-2.pem'));
    renameSync(join(org, 'keys', 'root-2.pem.pub.json'), join(away, 'keys', 'root-2.pem.pub.json')); // its public part goes with it (ADR 0008)
    copyWorkspace(org, away);
  });

  it('root 2-of-{root-1,root-2} → 3-of-{root-1,alice,bob}: finalize names the missing side each time', () => {
    const [, root2] = rootKeyids(org, 1);
    const r = ok([
      'root',
      'rotate',
      '-w',
      org,
      '--add-key',
      alice.pub,
      '--add-key',
      bob.pub,
      '--remove-key',
      root2!,
      '--threshold',
      '3',
      '--json',
    ]);
    const sides = r.json.request.status.roles[0].sides;
    expect(sides.map((s: any) => [s.side, s.threshold, s.missing])).toEqual([
      ['new', 3, 2],
      ['previous', 2, 1],
    ]);
    expect(sides[1].needed.map((n: any) => n.keyid)).toEqual([root2]);

    for (const k of [alice, bob]) {
      copyFileSync(join(org, req), join(k.dir, req));
      ok(['ceremony', 'sign', req, '--key', k.uri, '--fingerprint', fingerprintOf(req, k.dir), '--yes'], {
        cwd: k.dir,
      });
      copyFileSync(join(k.dir, req), join(org, `${k.dir.split('/').pop()}.tufsign-request.json`));
    }
    ok(
      [
        'ceremony',
        'merge',
        'alice.tufsign-request.json',
        'bob.tufsign-request.json',
        '--out',
        'new-only.tufsign-request.json',
      ],
      { cwd: org },
    );
    const onlyNew = tufsign(
      ['ceremony', 'finalize', 'new-only.tufsign-request.json', '--out', join(base, 'b1'), '--json'],
      { cwd: org },
    );
    expect(errorCode(onlyNew)).toBe('THRESHOLD_NOT_MET');
    expect(onlyNew.json.error.details.missing.map((m: any) => m.side)).toEqual(['previous']);
    expect(onlyNew.json.error.rule).toMatch(/BAD-28/);

    // only the old keys (the organizer's request plus root-2): the new threshold is missing
    copyFileSync(join(org, req), join(away, req));
    ok(
      [
        'ceremony',
        'sign',
        req,
        '--key',
        'file:keys/root-2.pem',
        '--fingerprint',
        fingerprintOf(req, away),
        '--yes',
        '-w',
        away,
      ],
      { cwd: away },
    );
    copyFileSync(join(away, req), join(org, 'old-only.tufsign-request.json'));
    const onlyOld = tufsign(
      ['ceremony', 'finalize', 'old-only.tufsign-request.json', '--out', join(base, 'b2'), '--json'],
      { cwd: org },
    );
    expect(onlyOld.json.error.details.missing.map((m: any) => m.side)).toEqual(['new']);
    expect(existsSync(join(org, 'metadata', '2.root.json'))).toBe(false);

    ok(
      [
        'ceremony',
        'merge',
        'new-only.tufsign-request.json',
        'old-only.tufsign-request.json',
        '--out',
        'all.tufsign-request.json',
      ],
      { cwd: org },
    );
    ok(['ceremony', 'finalize', 'all.tufsign-request.json', '--out', join(base, 'bundle')], { cwd: org });
    ok(['verify', join(base, 'bundle'), '--root', join(away, 'metadata', '1.root.json')]);
    expect(readJson(join(org, 'metadata', '2.root.json')).signed.roles.root.threshold).toBe(3);
  });
});

describe('requests instead of failures', () => {
  const base = tmp();

  it('init with root keys held elsewhere writes a request for root v1 and targets v1, never unsigned metadata', () => {
    const alice = keyholder(base, 'alice');
    const bob = keyholder(base, 'bob');
    const org = join(base, 'org');
    const r = ok(['init', org, '--root-key', alice.pub, '--root-key', bob.pub, '--root-threshold', '2', '--json']);
    expect(r.json.request.status.roles.map((x: any) => `${x.role} v${x.version}`)).toEqual(['root v1', 'targets v1']);
    expect(existsSync(join(org, 'metadata', '1.root.json'))).toBe(false);
    const file = r.json.request.request;
    for (const k of [alice, bob])
      ok([
        'ceremony',
        'sign',
        file,
        '--key',
        `file:${join(k.dir, 'keys', k.dir.split('/').pop() + '.pem')}`,
        '--fingerprint',
        fingerprintOf(file),
        '--yes',
      ]);
    ok(['ceremony', 'finalize', file, '--out', join(base, 'init-bundle'), '-w', org]);
    ok(['verify', org]);
    ok(['verify', join(base, 'init-bundle'), '--root', join(org, 'metadata', '1.root.json')]);
  });

  it('key rotate targets with an offline key puts root v2 and targets v2 in one request', () => {
    const org = join(base, 'org2');
    ok(['init', org]);
    const carol = keyholder(base, 'carol');
    const old = readJson(join(org, 'metadata', '1.root.json')).signed.roles.targets.keyids[0];
    const r = ok(['key', 'rotate', 'targets', '--replace', old.slice(0, 10), '--with', carol.pub, '-w', org, '--json']);
    expect(r.json.request.status.roles.map((x: any) => `${x.role} v${x.version}`)).toEqual(['root v2', 'targets v2']);
    const targets = r.json.request.status.roles[1];
    expect(targets.sides[0].needed.map((n: any) => n.owner)).toEqual(['carol']);
    ok([
      'ceremony',
      'sign',
      r.json.request.request,
      '--key',
      `file:${join(carol.dir, 'keys', 'carol.pem')}`,
      '--fingerprint',
      fingerprintOf(r.json.request.request),
      '--yes',
    ]);
    ok(['ceremony', 'finalize', r.json.request.request, '--out', join(base, 'kr-bundle'), '-w', org]);
    ok(['verify', org]);
    expect(readJson(join(org, 'metadata', '2.targets.json')).signatures.map((s: any) => s.keyid)).toEqual([
      carol.pub && readJson(carol.pub).keyid,
    ]);
  });

  it('sign targets --bump with an absent key writes a request and nothing else', () => {
    const org = join(base, 'org3');
    ok(['init', org]);
    renameSync(join(org, 'keys', 'targets-1.pem'), join(base, 'targets-1.pem'));
    renameSync(join(org, 'keys', 'targets-1.pem.pub.json'), join(base, 'targets-1.pem.pub.json')); // its public part goes with it (ADR 0008)
    const r = ok(['sign', 'targets', '--bump', '-w', org, '--json']);
    expect(r.json.request.status.roles[0]).toMatchObject({ role: 'targets', version: 2 });
    expect(existsSync(join(org, 'metadata', '2.targets.json'))).toBe(false);
    ok([
      'ceremony',
      'sign',
      r.json.request.request,
      '--key',
      `file:${join(base, 'targets-1.pem')}`,
      '--fingerprint',
      fingerprintOf(r.json.request.request),
      '--yes',
      '-w',
      org,
    ]);
    ok(['ceremony', 'finalize', r.json.request.request, '--out', join(base, 'targets-bundle'), '-w', org]);
    ok(['verify', org]);
  });

  it('finalize leaves a follow-up request when the snapshot key is not here', () => {
    const org = join(base, 'org4');
    ok(['init', org]);
    renameSync(join(org, 'keys', 'snapshot-1.pem'), join(base, 'snapshot-1.pem'));
    renameSync(join(org, 'keys', 'snapshot-1.pem.pub.json'), join(base, 'snapshot-1.pem.pub.json')); // its public part goes with it (ADR 0008)
    const start = ok(['ceremony', 'start', '--role', 'root', '-w', org, '--json']);
    const f = ok(['ceremony', 'finalize', start.json.request, '--out', join(base, 'fu-bundle'), '-w', org, '--json']);
    // one follow-up: snapshot to sign elsewhere, and the timestamp naming it, already signed here (issue #11)
    expect(f.json.followUp.status.roles.map((x: any) => [x.role, x.complete])).toEqual([
      ['snapshot', false],
      ['timestamp', true],
    ]);
    expect(existsSync(join(base, 'fu-bundle'))).toBe(false);
    ok([
      'ceremony',
      'sign',
      f.json.followUp.request,
      '--key',
      `file:${join(base, 'snapshot-1.pem')}`,
      '--fingerprint',
      fingerprintOf(f.json.followUp.request),
      '--yes',
      '-w',
      org,
    ]);
    const g = ok([
      'ceremony',
      'finalize',
      f.json.followUp.request,
      '--out',
      join(base, 'fu-bundle'),
      '-w',
      org,
      '--json',
    ]);
    expect(g.json.bundle.files.map((x: any) => x.path)).toEqual(
      expect.arrayContaining(['metadata/2.root.json', 'metadata/2.snapshot.json', 'metadata/timestamp.json']),
    );
    ok(['verify', join(base, 'fu-bundle'), '--root', join(org, 'metadata', '1.root.json')]);
  });
});

describe('refusals at the CLI', () => {
  const base = tmp();
  const org = join(base, 'org');
  let req: string;

  beforeAll(() => {
    ok(['init', org, '--offline', 'none']);
    renameSync(join(org, 'keys', 'root-1.pem'), join(base, 'root-1.pem'));
    renameSync(join(org, 'keys', 'root-1.pem.pub.json'), join(base, 'root-1.pem.pub.json')); // its public part goes with it (ADR 0008)
    req = ok(['ceremony', 'start', '--role', 'root', '-w', org, '--json']).json.request;
  });

  it('an edited transcript is refused (BAD-64) and status reports the broken chain', () => {
    const edited = join(base, 'edited.tufsign-request.json');
    const doc = readJson(req);
    doc.transcript[0].time = '2000-01-01T00:00:00Z';
    writeFileSync(edited, JSON.stringify(doc));
    const st = tufsign(['ceremony', 'status', edited, '--json']);
    expect(st.status).toBe(0);
    expect(st.json.status.transcript.ok).toBe(false);
    const s = tufsign([
      'ceremony',
      'sign',
      edited,
      '--key',
      `file:${join(base, 'root-1.pem')}`,
      '--fingerprint',
      fingerprintOf(edited),
      '--yes',
      '--json',
    ]);
    expect(errorCode(s)).toBe('TRANSCRIPT_BROKEN');
  });

  it('an edited payload is refused (BAD-30)', () => {
    const edited = join(base, 'payload.tufsign-request.json');
    const doc = readJson(req);
    doc.roles[0].metadata.signed.expires = '2099-01-01T00:00:00Z';
    writeFileSync(edited, JSON.stringify(doc));
    expect(errorCode(tufsign(['ceremony', 'status', edited, '--json']))).toBe('REQUEST_PAYLOAD_CHANGED');
  });

  it('merging copies with different signed bytes is refused and names the copy', () => {
    const other = ok([
      'ceremony',
      'start',
      '--role',
      'root',
      '--expires',
      '200d',
      '-w',
      org,
      '--out',
      join(base, 'other.tufsign-request.json'),
      '--json',
    ]).json.request;
    const m = tufsign(['ceremony', 'merge', req, other, '--out', join(base, 'm.tufsign-request.json'), '--json']);
    expect(errorCode(m)).toBe('MERGE_CONFLICT');
    expect(m.json.error.file).toBe(other);
    expect(existsSync(join(base, 'm.tufsign-request.json'))).toBe(false);
  });

  it('finalize refuses a root expiring sooner than the minimum validity unless allowed', () => {
    const short = ok([
      'ceremony',
      'start',
      '--role',
      'root',
      '--expires',
      '2d',
      '-w',
      org,
      '--out',
      join(base, 'short.tufsign-request.json'),
      '--json',
    ]).json.request;
    ok([
      'ceremony',
      'sign',
      short,
      '--key',
      `file:${join(base, 'root-1.pem')}`,
      '--fingerprint',
      fingerprintOf(short),
      '--yes',
    ]);
    const f = tufsign(['ceremony', 'finalize', short, '--out', join(base, 'sb'), '-w', org, '--json']);
    expect(errorCode(f)).toBe('EXPIRY_TOO_SHORT');
    ok(['ceremony', 'finalize', short, '--out', join(base, 'sb'), '-w', org, '--allow-short-expiry']);
  });

  it('without a terminal and without --yes, signing refuses to prompt', () => {
    const s = tufsign([
      'ceremony',
      'sign',
      req,
      '--fingerprint',
      fingerprintOf(req),
      '--key',
      `file:${join(base, 'root-1.pem')}`,
      '--json',
    ]);
    expect(errorCode(s)).toBe('NO_TTY');
    expect(readFileSync(req, 'utf8')).toBe(readFileSync(req, 'utf8'));
  });
});
