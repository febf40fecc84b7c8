/**
 * One writer per workspace (ADR 0007). Every command that writes a workspace
 * holds `.tufsign.lock` for its whole read-modify-write. The lock file is
 * written complete under a temp name and hard-linked into place, so it
 * appears atomically and is never half-written; `link` fails if it exists.
 *
 * A lock whose holder is gone (same host, PID not running, or running with a
 * different start time — PID reuse) is stale. Only one process at a time may
 * clear a stale lock: it must first hold `.tufsign.lock.takeover` (acquired
 * the same way), then re-reads the lock and removes it only if it is still
 * the very lock it judged stale (same token). Everyone then races fairly for
 * a fresh lock. A lock held by another host is never taken over.
 */
import {
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TufsignError } from '../errors';
import { systemClock } from './clock';

export const LOCK_FILE = '.tufsign.lock';

export interface LockHolder {
  pid: number;
  host: string;
  /** the command line that holds it, e.g. "targets add" */
  command: string;
  started: string;
  /** start time of the holder process (Linux /proc), to tell a reused PID from the holder */
  procStart?: string;
  token: string;
}

export interface LockOptions {
  /** what the holder is doing, shown to a second writer */
  command: string;
  /** undefined: fail at once when busy; a number: wait up to that many seconds; Infinity: wait until free */
  waitSeconds?: number;
  /** called once when the run starts waiting */
  onWait?: (holder: LockHolder) => void;
  /** the lock file's name in `dir` (default `.tufsign.lock`, the workspace's) */
  name?: string;
  /** what the lock guards, for the busy error (default "the workspace DIR") */
  what?: string;
}

function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) follows the parenthesised command name, which may itself contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The holder's process is certainly gone (only decidable on the same host). */
export function holderIsGone(h: LockHolder): boolean {
  if (h.host !== hostname()) return false;
  if (!pidAlive(h.pid)) return true;
  const now = procStart(h.pid);
  return h.procStart !== undefined && now !== undefined && now !== h.procStart;
}

function readHolder(path: string): LockHolder | undefined | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return 'unreadable';
  }
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.token === 'string') {
      return {
        pid: v.pid,
        host: v.host,
        command: String(v.command ?? ''),
        started: String(v.started ?? ''),
        token: v.token,
        ...(typeof v.procStart === 'string' ? { procStart: v.procStart } : {}),
      };
    }
  } catch {
    // fall through
  }
  return 'unreadable';
}

