import type { Clock } from '../core/clock.js';

/**
 * Ids whose bearer credentials must stop working before they expire on their own: session families
 * (their access tokens live up to 15 minutes), API keys, agent keys. Checks are synchronous, from memory;
 * the Redis variant keeps every node's memory in step through pub/sub.
 */
export interface RevocationList {
  revoke(id: string, until: number): Promise<void>;
  isRevoked(id: string): boolean;
  /** Records a revocation learned from elsewhere (the database at boot, another node), without telling anyone. */
  remember(id: string, until: number): void;
}

/** Where revocations outlive the process: the database. */
export interface RevocationStore {
  saveRevocation(id: string, until: number): Promise<void>;
  activeRevocations(now: number): Promise<{ id: string; until: number }[]>;
  pruneRevocations(now: number): Promise<number>;
}

/**
 * Makes a revocation list survive restarts: each revocation is written to the database before it takes effect in
 * memory (a revoke that cannot be made durable fails, rather than lasting only until the next restart), and a
 * starting node loads every revocation still in force.
 */
export class DurableRevocationList implements RevocationList {
  constructor(
    private readonly inner: RevocationList,
    private readonly store: RevocationStore,
    private readonly clock: Clock,
  ) {}

  async load(): Promise<void> {
    await this.store.pruneRevocations(this.clock.now());
    await this.catchUp();
  }

  /** Adds to memory every revocation in force that the database holds, including those no one announced here. */
  async catchUp(): Promise<void> {
    for (const { id, until } of await this.store.activeRevocations(this.clock.now())) this.inner.remember(id, until);
  }

  /**
   * Catches up every `intervalMs` until the returned function is called. Nodes announce revocations through Redis;
   * one that revoked while Redis was unreachable saved the revocation but could not announce it, and without this
   * the other nodes would accept the credential until it expired on its own.
   */
  startCatchingUp(intervalMs: number, onError: (error: unknown) => void): () => void {
    const timer = setInterval(() => void this.catchUp().catch(onError), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  async revoke(id: string, until: number): Promise<void> {
    if (until <= this.clock.now()) return;
    await this.store.saveRevocation(id, until);
    await this.inner.revoke(id, until);
  }

  isRevoked(id: string): boolean {
    return this.inner.isRevoked(id);
  }

  remember(id: string, until: number): void {
    this.inner.remember(id, until);
  }
}

export class MemoryRevocationList implements RevocationList {
  private readonly revoked = new Map<string, number>();
  private nextSweep = 0;

  constructor(private readonly clock: Clock) {}

  async revoke(id: string, until: number): Promise<void> {
    this.remember(id, until);
  }

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
