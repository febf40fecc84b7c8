/**
 * The base of every tufsign command: global flags (`--json`, `--yes`,
 * `--debug`, `--passphrase-file`), the run context, and the single boundary
 * that turns errors into exit codes and one-line messages.
 */
import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { exitCodeFor, ExitCode, TufsignError } from '../errors';
import { ensureDir, fileExists } from '../io/fs';
import { lockWorkspace, type WorkspaceLock } from '../io/lock';
import { createContext, type RunContext } from './context';
import { parseWait, WAIT_FOREVER } from './flags';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    yes: Flags.boolean({ char: 'y', description: 'Answer yes to confirmations (unattended runs).', default: false, helpGroup: 'GLOBAL' }),
    debug: Flags.boolean({ description: 'Show stack traces on errors.', default: false, helpGroup: 'GLOBAL' }),
    'passphrase-file': Flags.string({
      description: 'Read key-file passphrases from this file (mode 0600) instead of TUFSIGN_PASSPHRASE or a prompt; KEY=FILE gives one key (keyid prefix or owner) its own file.',
      helpGroup: 'GLOBAL',
      multiple: true,
      multipleNonGreedy: true,
    }),
  };

  protected flags!: BaseFlags<T>;
  protected args!: BaseArgs<T>;
  /** positional arguments in order (for commands taking a variable number) */
  protected positional: string[] = [];
  private runContext: RunContext | undefined;
  private workspaceLock: WorkspaceLock | undefined;

  public override async init(): Promise<void> {
    await super.init();
    // `--wait` takes an optional number of seconds: a bare `--wait` means "until the other run finishes".
    if ('wait' in (this.ctor.flags ?? {})) {
      this.argv = this.argv.flatMap((a, i, all) => (a === '--wait' && !/^[0-9]+$/.test(all[i + 1] ?? '') ? [a, WAIT_FOREVER] : [a]));
    }
    const { args, flags, argv } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as BaseFlags<T>;
    this.args = args as BaseArgs<T>;
    this.positional = argv.map(String);
  }

  protected get ctx(): RunContext {
    if (this.runContext === undefined) {
      const opts: Parameters<typeof createContext>[0] = { json: this.jsonEnabled(), yes: this.flags.yes };
      const pf = this.flags['passphrase-file'];
      if (pf !== undefined) opts.passphraseFiles = pf;
      this.runContext = createContext(opts);
    }
    return this.runContext;
  }

  /**
   * Hold the workspace's write lock until this command ends (ADR 0007): every
   * command that writes a workspace calls this before reading it. Honours
   * `--wait [SECONDS]` when the command has that flag.
   */
  protected async lockWorkspace(dir: string, create = false): Promise<void> {
    // A missing folder is the command's own error to report (WORKSPACE_NOT_FOUND); `init` creates it first.
    if (create) ensureDir(dir);
    else if (!fileExists(dir)) return;
    const wait = parseWait((this.flags as Record<string, unknown>)['wait'] as string | undefined);
    const options: Parameters<typeof lockWorkspace>[1] = {
      command: (this.id ?? this.ctor.name).split(':').join(' '),
      onWait: (h) => this.note(`waiting for tufsign ${h.command} (PID ${h.pid}) to finish with ${dir}…`),
    };
    if (wait !== undefined) options.waitSeconds = wait;
    this.workspaceLock = await lockWorkspace(dir, options);
  }

  /** Progress and notes for people: stderr, silent under --json. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(message + '\n');
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.workspaceLock?.release();
    await this.runContext?.close();
    return super.finally(err);
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    this.workspaceLock?.release();
    await this.runContext?.close();
    if (err instanceof Errors.ExitError) throw err;
    const debug = process.argv.includes('--debug');
    const json = process.argv.includes('--json');
    let exit: number;
    let payload: Record<string, unknown>;
    if (err instanceof TufsignError) {
      exit = exitCodeFor(err.code);
      payload = { code: err.code, message: err.message };
      if (err.file !== undefined) payload['file'] = err.file;
      if (err.path !== undefined) payload['path'] = err.path;
      if (err.rule !== undefined) payload['rule'] = err.rule;
      if (err.suggestion !== undefined) payload['suggestion'] = err.suggestion;
      if (err.details !== undefined) payload['details'] = err.details;
    } else if (err.oclif !== undefined || err.name === 'CLIError' || /Unexpected argument|Missing required|Nonexistent flag|Expected --/.test(err.message)) {
      exit = ExitCode.USAGE;
      payload = { code: 'USAGE', message: err.message.split('\n')[0] ?? err.message, suggestion: 'See --help.' };
    } else {
      exit = ExitCode.INTERNAL;
      payload = { code: 'INTERNAL', message: err.message, suggestion: 'This is a bug in tufsign; re-run with --debug and report the stack trace.' };
    }
    if (json) {
      process.stdout.write(JSON.stringify({ error: payload }, null, 2) + '\n');
    } else {
      const where = [payload['file'], payload['path']].filter((x) => typeof x === 'string').join(' ');
      const rule = typeof payload['rule'] === 'string' ? ` [${payload['rule']}]` : '';
      process.stderr.write(`error ${String(payload['code'])}: ${where !== '' ? where + ': ' : ''}${String(payload['message'])}${rule}\n`);
      if (typeof payload['suggestion'] === 'string') process.stderr.write(`  → ${payload['suggestion']}\n`);
    }
    if (debug && err.stack !== undefined) process.stderr.write(err.stack + '\n');
    throw new Errors.ExitError(exit);
  }
}
