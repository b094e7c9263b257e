import type { Logger } from 'pino';
import type { AttemptKey, AttemptOutcome, SharedCounters, WindowHit, WindowSpec } from './counters.js';
import type { RedisConnection } from './redis.js';

/** How often, at most, a degraded node tries Redis again while its connection claims to be up. */
const PROBE_INTERVAL_MS = 1000;

export interface SharedStateHealth {
  status: 'up' | 'degraded';
  detail: string;
}

/**
 * Redis counters that fall back to this node's memory when Redis cannot answer: limits then hold per node (each node
 * enforces the full limit on its own), never open the gates entirely and never turn into a 500. Each change between
 * shared and per-node mode is logged once, as a warning going down and as info coming back, and reported by
 * `health()` for `/health/ready`.
 *
 * While degraded it skips Redis entirely unless the connection is up again, and then probes it at most once a second,
 * so a dead or hung Redis costs requests nothing beyond that one probe.
 */
export class FailoverCounters implements SharedCounters {
  private degradedSince: number | undefined;
  private nextProbe = 0;

  constructor(
    private readonly primary: SharedCounters,
    private readonly fallback: SharedCounters,
    private readonly redis: RedisConnection,
    private readonly logger: Logger,
    /** Real time for probe pacing only; counting uses the `now` each call passes. */
    private readonly monotonicMs: () => number = () => performance.now(),
  ) {
    redis.onStateChange((ready) => {
      if (ready) this.recover();
      else this.degrade('connection lost');
    });
    if (!redis.isReady()) this.degrade('not connected');
  }

  hitWindow(key: string, limit: number, window: WindowSpec, now: number): Promise<WindowHit> {
    return this.run((c) => c.hitWindow(key, limit, window, now));
  }

  beginAttempt(keys: AttemptKey[], now: number): Promise<AttemptOutcome> {
    return this.run((c) => c.beginAttempt(keys, now));
  }

  forgiveAttempt(keys: Array<{ key: string; mode: 'reset' | 'one' }>): Promise<void> {
    return this.run((c) => c.forgiveAttempt(keys));
  }

  attemptCounts(keys: AttemptKey[], now: number): Promise<number[]> {
    return this.run((c) => c.attemptCounts(keys, now));
  }

  setFlag(key: string, ttlMs: number, now: number): Promise<void> {
    return this.run((c) => c.setFlag(key, ttlMs, now));
  }

  hasFlag(key: string, now: number): Promise<boolean> {
    return this.run((c) => c.hasFlag(key, now));
  }

  health(): SharedStateHealth {
    return this.degradedSince === undefined
      ? { status: 'up', detail: 'redis' }
      : { status: 'degraded', detail: 'redis unreachable: rate limits are per node' };
  }

  private async run<T>(op: (counters: SharedCounters) => Promise<T>): Promise<T> {
    if (this.degradedSince !== undefined) {
      const now = this.monotonicMs();
      if (!this.redis.isReady() || now < this.nextProbe) return op(this.fallback);
      this.nextProbe = now + PROBE_INTERVAL_MS;
    }
    try {
      const result = await op(this.primary);
      this.recover();
      return result;
    } catch (error) {
      this.degrade(error instanceof Error ? error.message : 'redis command failed');
      return op(this.fallback);
    }
  }

  private degrade(reason: string): void {
    if (this.degradedSince !== undefined) return;
    this.degradedSince = this.monotonicMs();
    this.nextProbe = this.degradedSince + PROBE_INTERVAL_MS;
    this.logger.warn({ reason: reason.slice(0, 200) }, 'redis unreachable: rate limits and login throttling fall back to per-node memory');
  }

  private recover(): void {
    if (this.degradedSince === undefined) return;
    const seconds = Math.round((this.monotonicMs() - this.degradedSince) / 1000);
    this.degradedSince = undefined;
    this.logger.info({ degradedForSeconds: seconds }, 'redis reachable again: rate limits are shared by every node');
  }
}
