/**
 * The virtual-card lock. On a shared machine every run that touches PC/SC (pcscd, vpcd, the virtual YubiKey) holds
 * it: the card suites are run as `flock /tmp/tufsign-vcard.lock npx jest …` (see their headers). A suite that
 * touches PC/SC in only a few places takes it around those places itself, unless it already runs under it.
 */
import { readFileSync, statSync } from 'node:fs';

export const VCARD_LOCK = '/tmp/tufsign-vcard.lock';

/**
 * Whether this process already runs under the lock: one of its ancestors holds it (`flock VCARD_LOCK npx jest …`).
 * Taking it again from here would wait for that ancestor for ever.
 */
export function underVcardLock(): boolean {
  let inode: number;
  let locks: string;
  try {
    inode = statSync(VCARD_LOCK).ino;
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return false;
  }
  const holders = new Set<number>();
  for (const line of locks.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 2744 fe:00:2147332 0 EOF"; a waiter's line reads "1: -> FLOCK …"
    const f = line.trim().split(/\s+/);
    if (f[1] === 'FLOCK' && Number(f[5]?.split(':')[2]) === inode) holders.add(Number(f[4]));
  }
  for (let pid = process.pid; pid > 1; pid = parentOf(pid)) if (holders.has(pid)) return true;
  return false;
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}
