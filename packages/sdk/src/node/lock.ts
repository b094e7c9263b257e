import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

export interface FileLockOptions {
  /** Give up after waiting this long for a holder that shows it is alive (default 30 s). */
  waitMs?: number;
  /** A lock whose file was not touched for this long is a crashed holder's (default 10 s; holders touch it every third of that). */
  staleMs?: number;
  /** How often to look again while another process holds it (default 25 ms). */
  pollMs?: number;
}

/** What a lock file holds: who took it, so a dead holder on this host is recognised at once. */
interface LockOwner {
  pid: number;
  host: string;
  token: string;
}

/**
 * Runs `task` holding `<path>.lock`, a file created exclusively (`wx`), so at most one process on the machine (or on a
 * shared file system with working O_EXCL) runs it at a time. The holder touches the file while it works; a lock left
 * by a process that died (its pid is gone, or the file is older than `staleMs`) is taken over. Waiting is bounded:
 * after `waitMs` the call throws, naming the lock file, but only while the holder looks alive (its pid runs here, or
 * it touched the lock since we began waiting); a lock nobody touches is waited on until it is stale, then taken.
 */
export async function withFileLock<T>(path: string, task: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const lock = `${path}.lock`;
  const { waitMs = 30_000, staleMs = 10_000, pollMs = 25 } = options;
  const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(12).toString('hex') };
  const deadline = Date.now() + waitMs;
  // The lock as first seen: a waiter that reaches its deadline without seeing it change has no proof of a live holder.
  let firstSeen: LockSeen | undefined;
  for (;;) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(owner), 'utf8');
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        // The directory does not exist yet: create it and try again.
        await mkdir(dirname(lock), { recursive: true, mode: 0o700 });
        continue;
      }
      if (code !== 'EEXIST') throw error;
      const seen = await breakIfStale(lock, staleMs);
      if (seen === 'gone') continue;
      firstSeen ??= seen;
      // Giving up on a crashed holder's lock (before it turns stale) would fail every command for up to staleMs.
      if (Date.now() > deadline && (seen.aliveHere || !sameLock(seen, firstSeen))) {
        throw new Error(`${lock} is held by another process (waited ${Math.round(waitMs / 1000)} s)`);
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
  // Keep the lock fresh while the task runs (a registration may wait on rate limits), so nobody thinks it stale. Only
  // while it is still ours: after a takeover (this process stalled past staleMs), touching it would keep the new
  // holder's lock alive after that holder died.
  const heartbeat = setInterval(() => {
    void (async () => {
      if ((await readOwner(lock))?.token !== owner.token) return clearInterval(heartbeat);
      const now = new Date();
      await utimes(lock, now, now);
    })().catch(() => undefined);
  }, Math.max(100, Math.floor(staleMs / 3)));
  heartbeat.unref();
  try {
    return await task();
  } finally {
    clearInterval(heartbeat);
    // Remove only our own lock: if it was (wrongly) taken over, the new holder's file stays.
    if ((await readOwner(lock))?.token === owner.token) await unlink(lock).catch(() => undefined);
  }
}

async function readOwner(lock: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(lock, 'utf8')) as LockOwner;
  } catch {
    return undefined; // gone, or not written yet (the holder is between create and write)
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A held lock file as a waiter saw it: which file, when last touched, and whether its holder runs on this host. */
interface LockSeen {
  ino: number;
  mtimeMs: number;
  size: number;
  aliveHere: boolean;
}

const sameLock = (a: LockSeen, b: LockSeen) => a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.size === b.size;

/**
 * Removes `lock` when its holder is gone and answers 'gone' (also when the lock vanished), so the caller tries again
 * at once; else what the lock looks like now.
 */
async function breakIfStale(lock: string, staleMs: number): Promise<LockSeen | 'gone'> {
  let info;
  try {
    info = await stat(lock);
  } catch {
    return 'gone';
  }
  const owner = await readOwner(lock);
  const here = owner !== undefined && owner.host === hostname();
  const deadHere = here && owner.pid !== process.pid && !processAlive(owner.pid);
  if (!deadHere && Date.now() - info.mtimeMs <= staleMs) return { ino: info.ino, mtimeMs: info.mtimeMs, size: info.size, aliveHere: here };
  // Move it aside first, then check that what moved is the file judged stale (same inode, unchanged since; inode
  // numbers are reused, so the inode alone cannot tell): another waiter may have replaced it in between, perhaps not
  // yet written, or its holder touched it; such a lock is put back (link fails rather than overwrite a newer one).
  const aside = `${lock}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lock, aside);
  } catch {
    return 'gone';
  }
  const moved = await stat(aside).catch(() => undefined);
  const same = moved !== undefined && moved.ino === info.ino && moved.mtimeMs === info.mtimeMs && moved.size === info.size;
  if (moved !== undefined && !same) await link(aside, lock).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
  return 'gone';
}
