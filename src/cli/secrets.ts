/**
 * The CLI's SecretsHandler: environment (`TUFSIGN_PASSPHRASE`, `TUFSIGN_PIN`,
 * `TUFSIGN_MGMT_KEY`), a `--passphrase-file`, or a hidden prompt on a TTY.
 * Never argv. Returned buffers are zeroed by the caller.
 */
import { readSecretFile } from '../io/fs';
import { TufsignError } from '../errors';
import type { SecretRequest, SecretsHandler } from '../keystore/signer';
import type { Prompter } from './prompter';

export interface SecretSources {
  env: NodeJS.ProcessEnv;
  passphraseFile?: string;
  prompter: Prompter;
  notify(message: string): void;
}

const ENV_FOR: Record<SecretRequest['kind'], string> = {
  passphrase: 'TUFSIGN_PASSPHRASE',
  'new-passphrase': 'TUFSIGN_PASSPHRASE',
  'source-passphrase': 'TUFSIGN_SOURCE_PASSPHRASE',
  pin: 'TUFSIGN_PIN',
  'management-key': 'TUFSIGN_MGMT_KEY',
};

/** A passphrase file holds one passphrase; 64 KiB is far beyond any real one. */
const MAX_PASSPHRASE_FILE = 64 * 1024;

function readPassphraseFile(path: string): Buffer {
  return readSecretFile(path, 'passphrase file', MAX_PASSPHRASE_FILE, {
    code: 'IO_ERROR',
    suggestion: 'Check the --passphrase-file path.',
  });
}

/** Typed tries for a wrong passphrase before the command gives up. */
export const PASSPHRASE_TRIES = 3;

