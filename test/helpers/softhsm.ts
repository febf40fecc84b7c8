/**
 * Real SoftHSM2 tokens for tests: one scratch folder, softhsm2.conf and fresh
 * token(s) per test file, created with softhsm2-util in milliseconds.
 *
 * Two process-level facts shape this helper (hardware-lab.md §1):
 * - a PKCS#11 module is process-global, and SoftHSM reads SOFTHSM2_CONF at
 *   C_Initialize only. Each test file therefore finalizes the module when it
 *   ends (`lab.cleanup()`), and `create()` finalizes any leftover first.
 * - jest gives each test file a *copy* of process.env; the C library reads the
 *   real environment, so the helper sets SOFTHSM2_CONF on the real process too.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closePkcs11 } from '../../src/keystore/pkcs11';
import type { SecretRequest, SecretsHandler } from '../../src/keystore/signer';

export const SOFTHSM_MODULE = process.env['SOFTHSM2_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so';
export const USER_PIN = '123456';
export const SO_PIN = '12345678';

/** `key generate` of `label` on the SoftHSM token `token`; `flags` follow (`--scheme`, `--public-out`, `--json`…). */
export function pkcs11GenerateArgs(token: string, label: string, flags: string[] = []): string[] {
  return ['key', 'generate', '--backend', 'pkcs11', '--token', token, '--label', label, ...flags];
}

/** The flags most HSM tests generate with: `scheme` (ECDSA P-256 by default), the public key as `LABEL.pub.json`, JSON. */
export function publicOutJsonFlags(label: string, scheme = 'ecdsa-sha2-nistp256'): string[] {
  return ['--scheme', scheme, '--public-out', `${label}.pub.json`, '--json'];
}

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why SoftHSM tests cannot run here, or undefined when they can. */
export function softhsmMissing(): string | undefined {
  if (!existsSync(SOFTHSM_MODULE))
    return `SoftHSM2 module not found at ${SOFTHSM_MODULE} (apt install softhsm2, or set SOFTHSM2_MODULE)`;
  if (!which('softhsm2-util')) return 'softhsm2-util is not on PATH (apt install softhsm2)';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('pkcs11js');
  } catch {
    return 'the optional module pkcs11js is not installed (npm_config_nodedir=/usr npm install pkcs11js)';
  }
  return undefined;
}

/**
 * describe() that needs SoftHSM2. Under CI=true a missing SoftHSM fails the run;
 * on a developer machine the block is skipped with a message.
 */
export function describeSoftHsm(title: string, fn: () => void): void {
  const missing = softhsmMissing();
  if (missing === undefined) {
    describe(title, fn);
    return;
  }
  if (process.env['CI'] === 'true') {
    describe(title, () => {
      test('SoftHSM2 is available (required when CI=true)', () => {
        throw new Error(`SoftHSM2 tests cannot run: ${missing}`);
      });
    });
    return;
  }
  console.warn(`skipping "${title}": ${missing}`);
  describe.skip(`${title} (skipped: ${missing})`, fn);
}

type RealProcess = { env: NodeJS.ProcessEnv };
function realProcess(): RealProcess {
  const get = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return typeof get === 'function' ? (get('node:process') as RealProcess) : process;
}

