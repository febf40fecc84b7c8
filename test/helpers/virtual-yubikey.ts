/**
 * Virtual YubiKeys for tests: ONE pcscd with a private reader.conf.d whose
 * vpcd entry is named like a Yubico reader (ykcs11 2.2 insists), and one
 * emulator process per card behind the QUICKACK bridge (hardware-lab §2.4-2.7).
 * Killing a card's process is card removal. Outside CI a missing component
 * skips these tests; with CI=true it fails them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';
import { createTestCa, exportTestCa, type TestCa } from '../fixtures/piv/piv-card';
import { runCli, type CliResult } from './cli';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'piv');
export const READER_BASE_NAME = 'Yubico YubiKey OTP+FIDO+CCID (emulated)';
/** vpcd CHANNELID of our private reader entry; slots listen on this port and the next. */
export const BASE_PORT = 0x9100;
export const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
export const YKCS11 = '/usr/lib/x86_64-linux-gnu/libykcs11.so.2';

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** What is missing for the pcscd/vpcd tier (empty = ready). */
export function missingComponents(extra: ('yubico-piv-tool' | 'ykcs11' | 'openssl' | 'ykman')[] = []): string[] {
  const missing: string[] = [];
  if (!which('pcscd')) missing.push('pcscd (apt-get install --no-install-recommends pcscd)');
  if (!existsSync(VPCD_DRIVER)) missing.push('vsmartcard-vpcd (apt-get install vsmartcard-vpcd)');
  if (!which('python3')) missing.push('python3');
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    missing.push('root (pcscd must create /run/pcscd)');
  try {
    require.resolve('pcsclite');
  } catch {
    missing.push('npm pcsclite (needs libpcsclite-dev and a compiler)');
  }
  if (extra.includes('yubico-piv-tool') && !which('yubico-piv-tool')) missing.push('yubico-piv-tool');
  if (extra.includes('ykcs11') && !existsSync(YKCS11)) missing.push('ykcs11');
  if (extra.includes('openssl') && !which('openssl')) missing.push('openssl');
  if (extra.includes('ykman') && !which('ykman')) missing.push('ykman (apt-get install yubikey-manager)');
  return missing;
}

/**
 * `describe` when the stack is there; otherwise `describe.skip` with a note,
 * or a failing test under CI=true (a CI image that lost pcscd must not go green).
 */
export function describeWithVirtualCards(
  name: string,
  fn: () => void,
  extra: Parameters<typeof missingComponents>[0] = [],
): void {
  const missing = missingComponents(extra);
  if (missing.length === 0) {
    describe(name, fn);
  } else if (process.env['CI'] === 'true') {
    describe(name, () => {
      it('has the virtual YubiKey stack', () => {
        throw new Error(`missing: ${missing.join(', ')}`);
      });
    });
  } else {
    describe.skip(`${name} (skipped, missing: ${missing.join(', ')})`, fn);
  }
}

let compiledDir: string | undefined;

/** Transpile the emulator (TypeScript) once per process into a temp dir that node can run. */
export function compiledEmulator(): string {
  if (compiledDir !== undefined) return join(compiledDir, 'emulator-main.js');
  const dir = mkdtempSync(join(tmpdir(), 'tufsign-piv-emulator-'));
  for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith('.ts'))) {
    const out = ts.transpileModule(readFileSync(join(FIXTURES, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    writeFileSync(join(dir, f.replace(/\.ts$/, '.js')), out.outputText);
  }
  compiledDir = dir;
  return join(dir, 'emulator-main.js');
}

/** A running (not zombie) pcscd, if any. */
function livePcscd(): string | undefined {
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) (\S)/.exec(stat);
      if (m?.[1] === 'pcscd' && m[2] !== 'Z') return pid;
    } catch {
      // process went away
    }
  }
  return undefined;
}

function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (local === undefined || cols[3] !== '0A') continue;
      ports.add(parseInt(local.split(':')[1] ?? '0', 16));
    }
  }
  return ports;
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once('exit', () => r()));
}

export interface CardOptions {
  serial: number;
  version?: string;
  seed?: string;
  touch?: 'ok' | 'timeout';
  mgmtAlg?: number;
  formFactor?: number;
  /** talk TCP straight to vpcd (slow: ~45 ms per APDU) instead of through the bridge */
  direct?: boolean;
  /**
   * Hold the first command with this instruction byte before the card runs it, after (its answer withheld), or
   * drop it (held, then never run): the emulator creates `file` and goes on once it is deleted — a client can be
   * killed at that exact moment.
   */
  hold?: { at: `${'before' | 'after' | 'drop'}:${string}`; file: string };
}