export function createSecretsHandler(sources: SecretSources): SecretsHandler & { forget(): void } {
  // Passphrases typed at the prompt in this run, newest first, each once (memory only, zeroed by forget()): a key
  // file tries each of them before the person is asked again (key files made together share one), so each
  // distinct passphrase is typed once per run, however many keys it opens and however often each is opened.
  const typed: Buffer[] = [];
  // per key file label: the remembered passphrases offered in its current opening (those tries are not the person's)
  const offered = new Map<string, Set<Buffer>>();
  // per key file label: the passphrase it was last given, tried first when it is opened again
  const lastGiven = new Map<string, Buffer>();
  // per key file label: what the person typed for its last try, dropped from `typed` when it turns out wrong
  const lastTyped = new Map<string, Buffer>();
  const promptsFor = (kind: SecretRequest['kind']): boolean =>
    !((kind === 'passphrase' || kind === 'new-passphrase') && sources.passphraseFile !== undefined) &&
    !(sources.env[ENV_FOR[kind]] ?? '') &&
    sources.prompter.interactive;
  const typedTries = (request: SecretRequest): number =>
    (request.attempt ?? 1) - (offered.get(request.label)?.size ?? 0);
  return {
    notify: (message) => sources.notify(message),
    mayRetry(request) {
      return request.kind === 'passphrase' && promptsFor('passphrase') && typedTries(request) < PASSPHRASE_TRIES;
    },
    forget() {
      for (const t of typed) t.fill(0);
      typed.length = 0;
      offered.clear();
      lastGiven.clear();
      lastTyped.clear();
    },
    async getSecret(request) {
      if (
        (request.kind === 'passphrase' || request.kind === 'new-passphrase') &&
        sources.passphraseFile !== undefined
      ) {
        return readPassphraseFile(sources.passphraseFile);
      }
      const envName = ENV_FOR[request.kind];
      const fromEnv = sources.env[envName];
      if (fromEnv !== undefined && fromEnv !== '') {
        if (request.kind === 'pin' && request.retriesLeft === 1) {
          // Unattended runs never spend the final PIN try: a stale TUFSIGN_PIN would block the device.
          throw new TufsignError(
            'PIN_INCORRECT',
            `${request.label} has one PIN try left; tufsign will not use it unattended`,
            {
              rule: 'the last PIN try needs a person at a terminal',
              suggestion:
                'Run the command in a terminal without TUFSIGN_PIN and confirm the last try, or unblock the PIN with the PUK first.',
              details: { retriesLeft: 1 },
            },
          );
        }
        return Buffer.from(fromEnv, 'utf8');
      }
      if (!sources.prompter.interactive) {
        throw new TufsignError(
          'SECRET_REQUIRED',
          `a ${request.kind.replace('new-', '')} is needed for ${request.label} and there is no terminal to ask`,
          {
            rule: 'secrets come from a hidden prompt, the environment or a file — never argv',
            suggestion: request.kind.includes('passphrase')
              ? `Set ${envName} or pass --passphrase-file FILE.`
              : `Set ${envName}, or run in a terminal.`,
          },
        );
      }
      const tries =
        request.retriesLeft === undefined
          ? ''
          : request.retriesLeft <= 1
            ? ' — LAST TRY before the PIN locks'
            : ` (${request.retriesLeft} tries left)`;
      if (request.kind === 'new-passphrase') {
        const first = await sources.prompter.secret(`New passphrase for ${request.label}`);
        const second = await sources.prompter.secret('Repeat the passphrase');
        if (first !== second)
          throw new TufsignError('USAGE', 'the two passphrases differ', { rule: 'confirm new passphrases' });
        return Buffer.from(first, 'utf8');
      }
      if (request.kind === 'pin' && request.retriesLeft === 1) {
        // The final try: a wrong PIN now locks the device, so the person must say they mean it.
        sources.notify(
          `WARNING: ${request.label} has ONE PIN try left; a wrong PIN blocks it (unblocking needs the PUK).`,
        );
        const go = await sources.prompter.confirm('Use the last PIN try now?', false);
        if (!go)
          throw new TufsignError('ABORTED', 'stopped before the last PIN try', {
            rule: 'never spend the last PIN try without confirmation',
          });
      }
      if (request.kind === 'passphrase') {
        const attempt = request.attempt ?? 1;
        if (attempt === 1) lastTyped.delete(request.label);
        const wrong = lastTyped.get(request.label);
        if (wrong !== undefined) {
          const i = typed.indexOf(wrong);
          if (i >= 0) typed.splice(i, 1)[0]?.fill(0);
          lastTyped.delete(request.label);
        }
        // The remembered passphrases offered in this opening: a first attempt is a new opening.
        let tried = attempt === 1 ? undefined : offered.get(request.label);
        if (tried === undefined) {
          tried = new Set<Buffer>();
          offered.set(request.label, tried);
        }
        const before = lastGiven.get(request.label);
        const remembered = [...(before !== undefined && typed.includes(before) ? [before] : []), ...typed].find(
          (t) => !tried.has(t),
        );
        if (remembered !== undefined) {
          tried.add(remembered);
          lastGiven.set(request.label, remembered);
          return Buffer.from(remembered);
        }
        const n = typedTries(request);
        if (n > 1 || (n === 1 && tried.size > 0)) {
          sources.notify(
            n > 1
              ? `wrong passphrase for ${request.label} (try ${n} of ${PASSPHRASE_TRIES})`
              : `the passphrase${tried.size > 1 ? 's' : ''} typed before ${tried.size > 1 ? 'do' : 'does'} not open ${request.label}`,
          );
        }
        const answer = Buffer.from(await sources.prompter.secret(`Passphrase for ${request.label}`), 'utf8');
        const same = typed.findIndex((t) => t.equals(answer));
        const kept = same >= 0 ? (typed.splice(same, 1)[0] ?? Buffer.from(answer)) : Buffer.from(answer);
        typed.unshift(kept);
        lastTyped.set(request.label, kept);
        lastGiven.set(request.label, kept);
        return answer;
      }
      const label = { 'source-passphrase': 'Passphrase', pin: 'PIN', 'management-key': 'Management key' }[request.kind];
      return Buffer.from(await sources.prompter.secret(`${label} for ${request.label}${tries}`), 'utf8');
    },
  };
}