/** Finalize the SoftHSM library whatever state an earlier test file left it in. */
function resetLibrary(): void {
  closePkcs11({ finalize: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const p11 = require('pkcs11js') as { PKCS11: new () => { load(p: string): void; C_Finalize(): void; close(): void } };
  const lib = new p11.PKCS11();
  lib.load(SOFTHSM_MODULE);
  try {
    lib.C_Finalize();
  } catch {
    // CKR_CRYPTOKI_NOT_INITIALIZED: nothing was left over
  }
}

export interface TestToken {
  label: string;
  serial: string;
  pin: string;
  soPin: string;
}

// SoftHSM 2.6 drops the first entry of a "-A,B" deny list, so a placeholder goes first.
function mechanismsLine(deny: string[] | undefined): string {
  return deny === undefined || deny.length === 0 ? 'ALL' : `-CKM_TUFSIGN_PLACEHOLDER,${deny.join(',')}`;
}

export class SoftHsmLab {
  readonly tokens: TestToken[] = [];
  private constructor(
    readonly dir: string,
    readonly conf: string,
  ) {}

  static create(options: { denyMechanisms?: string[] } = {}): SoftHsmLab {
    resetLibrary();
    const dir = mkdtempSync(join(tmpdir(), 'tufsign-softhsm-'));
    const lab = new SoftHsmLab(dir, join(dir, 'softhsm2.conf'));
    mkdirSync(join(dir, 'tokens'));
    lab.writeConf(options.denyMechanisms);
    process.env['SOFTHSM2_CONF'] = lab.conf;
    realProcess().env['SOFTHSM2_CONF'] = lab.conf;
    return lab;
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, SOFTHSM2_CONF: this.conf };
  }

  /** Rewrite softhsm2.conf (takes effect at the next C_Initialize: call `reload()`). */
  writeConf(denyMechanisms?: string[]): void {
    writeFileSync(
      this.conf,
      [
        `directories.tokendir = ${join(this.dir, 'tokens')}`,
        'objectstore.backend = file',
        'log.level = ERROR',
        'slots.removable = false',
        `slots.mechanisms = ${mechanismsLine(denyMechanisms)}`,
        '',
      ].join('\n'),
    );
  }

  /** Make a fresh token. The library sees it after `reload()` (or before its first use). */
  addToken(label: string, pin = USER_PIN, soPin = SO_PIN): TestToken {
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin], {
      env: this.env,
      stdio: 'pipe',
    });
    const serial = this.serialOf(
      label,
      this.tokens.filter((t) => t.label === label).map((t) => t.serial),
    );
    const token = { label, serial, pin, soPin };
    this.tokens.push(token);
    return token;
  }

  private serialOf(label: string, known: string[]): string {
    const out = execFileSync('softhsm2-util', ['--show-slots'], { env: this.env }).toString();
    const serials: string[] = [];
    for (const block of out.split(/\n(?=Slot )/)) {
      const l = /Label:\s*(.*)/.exec(block)?.[1]?.trim();
      const s = /Serial number:\s*(\S+)/.exec(block)?.[1];
      if (l === label && s !== undefined) serials.push(s);
    }
    const fresh = serials.find((s) => !known.includes(s));
    if (fresh === undefined) throw new Error(`no serial found for new token ${label}`);
    return fresh;
  }

  /** Finalize the library so the next use re-reads softhsm2.conf and the token folder. */
  reload(): void {
    closePkcs11({ finalize: true });
  }

  /**
   * Set or clear token flags in SoftHSM's token file (CKA_OS_TOKENFLAGS).
   * SoftHSM never locks a PIN by itself; this is how tests get a token that
   * *reports* "final try" or "locked", exactly as a hardware token would.
   * Call only while the library is finalized (after `reload()`).
   */
  setTokenFlags(token: TestToken, set: number, clear = 0): void {
    const marker = Buffer.from('000000008000534b0000000000000002', 'hex');
    for (const d of readdirSync(join(this.dir, 'tokens'))) {
      const file = join(this.dir, 'tokens', d, 'token.object');
      if (!existsSync(file)) continue;
      const buf = readFileSync(file);
      if (!buf.includes(Buffer.from(token.serial, 'ascii'))) continue;
      const at = buf.indexOf(marker);
      if (at === -1) throw new Error('token flags attribute not found in SoftHSM token file');
      const off = at + marker.length;
      const flags = Number(buf.readBigUInt64BE(off));
      buf.writeBigUInt64BE(BigInt((flags | set) & ~clear), off);
      writeFileSync(file, buf);
      return;
    }
    throw new Error(`token ${token.label} not found in ${this.dir}`);
  }

  /** Run pkcs11-tool (OpenSC) against this lab's tokens, as an independent PKCS#11 client. */
  pkcs11Tool(args: string[]): string {
    return execFileSync('pkcs11-tool', ['--module', SOFTHSM_MODULE, ...args], {
      env: this.env,
      stdio: 'pipe',
    }).toString();
  }

  /** A PIN file with mode 0600 (or the given mode). */
  pinFile(pin: string, mode = 0o600): string {
    const p = join(this.dir, `pin-${Math.random().toString(16).slice(2)}`);
    writeFileSync(p, `${pin}\n`, { mode });
    chmodSync(p, mode);
    return p;
  }

  cleanup(): void {
    closePkcs11({ finalize: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A SecretsHandler that answers with a fixed PIN and records every request. */
export function pinHandler(pin: string): SecretsHandler & { requests: SecretRequest[] } {
  const requests: SecretRequest[] = [];
  return {
    requests,
    getSecret(request: SecretRequest): Promise<Buffer> {
      requests.push(request);
      return Promise.resolve(Buffer.from(pin, 'utf8'));
    },
  };
}

/** The Python interpreter that has securesystemslib (Debian's), or undefined. */
export function securesystemslibPython(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(py, ['-c', 'import securesystemslib.signer'], { stdio: 'ignore' });
      return py;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

const VERIFY_PY = `
import json, sys
from securesystemslib.signer import SSlibKey, Signature
d = json.load(sys.stdin)
key = SSlibKey.from_dict(d["keyid"], d["key"])
data = bytes.fromhex(d["data"])
key.verify_signature(Signature(d["keyid"], d["sig"]), data)
try:
    key.verify_signature(Signature(d["keyid"], d["sig"]), data + b"tampered")
    print("TAMPERED-ACCEPTED")
except Exception:
    print("VERIFIED")
`;

/** Verify a TUF signature with Python securesystemslib; returns "VERIFIED" or throws. */
export function verifyWithSecuresystemslib(
  python: string,
  keyid: string,
  key: unknown,
  data: Uint8Array,
  signature: Uint8Array,
): string {
  const input = JSON.stringify({
    keyid,
    key,
    data: Buffer.from(data).toString('hex'),
    sig: Buffer.from(signature).toString('hex'),
  });
  return execFileSync(python, ['-c', VERIFY_PY], { input }).toString().trim();
}