export interface VirtualCard {
  serial: number;
  reader: string;
  slot: number;
  /** remove the card (kills the emulator) */
  remove(): Promise<void>;
}

/** One pcscd, up to two virtual YubiKeys (vpcd slots 0 and 1 of our reader entry). */
export class VirtualYubiKeyLab {
  readonly dir: string;
  private pcscd: ChildProcess | undefined;
  private readonly cards = new Map<number, { proc: ChildProcess; card: VirtualCard }>();
  private ca: TestCa | undefined;
  caCertPem = '';
  private caFiles: { cert: string; key: string } | undefined;
  pcscdLog = '';

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'tufsign-vyk-'));
  }

  /** The card inserted in vpcd slot `slot` (throws when there is none). */
  card(slot: 0 | 1): VirtualCard {
    const c = this.cards.get(slot)?.card;
    if (c === undefined) throw new Error(`no card in slot ${slot}`);
    return c;
  }

  readerName(slot: number): string {
    return `${READER_BASE_NAME} 00 0${slot}`;
  }

  async testCa(): Promise<TestCa> {
    if (this.ca === undefined) {
      this.ca = await createTestCa();
      const { certPem, keyPem } = await exportTestCa(this.ca);
      this.caCertPem = certPem;
      this.caFiles = { cert: join(this.dir, 'test-ca.pem'), key: join(this.dir, 'test-ca.key') };
      writeFileSync(this.caFiles.cert, certPem);
      writeFileSync(this.caFiles.key, keyPem, { mode: 0o600 });
    }
    return this.ca;
  }

  get caCertFile(): string {
    return this.caFiles?.cert ?? '';
  }

  /** Start pcscd with our reader entry (or, with `readers: 0`, none: for NO_READER tests). */
  async startPcscd(options: { readers?: 0 | 1 } = {}): Promise<void> {
    if (this.pcscd !== undefined) return;
    const withReader = options.readers !== 0;
    const other = livePcscd();
    if (other !== undefined)
      throw new Error(`another pcscd is running (pid ${other}); stop it first: there is one pcscd per machine`);
    const readers = join(this.dir, withReader ? 'readers.d' : 'readers-empty.d');
    mkdirSync(readers, { recursive: true });
    if (withReader)
      writeFileSync(
        join(readers, 'vpcd-yubico'),
        `FRIENDLYNAME "${READER_BASE_NAME}"\nDEVICENAME   /dev/null:0x${BASE_PORT.toString(16)}\nLIBPATH      ${VPCD_DRIVER}\nCHANNELID    0x${BASE_PORT.toString(16)}\n`,
      );
    const p = spawn('pcscd', ['-f', '-e', '-c', readers], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout?.on('data', (d: Buffer) => (this.pcscdLog += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (this.pcscdLog += d.toString()));
    this.pcscd = p;
    await waitFor(
      'pcscd and the vpcd port',
      () => {
        if (p.exitCode !== null) throw new Error(`pcscd exited: ${this.pcscdLog}`);
        return (!withReader || listeningPorts().has(BASE_PORT)) && existsSync('/run/pcscd/pcscd.comm');
      },
      5000,
    );
  }

  async stopPcscd(): Promise<void> {
    const p = this.pcscd;
    if (p === undefined) return;
    this.pcscd = undefined;
    p.kill('SIGTERM');
    await exited(p);
  }

  /** Insert a virtual YubiKey into vpcd slot 0 or 1 and wait until PC/SC shows it. */
  async insert(slot: 0 | 1, options: CardOptions): Promise<VirtualCard> {
    if (this.cards.has(slot)) throw new Error(`slot ${slot} already holds a card`);
    await this.testCa();
    const emulator = compiledEmulator();
    const args = [
      '--serial',
      String(options.serial),
      '--version',
      options.version ?? '5.7.1',
      '--ca-cert',
      this.caFiles?.cert ?? '',
      '--ca-key',
      this.caFiles?.key ?? '',
    ];
    if (options.seed !== undefined) args.push('--seed', options.seed);
    if (options.touch !== undefined) args.push('--touch', options.touch);
    if (options.mgmtAlg !== undefined) args.push('--mgmt-alg', options.mgmtAlg.toString(16));
    if (options.formFactor !== undefined) args.push('--form-factor', String(options.formFactor));
    if (options.hold !== undefined) args.push('--hold-at', options.hold.at, '--hold-file', options.hold.file);
    const env = { ...process.env, NODE_PATH: join(ROOT, 'node_modules') };
    const port = String(BASE_PORT + slot);
    const proc = options.direct
      ? spawn(process.execPath, [emulator, '--port', port, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(
          'python3',
          [join(FIXTURES, 'vpcd-bridge.py'), '127.0.0.1', port, '--', process.execPath, emulator, '--stdio', ...args],
          { env, stdio: ['ignore', 'ignore', 'pipe'] },
        );
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const reader = this.readerName(slot);
    const card: VirtualCard = {
      serial: options.serial,
      reader,
      slot,
      remove: async () => {
        this.cards.delete(slot);
        proc.kill('SIGTERM');
        await exited(proc);
        await waitFor(`${reader} to be empty`, () => !cardPresent(reader), 3000);
      },
    };
    this.cards.set(slot, { proc, card });
    await waitFor(
      `${reader} to show the card`,
      () => {
        if (proc.exitCode !== null) throw new Error(`emulator exited: ${stderr}`);
        return cardPresent(reader);
      },
      5000,
    );
    return card;
  }

  /** Remove every card, stop pcscd, delete temp files. Safe to call twice. */
  async teardown(): Promise<void> {
    for (const { card } of [...this.cards.values()]) await card.remove().catch(() => undefined);
    await this.stopPcscd();
    rmSync(this.dir, { recursive: true, force: true });
    if (compiledDir !== undefined) rmSync(compiledDir, { recursive: true, force: true });
    compiledDir = undefined;
  }
}

/** Card presence as PC/SC sees it, via opensc-tool if present, else pcsc_scan-free probing with pcsclite in a child. */
function cardPresent(reader: string): boolean {
  const r = spawnSync(process.execPath, ['-e', PRESENCE_PROBE, reader], {
    encoding: 'utf8',
    timeout: 3000,
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
  });
  return r.stdout.trim() === 'present';
}

// A child process, so a pcsclite context never lingers in the test process.
const PRESENCE_PROBE = `
const pcsc = require('pcsclite')();
const want = process.argv[1];
const done = (s) => { process.stdout.write(s); pcsc.close(); process.exit(0); };
pcsc.on('error', () => done('error'));
pcsc.on('reader', (r) => {
  if (r.name !== want) return;
  r.on('status', (st) => done((st.state & r.SCARD_STATE_PRESENT) && !(st.state & r.SCARD_STATE_MUTE) ? 'present' : 'empty'));
  r.on('error', () => done('error'));
});
setTimeout(() => done('timeout'), 1000);
`;

/**
 * The setup the CLI tests over virtual cards share: the built CLI is there, pcscd runs, `cards` are inserted (slot 0,
 * then 1) before the tests, and everything is torn down after. Call inside a `describeWithVirtualCards` body.
 */
export function useVirtualCardLab(cards: readonly CardOptions[] = [], timeoutMs = 30_000): VirtualYubiKeyLab {
  const lab = new VirtualYubiKeyLab();
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'commands'))) throw new Error('run `npm run build` first');
    await lab.testCa();
    await lab.startPcscd();
    for (const [slot, options] of cards.entries()) await lab.insert(slot as 0 | 1, options);
  }, timeoutMs);
  afterAll(() => lab.teardown());
  return lab;
}

