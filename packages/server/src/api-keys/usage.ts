import type { ApiKeyId } from '../core/ids.js';
import type { ApiKeyStore } from './store.js';
import type { LastUse, UsageCount } from './types.js';

/** `YYYY-MM-DD` of a millisecond time, in UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Counts API-key requests in memory, per key, UTC day and route, and adds them to the store in batches, so the
 * hot path never writes a row. What a flush wrote survives a restart; what was counted since the last flush is
 * written on shutdown (AimServer.close) and lost only if the process dies without one.
 */
export class UsageCounter {
  private counts = new Map<string, UsageCount>();
  private lastUses = new Map<ApiKeyId, LastUse>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly store: ApiKeyStore) {}

  record(keyId: ApiKeyId, route: string, ip: string | null, now: number): void {
    const day = utcDay(now);
    const slot = `${keyId} ${day} ${route}`;
    const count = this.counts.get(slot);
    if (count) count.requests += 1;
    else this.counts.set(slot, { keyId, day, route, requests: 1 });
    const last = this.lastUses.get(keyId);
    if (!last || last.at <= now) this.lastUses.set(keyId, { keyId, at: now, ip });
  }

  /** Requests counted and not yet written. */
  get pending(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c.requests;
    return n;
  }

  /**
   * Writes everything counted so far in one transaction. Calls queue behind each other; when a write fails, its
   * counts go back into memory for the next flush and the error is thrown.
   */
  flush(): Promise<void> {
    const run = this.queue.then(() => this.writeBatch());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeBatch(): Promise<void> {
    if (this.counts.size === 0 && this.lastUses.size === 0) return;
    const counts = [...this.counts.values()];
    const lastUses = [...this.lastUses.values()];
    this.counts = new Map();
    this.lastUses = new Map();
    try {
      await this.store.addUsage(counts, lastUses);
    } catch (error) {
      for (const c of counts) {
        const slot = `${c.keyId} ${c.day} ${c.route}`;
        const now = this.counts.get(slot);
        if (now) now.requests += c.requests;
        else this.counts.set(slot, c);
      }
      for (const u of lastUses) {
        const now = this.lastUses.get(u.keyId);
        if (!now || now.at < u.at) this.lastUses.set(u.keyId, u);
      }
      throw error;
    }
  }
}
