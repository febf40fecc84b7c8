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
import { linkSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TufsignError } from '../errors';

export const LOCK_FILE = '.tufsign.lock';
const TAKEOVER_FILE = `${LOCK_FILE}.takeover`;

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
function createExclusive(dir: string, path: string, holder: LockHolder): boolean {
  const tmp = join(dir, `${LOCK_FILE}.${holder.pid}.${holder.token}.tmp`);
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
function removeIfToken(dir: string, path: string, token: string): void {
  const aside = join(dir, `${LOCK_FILE}.${randomBytes(6).toString('hex')}.aside`);
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
function sweepTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^\.tufsign\.lock\.([0-9]+)\.[0-9a-f]+\.tmp$/.exec(n);
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
  ) {
    process.on('exit', this.onExit);
  }

  get path(): string {
    return join(this.dir, LOCK_FILE);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    process.off('exit', this.onExit);
    const h = readHolder(this.path);
    if (h !== undefined && h !== 'unreadable' && h.token === this.holder.token)
      removeIfToken(this.dir, this.path, this.holder.token);
  }
}

/** Try once to clear a stale lock; true if the caller should try to acquire again right away. */
function clearStale(dir: string, me: LockHolder, stale: LockHolder | 'unreadable'): boolean {
  const takeoverPath = join(dir, TAKEOVER_FILE);
  if (!createExclusive(dir, takeoverPath, me)) {
    const other = readHolder(takeoverPath);
    if (other === 'unreadable' || (other !== undefined && holderIsGone(other)))
      removeIfToken(dir, takeoverPath, other === 'unreadable' ? '' : other.token);
    return false;
  }
  try {
    const now = readHolder(join(dir, LOCK_FILE));
    if (now === undefined) return true;
    const same = now === 'unreadable' ? stale === 'unreadable' : stale !== 'unreadable' && now.token === stale.token;
    if (same) removeIfToken(dir, join(dir, LOCK_FILE), now === 'unreadable' ? '' : now.token);
    return true;
  } finally {
    removeIfToken(dir, takeoverPath, me.token);
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
    started: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
  };
  const ps = procStart(process.pid);
  if (ps !== undefined) me.procStart = ps;
  const path = join(dir, LOCK_FILE);
  const deadline = options.waitSeconds === undefined ? 0 : Date.now() + options.waitSeconds * 1000;
  sweepTemps(dir);
  let waited = false;
  let delay = 20;
  let unreadableSince: number | undefined;
  for (;;) {
    if (createExclusive(dir, path, me)) return new WorkspaceLock(dir, me);
    const holder = readHolder(path);
    if (holder === undefined) continue; // released between our attempt and the read
    // An unreadable lock is never written by tufsign (it links complete files); treat it as stale after a grace period.
    if (holder === 'unreadable') unreadableSince ??= Date.now();
    else unreadableSince = undefined;
    const stale = holder === 'unreadable' ? Date.now() - (unreadableSince ?? Date.now()) > 2000 : holderIsGone(holder);
    if (stale && clearStale(dir, me, holder)) continue;
    if (!stale && holder !== 'unreadable') {
      if (Date.now() >= deadline) {
        const busy = `${holder.command !== '' ? `tufsign ${holder.command}` : 'tufsign'} (PID ${holder.pid}${holder.host !== me.host ? ` on ${holder.host}` : ''}, since ${holder.started})`;
        throw new TufsignError('WORKSPACE_BUSY', `the workspace ${dir} is being changed by ${busy}`, {
          file: path,
          rule: 'one writer per workspace (ADR 0007)',
          suggestion:
            options.waitSeconds === undefined
              ? 'wait for it to finish, or re-run with --wait [SECONDS]'
              : 'it is still running; try again later',
          details: { pid: holder.pid, host: holder.host, command: holder.command, started: holder.started },
        });
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
