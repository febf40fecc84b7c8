/**
 * Where a token PIN comes from: a `pin-source=file:` the user points at
 * (docs/adr/0003-pkcs11-pin-sources.md), else the injected SecretsHandler
 * (prompt or TUFSIGN_PIN, decided by the CLI). Never argv, never logged.
 */
import { readSecretFile } from '../../io/fs';
import { isAbsolute, resolve } from 'node:path';
import { TufsignError } from '../../errors';
import type { SecretsHandler } from '../signer';
import type { TokenDescription, TokenFlags } from './runtime';

const MAX_PIN_FILE = 256;

export function pinSourcePath(pinSource: string, baseDir: string): string {
  if (!/^file:/i.test(pinSource)) {
    throw new TufsignError('KEY_URI_INVALID', 'pin-source in a pkcs11: URI must be a file: URI', {
      rule: 'ADR 0003 pin-source=file:PATH only (no programs, no environment variables)',
      suggestion:
        'Use pin-source=file:/path/to/pin (mode 0600), set TUFSIGN_PIN, or leave pin-source out and type the PIN when asked.',
    });
  }
  let p = pinSource.slice('file:'.length);
  if (p.startsWith('//')) {
    // file:///abs/path (empty authority) only; file://host/... names another machine
    if (!p.startsWith('///'))
      throw new TufsignError('KEY_URI_INVALID', 'pin-source=file://HOST/… is not supported', {
        rule: 'ADR 0003 local files only',
        suggestion: 'Use pin-source=file:/absolute/path or file:relative/path.',
      });
    p = p.slice(2);
  }
  if (p === '') throw new TufsignError('KEY_URI_INVALID', 'pin-source=file: has no path', { rule: 'ADR 0003' });
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

/** Read a PIN file: a regular 0600 file of the current user; one trailing newline is dropped. */
export function readPinFile(path: string): Buffer {
  const pin = readSecretFile(path, 'PIN file', MAX_PIN_FILE, {
    code: 'IO_ERROR',
    suggestion: 'Check the pin-source path in the key URI (ADR 0003).',
  });
  if (pin.length === 0)
    throw new TufsignError('KEY_FILE_INVALID', `the PIN file ${path} is empty`, { file: path, rule: 'ADR 0003' });
  return pin;
}

export function tokenLabel(token: TokenDescription): string {
  return `PKCS#11 token "${token.label}"${token.serial === '' ? '' : ` (serial ${token.serial})`}`;
}

/** Obtain the PIN for one login attempt. The caller zeroes the buffer. */
export async function obtainPin(
  token: TokenDescription,
  flags: TokenFlags,
  pinSource: string | undefined,
  baseDir: string,
  secrets: SecretsHandler,
): Promise<Buffer> {
  if (pinSource !== undefined) return readPinFile(pinSourcePath(pinSource, baseDir));
  // PKCS#11 only reports "final try" as a number of tries; other counts are unknown.
  return secrets.getSecret(
    flags.pinFinalTry
      ? { kind: 'pin', label: tokenLabel(token), retriesLeft: 1 }
      : { kind: 'pin', label: tokenLabel(token) },
  );
}
