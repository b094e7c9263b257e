import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import pLimit, { type LimitFunction } from 'p-limit';
import { AimError } from '../core/errors.js';

// OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
// @node-rs/argon2 runs on libuv's thread pool, so hashing never blocks the event loop.
const OPTIONS = { algorithm: 2 /* Argon2id */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

/** One argon2id hash, unguarded (the benchmark's baseline); the server goes through a `PasswordHasher`. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** Constant-time inside argon2; a malformed hash answers false rather than throwing. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** One fewer than the machine's cores, at least one. */
export function defaultHashConcurrency(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * Hashing is CPU-bound: with as many hashes in flight as libuv has threads (4), a login storm takes every core and
 * the event loop, which answers every other route, waits for CPU. So a server hashes at most `concurrency` at a
 * time, and past `maxQueued` waiting checks refuses the next at once (503 with Retry-After) instead of queueing
 * without bound.
 */
export class PasswordHasher {
  private readonly limit: LimitFunction;
  private readonly maxQueued: number;

  constructor(options: { concurrency?: number; maxQueued?: number } = {}) {
    this.limit = pLimit(options.concurrency ?? defaultHashConcurrency());
    this.maxQueued = options.maxQueued ?? 64;
  }

  hash(password: string): Promise<string> {
    return this.guarded(() => hashPassword(password));
  }

  verify(passwordHash: string, password: string): Promise<boolean> {
    return this.guarded(() => verifyPassword(passwordHash, password));
  }

  /** Hashes running and waiting now (for /metrics). */
  load(): { active: number; queued: number } {
    return { active: this.limit.activeCount, queued: this.limit.pendingCount };
  }

  private guarded<T>(work: () => Promise<T>): Promise<T> {
    if (this.limit.pendingCount >= this.maxQueued) {
      return Promise.reject(
        new AimError('service_unavailable', 'too many password checks are waiting; retry shortly', { headers: { 'retry-after': '1' } }),
      );
    }
    return this.limit(work);
  }
}