/** Create `path` holding `holder`, atomically and complete, or return false if it exists. */
function createExclusive(dir: string, name: string, path: string, holder: LockHolder): boolean {
  const tmp = join(dir, `${name}.${holder.pid}.${holder.token}.tmp`);
  writeFileSync(tmp, JSON.stringify(holder) + '\n', { mode: 0o644 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new TufsignError('IO_ERROR', `cannot create ${path}: ${(e as Error).message}`, { file: path, cause: e });
  } finally {
    unlinkSync(tmp);
  }
}

/** Remove `path` only if it still holds `token`: move it aside, check, and put it back if it was not ours to remove. */
function removeIfToken(dir: string, name: string, path: string, token: string): void {
  const aside = join(dir, `${name}.${randomBytes(6).toString('hex')}.aside`);
  try {
    renameSync(path, aside);
  } catch {
    return; // already gone
  }
  const h = readHolder(aside);
  if (h !== undefined && h !== 'unreadable' && h.token !== token) {
    try {
      linkSync(aside, path);
    } catch {
      // a newer lock appeared meanwhile; the one we moved belongs to a finished takeover race
    }
  }
  unlinkSync(aside);
}

/** Leftover temp files of writers that died between writing and linking. */
function sweepTemps(dir: string, name: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^\.([0-9]+)\.[0-9a-f]+\.tmp$/.exec(n.startsWith(name) ? n.slice(name.length) : '');
    if (m !== null && !pidAlive(Number(m[1]))) {
      try {
        unlinkSync(join(dir, n));
      } catch {
        // another sweeper got it
      }
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class WorkspaceLock {
  private held = true;
  private readonly onExit = (): void => this.release();

  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
    readonly name: string = LOCK_FILE,
  ) {
    process.on('exit', this.onExit);
  }

  get path(): string {
    return join(this.dir, this.name);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    process.off('exit', this.onExit);
    const h = readHolder(this.path);
    if (h !== undefined && h !== 'unreadable' && h.token === this.holder.token)
      removeIfToken(this.dir, this.name, this.path, this.holder.token);
  }
}

/** Try once to clear a stale lock; true if the caller should try to acquire again right away. */
function clearStale(dir: string, name: string, me: LockHolder, stale: LockHolder | 'unreadable'): boolean {
  const takeover = `${name}.takeover`;
  const takeoverPath = join(dir, takeover);
  if (!createExclusive(dir, takeover, takeoverPath, me)) {
    const other = readHolder(takeoverPath);
    if (other === 'unreadable' || (other !== undefined && holderIsGone(other)))
      removeIfToken(dir, takeover, takeoverPath, other === 'unreadable' ? '' : other.token);
    return false;
  }
  try {
    const now = readHolder(join(dir, name));
    if (now === undefined) return true;
    const same = now === 'unreadable' ? stale === 'unreadable' : stale !== 'unreadable' && now.token === stale.token;
    if (same) removeIfToken(dir, name, join(dir, name), now === 'unreadable' ? '' : now.token);
    return true;
  } finally {
    removeIfToken(dir, takeover, takeoverPath, me.token);
  }
}

/**
 * Take the workspace's write lock, or fail at once with WORKSPACE_BUSY naming
 * the holder (PID, command, host, since when) — or wait up to `waitSeconds`.
 */
export async function lockWorkspace(dir: string, options: LockOptions): Promise<WorkspaceLock> {
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    command: options.command,
    started: systemClock.now().toISOString(),
    token: randomBytes(12).toString('hex'),
  };
  const ps = procStart(process.pid);
  if (ps !== undefined) me.procStart = ps;
  const name = options.name ?? LOCK_FILE;
  const path = join(dir, name);
  // waits and the holder's start time use the real clock, never a pinned TUFSIGN_NOW (a wait must end)
  const now = (): number => systemClock.now().getTime();
  const deadline = options.waitSeconds === undefined ? 0 : now() + options.waitSeconds * 1000;
  sweepTemps(dir, name);
  sweepTemps(dir, `${name}.takeover`);
  let waited = false;
  let delay = 20;
  let unreadableSince: number | undefined;
  for (;;) {
    if (createExclusive(dir, name, path, me)) return new WorkspaceLock(dir, me, name);
    const holder = readHolder(path);
    if (holder === undefined) continue; // released between our attempt and the read
    // An unreadable lock is never written by tufsign (it links complete files); treat it as stale after a grace period.
    if (holder === 'unreadable') unreadableSince ??= now();
    else unreadableSince = undefined;
    const stale = holder === 'unreadable' ? now() - (unreadableSince ?? now()) > 2000 : holderIsGone(holder);
    if (stale && clearStale(dir, name, me, holder)) continue;
    if (!stale && holder !== 'unreadable') {
      if (now() >= deadline) {
        const busy = `${holder.command !== '' ? `tufsign ${holder.command}` : 'tufsign'} (PID ${holder.pid}${holder.host !== me.host ? ` on ${holder.host}` : ''}, since ${holder.started})`;
        throw new TufsignError(
          'WORKSPACE_BUSY',
          `${options.what ?? `the workspace ${dir}`} is being changed by ${busy}`,
          {
            file: path,
            rule: 'one writer per workspace (ADR 0007)',
            suggestion:
              options.waitSeconds === undefined
                ? 'wait for it to finish, or re-run with --wait [SECONDS]'
                : 'it is still running; try again later',
            details: { pid: holder.pid, host: holder.host, command: holder.command, started: holder.started },
          },
        );
      }
      if (!waited) {
        waited = true;
        options.onWait?.(holder);
      }
    }
    await sleep(delay + Math.floor(Math.random() * delay));
    delay = Math.min(delay * 2, 250);
  }
}

/**
 * This user's folder for locks that are not about one folder (a token label, a YubiKey slot):
 * `$XDG_RUNTIME_DIR/tufsign`, else `TMPDIR/tufsign-UID`. Made 0700; refused unless it is a real folder owned by
 * this user that nobody else can write (a folder another user made first in a shared temp folder is not used).
 */
export function userLockDir(env: NodeJS.ProcessEnv): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const runtime = env['XDG_RUNTIME_DIR'];
  const dir =
    runtime !== undefined && runtime !== '' ? join(runtime, 'tufsign') : join(tmpdir(), `tufsign-${uid ?? 'user'}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new TufsignError('IO_ERROR', `cannot create the lock folder ${dir}: ${(e as Error).message}`, {
        file: dir,
        cause: e,
      });
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0)
    throw new TufsignError('IO_ERROR', `the lock folder ${dir} is not a private folder of this user`, {
      file: dir,
      rule: 'locks live in a folder only this user can write',
      suggestion: `Remove ${dir} (after checking who made it), or set XDG_RUNTIME_DIR.`,
    });
  return dir;
}
