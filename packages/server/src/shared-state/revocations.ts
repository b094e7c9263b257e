import type { Clock } from '../core/clock.js';

/**
 * Ids whose bearer credentials must stop working before they expire on their own: session families
 * (their access tokens live up to 15 minutes), API keys, agent keys. Checks are synchronous, from memory;
 * the Redis variant keeps every node's memory in step through pub/sub.
 */
export interface RevocationList {
  revoke(id: string, until: number): Promise<void>;
  isRevoked(id: string): boolean;
}

export class MemoryRevocationList implements RevocationList {
  private readonly revoked = new Map<string, number>();
  private nextSweep = 0;

  constructor(private readonly clock: Clock) {}

  async revoke(id: string, until: number): Promise<void> {
    this.remember(id, until);
  }

  /** Records a revocation learned from elsewhere (the database at boot, another node). */
  remember(id: string, until: number): void {
    const current = this.revoked.get(id) ?? 0;
    if (until > current) this.revoked.set(id, until);
  }

  isRevoked(id: string): boolean {
    const now = this.clock.now();
    if (now >= this.nextSweep) this.sweep(now);
    const until = this.revoked.get(id);
    return until !== undefined && until > now;
  }

  private sweep(now: number): void {
    for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
    this.nextSweep = now + 60_000;
  }
}
