/**
 * Per-key secrets (ADR 0011). A key can name its own passphrase source in
 * tufsign.json (`secret: "env:NAME" | "file:PATH"`) or on the command line
 * (`--passphrase-file KEY=FILE`, KEY a keyid prefix or an owner name). An
 * offline key never uses the online secret of unattended runs: without its own
 * secret and without a person at a terminal, signing stops BEFORE the key is
 * opened, naming the key and the role. An offline key on a device (YubiKey, PKCS#11) is
 * kept apart by being unplugged, and asks for its PIN through the usual sources.
 */
import { TufsignError } from '../errors';
import { readSecretFile } from '../io/fs';
import type { SecretsHandler } from '../keystore/signer';
import { parseSecretSource, type KeyEntry } from '../repository/config';
import type { Prompter } from './prompter';

export const OFFLINE_PASSPHRASE_ENV = 'TUFSIGN_OFFLINE_PASSPHRASE';

export interface KeyPassphraseFile {
  /** a keyid prefix (8+ hex characters) or an owner name */
  selector: string;
  file: string;
}

/** Split `--passphrase-file` values into the global file and `KEY=FILE` entries. */
export function parsePassphraseFileFlags(values: readonly string[]): { global?: string; perKey: KeyPassphraseFile[] } {
  const out: { global?: string; perKey: KeyPassphraseFile[] } = { perKey: [] };
  for (const v of values) {
    const m = /^([A-Za-z0-9._@-]+)=(.+)$/.exec(v);
    if (m !== null) out.perKey.push({ selector: m[1] as string, file: m[2] as string });
    else if (out.global === undefined) out.global = v;
    else
      throw new TufsignError('USAGE', 'give one --passphrase-file for all keys; others must be KEY=FILE', {
        rule: '--passphrase-file FILE | KEY=FILE',
      });
  }
  return out;
}

function matches(sel: string, keyid: string, entry: KeyEntry | undefined): boolean {
  if (/^[0-9a-f]{8,64}$/.test(sel.toLowerCase()) && keyid.startsWith(sel.toLowerCase())) return true;
  return entry?.owner !== undefined && entry.owner === sel;
}

/** A per-key passphrase file: the same rules as every secret file (private, regular, bounded, checked descriptor). */
function readSecret(path: string): Buffer {
  return readSecretFile(path, 'passphrase file', 64 * 1024, {
    code: 'SECRET_REQUIRED',
    suggestion: 'Check the key\'s secret source (tufsign.json "secret" or --passphrase-file KEY=FILE).',
  });
}

export interface KeySecretContext {
  keyid: string;
  role: string;
  uri: string;
  entry: KeyEntry | undefined;
  perKey: readonly KeyPassphraseFile[];
  env: NodeJS.ProcessEnv;
  prompter: Prompter;
  base: SecretsHandler;
}

/**
 * The secrets handler for one key, decided BEFORE the key is opened: throws
 * when the key's own secret is named but absent, or when an offline key has no
 * secret of its own and nobody is at a terminal.
 */
export function secretsForKey(c: KeySecretContext): SecretsHandler {
  const who = `${c.role} key ${c.keyid.slice(0, 16)}…${c.entry?.owner !== undefined ? ` (${c.entry.owner})` : ''} at ${c.uri}`;
  const fromFlag = c.perKey.find((p) => matches(p.selector, c.keyid, c.entry));
  let source: (() => Buffer) | undefined;
  if (fromFlag !== undefined) {
    const file = fromFlag.file;
    source = () => readSecret(file);
  } else if (c.entry?.secret !== undefined) {
    const s = parseSecretSource(c.entry.secret, `keys.${c.keyid}.secret`);
    if (s.kind === 'env') {
      const v = c.env[s.name];
      if (v === undefined || v === '') {
        throw new TufsignError(
          'SECRET_REQUIRED',
          `the ${who} takes its passphrase from $${s.name}, which is not set; the key was not opened`,
          {
            rule: 'each key uses its own secret source (ADR 0011)',
            suggestion: `Set ${s.name} for this run, or leave this step to the machine that holds the key.`,
            details: { keyid: c.keyid, role: c.role },
          },
        );
      }
      source = () => Buffer.from(v, 'utf8');
    } else {
      const file = s.name;
      readSecret(file).fill(0); // present and 0600 before anything else happens
      source = () => readSecret(file);
    }
  } else if (c.entry?.offline === true && c.uri.startsWith('file:')) {
    // Only a key FILE has a passphrase to keep apart; a YubiKey's or token's secret is its PIN, asked as usual.
    const v = c.env[OFFLINE_PASSPHRASE_ENV];
    if (v !== undefined && v !== '') source = () => Buffer.from(v, 'utf8');
    else if (c.prompter.interactive) {
      const prompter = c.prompter;
      source = undefined;
      return {
        notify: (m: string) => c.base.notify?.(m),
        async getSecret(req) {
          if (req.kind === 'passphrase' || req.kind === 'new-passphrase')
            return Buffer.from(await prompter.secret(`Passphrase for the OFFLINE ${who}`), 'utf8');
          return c.base.getSecret(req);
        },
      };
    } else {
      throw new TufsignError(
        'OFFLINE_KEY_UNAVAILABLE',
        `this step needs the offline ${who}; it was not opened (no terminal, and no secret of its own)`,
        {
          rule: 'offline keys never use the online secret (ADR 0011)',
          suggestion: `Run this step where the offline key is kept, with ${OFFLINE_PASSPHRASE_ENV} or --passphrase-file ${c.keyid.slice(0, 8)}=FILE, or through a signing request (tufsign ceremony).`,
          details: { keyid: c.keyid, role: c.role, uri: c.uri },
        },
      );
    }
  }
  if (source === undefined) return c.base;
  const read = source;
  return {
    notify: (m: string) => c.base.notify?.(m),
    getSecret: (req) => (req.kind === 'passphrase' ? Promise.resolve(read()) : c.base.getSecret(req)),
  };
}

/**
 * The new passphrase for offline key files init generates: `--offline-passphrase-file`, TUFSIGN_OFFLINE_PASSPHRASE
 * or a prompt, never the online secret.
 */
export function offlineGenerationSecrets(
  env: NodeJS.ProcessEnv,
  prompter: Prompter,
  base: SecretsHandler,
  passphraseFile?: string,
): SecretsHandler {
  return {
    notify: (m: string) => base.notify?.(m),
    async getSecret(req) {
      if (req.kind !== 'new-passphrase' && req.kind !== 'passphrase') return base.getSecret(req);
      if (passphraseFile !== undefined) return readSecret(passphraseFile);
      const v = env[OFFLINE_PASSPHRASE_ENV];
      if (v !== undefined && v !== '') return Buffer.from(v, 'utf8');
      if (!prompter.interactive) {
        throw new TufsignError(
          'SECRET_REQUIRED',
          `a passphrase of their own is needed for ${req.label} and there is no terminal to ask`,
          {
            rule: 'offline keys never share the online secret (ADR 0011)',
            suggestion: `Give --offline-passphrase-file FILE (0600) or set ${OFFLINE_PASSPHRASE_ENV} (different from the online passphrase); init keeps root offline by default, --offline none keeps every key here.`,
          },
        );
      }
      const first = await prompter.secret(`New passphrase for ${req.label}`);
      const second = await prompter.secret('Repeat the passphrase');
      if (first !== second)
        throw new TufsignError('USAGE', 'the two passphrases differ', { rule: 'confirm new passphrases' });
      return Buffer.from(first, 'utf8');
    },
  };
}
