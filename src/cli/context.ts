/**
 * The composition root: the one place that wires clock, prompts, secrets and
 * key backends together for a command run.
 */
import { TufsignError } from '../errors';
import { clockFromEnv, type Clock } from '../io/clock';
import type { OpenOptions } from '../keystore/backend';
import { usableKeyRef, type KeyRef } from '../keystore/key-ref';
import { BACKENDS, openSigner as openKeySigner } from '../keystore/registry';
import { signingAttestationPolicy } from '../repository/signing-policy';
import type { SecretsHandler, Signer } from '../keystore/signer';
import type { Workspace } from '../repository/workspace';
import type { SigningContext } from '../repository/context';
import type { Key } from '../tuf/key';
import { progressReporter } from './progress';
import { createPrompter, type Prompter } from './prompter';
import { terminalText } from './safe-text';
import { createSecretsHandler } from './secrets';
import { parsePassphraseFileFlags, secretsForKey } from './key-secrets';

export interface RunContext {
  clock: Clock;
  prompter: Prompter;
  secrets: SecretsHandler;
  env: NodeJS.ProcessEnv;
  progress(message: string): void;
  /** `pkcs11Module` overrides the workspace's (`--pkcs11-module`). */
  openOptions(baseDir: string, workspace?: Workspace, pkcs11Module?: string): OpenOptions;
  /** `pkcs11Module` overrides the workspace's (e.g. `init --pkcs11-module` before the workspace exists). */
  signingContext(baseDir: string, workspace?: Workspace, pkcs11Module?: string): SigningContext;
  /** Close every signer opened during the run (PKCS#11 sessions, card handles). */
  close(): Promise<void>;
}

export interface ContextOptions {
  json: boolean;
  yes: boolean;
  /** `--passphrase-file` values: one FILE for all keys, and KEY=FILE per key */
  passphraseFiles?: string[];
  env?: NodeJS.ProcessEnv;
  stderr?: (line: string) => void;
}

