/**
 * The base of every tufsign command: global flags (`--json`, `--yes`,
 * `--debug`, `--passphrase-file`), the run context, and the single boundary
 * that turns errors into exit codes and one-line messages.
 */
import { Command, Errors, Flags, ux, type Interfaces } from '@oclif/core';
import { exitCodeFor, TufsignError } from '../errors';
import { ensureDir, fileExists, removeDirIfEmpty } from '../io/fs';
import { lockWorkspace, type WorkspaceLock } from '../io/lock';
import type { CeremonyContext, SigningContext } from '../repository/context';
import { Workspace } from '../repository/workspace';
import { ceremonyContext } from './ceremony';
import { errorEnvelope, payloadOf, renderErrorLine, type ErrorPayload } from './envelope';
import { createContext, type RunContext } from './context';
import { parseWait, WAIT_FOREVER } from './flags';
import { jsonText, terminalText } from './safe-text';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/** What a command hands the CLI layer's runners: the run context, its output channels and the workspace lock. */
export interface CommandIo {
  ctx: RunContext;
  /** `tufsign <version>`, recorded in requests and transcripts */
  tool: string;
  json: boolean;
  yes: boolean;
  /** data for stdout (silent under --json, which prints the returned value) */
  log(text: string): void;
  /** progress and notes for people: stderr, silent under --json */
  note(text: string): void;
  lockWorkspace(dir: string, create?: boolean): Promise<void>;
  /** lock a workspace for writing (ADR 0007), then open it */
  openWorkspace(dir: string): Promise<Workspace>;
}

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    yes: Flags.boolean({
      char: 'y',
      description: 'Answer yes to confirmations (unattended runs).',
      default: false,
      helpGroup: 'GLOBAL',
    }),
    debug: Flags.boolean({ description: 'Show stack traces on errors.', default: false, helpGroup: 'GLOBAL' }),
    'passphrase-file': Flags.string({
      description:
        'Read key-file passphrases from this file (mode 0600) instead of TUFSIGN_PASSPHRASE or a prompt; KEY=FILE gives one key (keyid prefix or owner) its own file.',
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
  /** a workspace folder this run created for `init`: removed again if the command fails and left it empty */
  private createdWorkspaceDir: string | undefined;

  public override async init(): Promise<void> {
    installSigintHandler();
    await super.init();
    // `--wait` takes an optional number of seconds: a bare `--wait` means "until the other run finishes".
    if ('wait' in (this.ctor.flags ?? {})) {
      this.argv = this.argv.flatMap((a, i, all) =>
        a === '--wait' && !/^[0-9]+$/.test(all[i + 1] ?? '') ? [a, WAIT_FOREVER] : [a],
      );
    }
    const { args, flags, argv } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      // oclif would otherwise take piped stdin as a missing argument (after a 10 ms race): stdin is data only
      // where a command asks for it (`--from-file -`, `--passphrase-file -`), never an argument
      args: Object.fromEntries(Object.entries(this.ctor.args ?? {}).map(([k, a]) => [k, { ...a, ignoreStdin: true }])),
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

  /** `tufsign <version>`, recorded in requests and transcripts. */
  protected get tool(): string {
    return `tufsign ${this.config.version}`;
  }

  /** The run context, output channels and lock, for a runner in src/cli. */
  protected get io(): CommandIo {
    return {
      ctx: this.ctx,
      tool: this.tool,
      json: this.jsonEnabled(),
      yes: this.flags.yes,
      log: (text) => this.log(text),
      note: (text) => this.note(text),
      lockWorkspace: (dir, create) => this.lockWorkspace(dir, create),
      openWorkspace: (dir) => this.openWorkspace(dir),
    };
  }

  /** Lock a workspace for writing (ADR 0007), then open it. */
  protected async openWorkspace(dir: string): Promise<Workspace> {
    await this.lockWorkspace(dir);
    return Workspace.open(dir);
  }

  /** Open a workspace for reading only (no lock). */
  protected readWorkspace(dir: string): Workspace {
    return Workspace.open(dir);
  }

  /** The signing context for a workspace: signers by URI, secrets, progress. */
  protected signingContext(ws: Workspace): SigningContext {
    return this.ctx.signingContext(ws.dir, ws);
  }

  /** The signing context plus what ceremonies record (tool) and open (a key not known in advance). */
  protected ceremonyContext(ws: Workspace): CeremonyContext {
    return ceremonyContext(this.ctx, ws.dir, ws, this.tool);
  }

  /**
   * Hold the workspace's write lock until this command ends (ADR 0007): every
   * command that writes a workspace calls this before reading it. Honours
   * `--wait [SECONDS]` when the command has that flag.
   */
  protected async lockWorkspace(dir: string, create = false): Promise<void> {
    // A missing folder is the command's own error to report (WORKSPACE_NOT_FOUND); `init` creates it first.
    if (create) {
      if (!fileExists(dir)) this.createdWorkspaceDir = dir;
      ensureDir(dir);
    } else if (!fileExists(dir)) return;
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
    if (!this.jsonEnabled()) process.stderr.write(terminalText(message) + '\n');
  }

  /** Data for people on stdout: whatever a renderer left unescaped is escaped here (ADR 0019). */
  public override log(message = '', ...args: unknown[]): void {
    super.log(terminalText(message), ...args);
  }

  /** `--json` output: the same value, with bidi/invisible/C1 characters written as `\uXXXX` (ADR 0019). */
  protected override logJson(json: unknown): void {
    ux.stdout(jsonText(json));
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.workspaceLock?.release();
    await this.runContext?.close();
    return super.finally(err);
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    this.workspaceLock?.release();
    // a refused `init` leaves no trace: the folder it created for the lock goes again if nothing else is in it
    if (this.createdWorkspaceDir !== undefined) removeDirIfEmpty(this.createdWorkspaceDir);
    await this.runContext?.close();
    if (err instanceof Errors.ExitError) throw err;
    const debug = process.argv.includes('--debug');
    const json = process.argv.includes('--json');
    let payload: ErrorPayload;
    const sys = systemError(err);
    if (err instanceof TufsignError) {
      payload = payloadOf(err);
    } else if (isPromptInterrupt(err)) {
      payload = ABORTED;
    } else if (sys !== undefined) {
      // the operating system refused a file operation: name the file, not a bug
      payload = {
        code: 'IO_ERROR',
        message: `${sys.syscall ?? 'file operation'} failed: ${sys.code ?? ''}`,
        suggestion: 'Check the path, its parent folder and permissions.',
      };
      if (sys.path !== undefined) payload.file = sys.path;
    } else if (
      err.oclif !== undefined ||
      err.name === 'CLIError' ||
      /Unexpected argument|Missing required|Nonexistent flag|Expected --/.test(err.message)
    ) {
      const parsed = oclifMessage(err.message);
      const help = `See \`${[this.config.bin, 'help', ...(this.id ?? '').split(':')].join(' ').trim()}\`.`;
      // oclif's note names every repeatable flag; it matters only when one was given (it may have taken an argument)
      const greedy = (parsed.note?.match(/--[a-z0-9-]+/g) ?? []).filter((f) =>
        this.argv.some((a) => a === f || a.startsWith(`${f}=`)),
      );
      payload = {
        code: 'USAGE',
        message: parsed.message,
        suggestion:
          greedy.length > 0
            ? `${greedy.join(', ')} take${greedy.length === 1 ? 's' : ''} several values and may have taken your arguments: give the arguments first, or put -- before them. ${help}`
            : help,
      };
    } else {
      payload = {
        code: 'INTERNAL',
        message: err.message,
        suggestion: 'This is a bug in tufsign; re-run with --debug and report the stack trace.',
      };
    }
    if (json) process.stdout.write(errorEnvelope(payload) + '\n');
    else process.stderr.write(renderErrorLine(payload));
    if (debug && err.stack !== undefined) process.stderr.write(terminalText(err.stack) + '\n');
    throw new Errors.ExitError(exitCodeFor(payload.code));
  }
}

const ABORTED: ErrorPayload = {
  code: 'ABORTED',
  message: 'interrupted (Ctrl-C); nothing more was written',
  suggestion: 'Run the command again when ready.',
};

/**
 * oclif's parse errors span lines: a header ("The following errors occurred:", "Missing 1 required arg:"),
 * one line per problem (an argument's description wrapped over several lines), a note about repeatable flags
 * and "See more help". People get one line per problem joined with "; ", flags and arguments named as they
 * are typed (`--key`, `ROLE`), and the note as the suggestion.
 */
export function oclifMessage(message: string): { message: string; note?: string } {
  const problems: string[] = [];
  const notes: string[] = [];
  let missingArgs = false;
  let parsingFlag: string | undefined;
  for (const raw of message.split('\n')) {
    const line = raw.trim();
    if (line === '' || /^See more help/.test(line) || /^The following errors? occurred:?$/.test(line)) continue;
    if (/^Missing \d+ required args?:?$/.test(line)) {
      missingArgs = true;
      continue;
    }
    if (/^(Note:|Alternatively,)/.test(line)) {
      missingArgs = false;
      notes.push(line.replace(/^Note:\s*/, ''));
      continue;
    }
    if (missingArgs) {
      // "role  Role to sign: root, …" starts an argument; an indented line continues its description
      const start = /^(\S+)\s{2,}(.*)$/.exec(raw);
      if (start !== null && !/^\s/.test(raw))
        problems.push(`missing argument ${(start[1] ?? '').toUpperCase()} (${start[2] ?? ''}`);
      else if (/^\S+$/.test(raw)) problems.push(`missing argument ${line.toUpperCase()} (`);
      else if (problems.length > 0) problems[problems.length - 1] += ` ${line}`;
      continue;
    }
    const parsing = /^Parsing (--\S+)$/.exec(line);
    if (parsing !== null) {
      parsingFlag = parsing[1];
      continue;
    }
    const flag = /^Missing required flag (\S+)$/.exec(line);
    if (flag !== null) problems.push(`missing required flag --${flag[1] ?? ''}`);
    else if (parsingFlag !== undefined)
      problems.push(`${parsingFlag}: ${line.charAt(0).toLowerCase()}${line.slice(1)}`);
    else problems.push(line);
    parsingFlag = undefined;
  }
  if (parsingFlag !== undefined) problems.push(`${parsingFlag}: not a valid value`);
  const text = problems
    .map((p) =>
      p.startsWith('missing argument ') ? (p.endsWith('(') ? p.slice(0, -2) : `${p.replace(/\.$/, '')})`) : p,
    )
    .join('; ');
  return notes.length > 0 ? { message: text, note: notes.join(' ') } : { message: text };
}

function systemError(err: Error): NodeJS.ErrnoException | undefined {
  const e = err as NodeJS.ErrnoException;
  return typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && typeof e.syscall === 'string' ? e : undefined;
}

/** Ctrl-C or Ctrl-D at an inquirer prompt rejects with ExitPromptError (AbortPromptError when cancelled). */
function isPromptInterrupt(err: Error): boolean {
  return err.name === 'ExitPromptError' || err.name === 'AbortPromptError';
}

let sigintInstalled = false;
/** Ctrl-C outside a prompt (during work): the same ABORTED error and exit code, never a stack or "bug" message. */
function installSigintHandler(): void {
  if (sigintInstalled) return;
  sigintInstalled = true;
  process.on('SIGINT', () => {
    if (process.argv.includes('--json')) process.stdout.write(errorEnvelope(ABORTED) + '\n');
    else process.stderr.write('\n' + renderErrorLine(ABORTED));
    process.exit(exitCodeFor('ABORTED'));
  });
}