/** The PIN of the virtual cards (the PIV default). */
export const CARD_PIN = '123456';

/**
 * The built CLI as a keyholder runs it against the virtual cards: their test CA trusted, the card PIN given,
 * in the lab's folder unless `cwd` says otherwise.
 */
export function cardCli(
  lab: VirtualYubiKeyLab,
): (args: string[], extraEnv?: Record<string, string>, cwd?: string) => CliResult {
  return (args, extraEnv = {}, cwd = lab.dir) =>
    runCli(args, { cwd, env: { TUFSIGN_YUBIKEY_TEST_CA: lab.caCertFile, TUFSIGN_PIN: CARD_PIN, ...extraEnv } });
}

/** `key generate --backend yubikey` for a virtual card (its factory management key allowed: a test device). */
export function yubikeyGenerateArgs(o: {
  serial: number;
  slot?: string;
  scheme?: string;
  pinPolicy?: string;
  touchPolicy?: string;
  publicOut?: string;
  owner?: string;
}): string[] {
  const args = ['key', 'generate', '--backend', 'yubikey', '--serial', String(o.serial), '--slot', o.slot ?? '9c'];
  args.push('--scheme', o.scheme ?? 'ecdsa-sha2-nistp256');
  if (o.pinPolicy !== undefined) args.push('--pin-policy', o.pinPolicy);
  if (o.touchPolicy !== undefined) args.push('--touch-policy', o.touchPolicy);
  args.push('--allow-default-management-key');
  if (o.publicOut !== undefined) args.push('--public-out', o.publicOut);
  if (o.owner !== undefined) args.push('--owner', o.owner);
  return args;
}