export function createContext(options: ContextOptions): RunContext {
  const env = options.env ?? process.env;
  const clock = clockFromEnv(env);
  const prompter = createPrompter();
  const stderr = options.stderr;
  // Counted progress and message lines share stderr: a message clears the running count's line first.
  const reporter = progressReporter(
    options.json,
    stderr === undefined
      ? process.stderr
      : ({ isTTY: false, write: (text: string) => (stderr(text.replace(/\n$/, '')), true) } as NodeJS.WriteStream),
  );
  const raw = stderr ?? ((line: string) => process.stderr.write(line + '\n'));
  // every message may quote a file (a release folder's names, a key label): shown escaped (ADR 0019)
  const write = (line: string): void => {
    const shown = terminalText(line);
    if (options.json) raw(shown);
    else reporter.note(shown);
  };
  const progress = (message: string): void => {
    if (!options.json) write(message);
  };
  const secretSources: Parameters<typeof createSecretsHandler>[0] = { env, prompter, notify: (m) => write(m) };
  const passphraseFiles = parsePassphraseFileFlags(options.passphraseFiles ?? []);
  if (passphraseFiles.global !== undefined) secretSources.passphraseFile = passphraseFiles.global;
  const secrets = createSecretsHandler(secretSources);
  const signers = new Map<string, Promise<Signer>>();

  const openOptions = (baseDir: string, workspace?: Workspace, pkcs11Module?: string): OpenOptions => {
    const o: OpenOptions = { secrets, baseDir, env, now: clock.now() };
    const policyRoots = workspace?.config.rootKeyPolicy?.attestationRoots;
    if (policyRoots !== undefined && policyRoots.length > 0) o.attestationRoots = policyRoots;
    const module = pkcs11Module ?? workspace?.config.pkcs11Module;
    if (module !== undefined) o.pkcs11Module = module;
    return o;
  };

  /** The keyids of the workspace's current root role (read once per workspace): the keys the root-key policy covers. */
  const rootKeyids = new Map<string, ReadonlySet<string>>();
  const isRootKey = (workspace: Workspace, keyid: string): boolean => {
    let ids = rootKeyids.get(workspace.dir);
    if (ids === undefined) {
      try {
        ids = new Set(workspace.loadRoot().signed.role('root').keyids);
      } catch {
        ids = new Set();
      }
      rootKeyids.set(workspace.dir, ids);
    }
    return ids.has(keyid);
  };

  const openSigner = (
    baseDir: string,
    workspace: Workspace | undefined,
    pkcs11Module: string | undefined,
    ref: KeyRef,
    expectedKey: Key,
    role: string | undefined,
  ): Promise<Signer> => {
    const uri = ref.uri;
    const keyid = expectedKey.keyid();
    const cacheKey = `${uri}#${keyid}`;
    let s = signers.get(cacheKey);
    if (s === undefined) {
      // Under the root-key policy a root key signs only from a YubiKey that re-attests now (before any PIN).
      const attestationPolicy =
        workspace?.config.rootKeyPolicy === undefined
          ? undefined
          : signingAttestationPolicy(workspace.config, keyid, ref, role === 'root' || isRootKey(workspace, keyid));
      // Decided before the key is opened: its own secret, or a stop for an offline key (ADR 0011).
      const keySecrets = secretsForKey({
        keyid,
        role: role ?? 'a',
        uri,
        entry: workspace?.config.keys.get(keyid),
        perKey: passphraseFiles.perKey,
        env,
        prompter,
        base: secrets,
      });
      const options: OpenOptions = {
        ...openOptions(baseDir, workspace, pkcs11Module),
        secrets: keySecrets,
        expectedKey,
      };
      if (attestationPolicy !== undefined) options.attestationPolicy = attestationPolicy;
      s = openKeySigner(ref, options);
      signers.set(cacheKey, s);
      // a failed open must not be cached: the next attempt asks again
      s.catch(() => signers.delete(cacheKey));
    }
    return s;
  };

  return {
    clock,
    prompter,
    secrets,
    env,
    progress,
    openOptions: (baseDir, workspace, pkcs11Module) => openOptions(baseDir, workspace, pkcs11Module),
    signingContext(baseDir, workspace, pkcs11Module) {
      return {
        now: clock.now(),
        // The workspace loader parsed every key URI once; one that did not parse fails here, when it is used.
        openSigner: (ref, key, role) => {
          try {
            return openSigner(baseDir, workspace, pkcs11Module, usableKeyRef(ref), key, role);
          } catch (e) {
            return Promise.reject(e instanceof Error ? e : new Error(String(e)));
          }
        },
        // Devices first: opening a YubiKey signer costs no PIN and no touch, so every one the run needs is
        // opened (present, right serial, right key, tries left, re-attested) before the first signature. A
        // PKCS#11 token is checked without logging in (present, the key object is the role's key, PIN not
        // locked); its login waits for the signature.
        async preflight(planned) {
          const keys = planned.map((k) => ({ ...k, ref: usableKeyRef(k.ref) }));
          for (const k of keys)
            if (workspace?.config.rootKeyPolicy !== undefined && k.ref.backend !== 'yubikey')
              signingAttestationPolicy(
                workspace.config,
                k.key.keyid(),
                k.ref,
                k.role === 'root' || isRootKey(workspace, k.key.keyid()),
              );
          for (const { ref, key } of keys)
            if (ref.backend === 'pkcs11')
              await BACKENDS.pkcs11.preflight?.(ref, {
                ...openOptions(baseDir, workspace, pkcs11Module),
                expectedKey: key,
              });
          for (const { ref, key, role } of keys)
            if (ref.backend === 'yubikey') await openSigner(baseDir, workspace, pkcs11Module, ref, key, role);
        },
        warm(keys) {
          // A prompt must wait until the command's checks have passed; devices are opened by the pre-flight.
          if (prompter.interactive) return;
          let chain = Promise.resolve();
          for (const k of keys)
            if (k.ref.backend === 'file') {
              const ref = k.ref;
              chain = chain
                .then(() => openSigner(baseDir, workspace, pkcs11Module, ref, k.key, k.role))
                .then(
                  () => undefined,
                  () => undefined,
                );
            }
        },
        progress,
        report: reporter,
      };
    },
    async close() {
      reporter.done();
      for (const s of signers.values()) {
        try {
          const signer = await s;
          await signer.close?.();
        } catch {
          // opening failed; nothing to close
        }
      }
      signers.clear();
      secrets.forget();
    },
  };
}

export function requireInteractiveOrYes(prompter: Prompter, yes: boolean, what: string): void {
  if (!yes && !prompter.interactive) {
    throw new TufsignError('NO_TTY', `${what} needs confirmation and there is no terminal`, {
      rule: 'no prompts without a TTY',
      suggestion: 'Re-run with --yes to confirm unattended.',
    });
  }
}
