/**
 * The shared state rate limiting needs: sliding-window hit counters, attempt counters with growing waits, and
 * expiring flags. Two implementations pass one contract suite (`counters.test.ts`): in memory (one node) and in
 * Redis (every node), where each operation is one Lua script, so it is atomic across nodes.
 *
 * Time is always passed in (`now`, milliseconds): windows, waits and expiry follow the caller's clock, never the
 * store's, so tests move time by hand and Redis key TTLs only collect garbage.
 */

/** A sliding window counted in `buckets` equal sub-windows: it slides one bucket (`windowMs / buckets`) at a time. */
export interface WindowSpec {
  windowMs: number;
  buckets: number;
}

export interface WindowHit {
  /** False when the window already held `limit` hits; a refused hit is not counted. */
  allowed: boolean;
  /** Hits in the window, this one included when it was allowed. */
  count: number;
  /** The window's non-empty buckets, oldest first, as `[bucket index, hits]`; index = floor(time / bucket length). */
  buckets: Array<[number, number]>;
}

/** How waits grow for an attempt key (login throttling). */
export interface BackoffPolicy {
  /** Attempts allowed without any wait. */
  free: number;
  /** The wait after the `free`-th attempt; it doubles with each further attempt. */
  baseMs: number;
  /** The longest wait. */
  capMs: number;
  /** A key left alone this long (since its last attempt) starts over from zero. */
  forgetMs: number;
}

export interface AttemptKey {
  key: string;
  policy: BackoffPolicy;
}

export interface AttemptOutcome {
  /** False while any key must still wait; nothing was counted then. */
  allowed: boolean;
  /** How long until every key allows an attempt again (0 when allowed). */
  waitMs: number;
  /** Attempts per key, in the order given, after this one when it was allowed. */
  counts: number[];
}

export interface SharedCounters {
  /**
   * Counts one hit for `key` if the window holds fewer than `limit` hits. Check and count are one atomic step per key,
   * on every node sharing the store: of any number of concurrent hits, exactly `limit - count` are allowed.
   */
  hitWindow(key: string, limit: number, window: WindowSpec, now: number): Promise<WindowHit>;
  /**
   * Starts an attempt against all `keys` at once: refused while any key still has to wait, otherwise counted on every
   * key. Atomic across the keys and across nodes, so a concurrent burst cannot slip in before its attempts are counted.
   */
  beginAttempt(keys: AttemptKey[], now: number): Promise<AttemptOutcome>;
  /** Takes attempts back: `reset` forgets the key, `one` removes a single attempt (never below zero). */
  forgiveAttempt(keys: Array<{ key: string; mode: 'reset' | 'one' }>): Promise<void>;
  /** Attempt counts as they stand, in the order given (0 for unknown or forgotten keys). */
  attemptCounts(keys: AttemptKey[], now: number): Promise<number[]>;
  /** Sets a flag that reads as set until `now + ttlMs`. */
  setFlag(key: string, ttlMs: number, now: number): Promise<void>;
  hasFlag(key: string, now: number): Promise<boolean>;
}

/** The wait owed after `count` attempts: none within the free ones, then base, 2 × base, 4 × base … up to the cap. */
export function backoffDelayMs(count: number, policy: BackoffPolicy): number {
  if (count < policy.free) return 0;
  return Math.min(policy.baseMs * 2 ** Math.min(count - policy.free, 40), policy.capMs);
}

export function bucketMs(window: WindowSpec): number {
  return window.windowMs / window.buckets;
}

/** Entries kept per map before the least recently used are dropped: a flood of new keys cannot exhaust memory. */
const MAX_ENTRIES = 200_000;
const SWEEP_EVERY_MS = 60_000;

interface WindowEntry {
  buckets: Map<number, number>;
  /** When every bucket has left the window. */
  expiresAt: number;
}

interface AttemptEntry {
  count: number;
  last: number;
  forgetMs: number;
}

/**
 * Counters in this process's memory: the default for a single node, and the fallback of every node while Redis is
 * unreachable. JavaScript runs each call to completion, so every operation is atomic without locks.
 */
export class MemoryCounters implements SharedCounters {
  private readonly windows = new Map<string, WindowEntry>();
  private readonly attempts = new Map<string, AttemptEntry>();
  private readonly flags = new Map<string, number>();
  private nextSweep = 0;

  constructor(private readonly maxEntries = MAX_ENTRIES) {}

  async hitWindow(key: string, limit: number, window: WindowSpec, now: number): Promise<WindowHit> {
    this.sweep(now);
    const size = bucketMs(window);
    const current = Math.floor(now / size);
    const oldest = current - window.buckets + 1;
    const entry = this.windows.get(key) ?? { buckets: new Map<number, number>(), expiresAt: 0 };
    let count = 0;
    for (const [bucket, hits] of entry.buckets) {
      if (bucket < oldest) entry.buckets.delete(bucket);
      else count += hits;
    }
    const allowed = count < limit;
    if (allowed) {
      entry.buckets.set(current, (entry.buckets.get(current) ?? 0) + 1);
      entry.expiresAt = (current + window.buckets) * size;
      count += 1;
    }
    if (entry.buckets.size > 0) touch(this.windows, key, entry, this.maxEntries);
    else this.windows.delete(key);
    const buckets = [...entry.buckets.entries()].sort((a, b) => a[0] - b[0]);
    return { allowed, count, buckets };
  }

  async beginAttempt(keys: AttemptKey[], now: number): Promise<AttemptOutcome> {
    this.sweep(now);
    const current = keys.map(({ key, policy }) => this.liveAttempt(key, now) ?? { count: 0, last: 0, forgetMs: policy.forgetMs });
    let waitMs = 0;
    keys.forEach(({ policy }, i) => {
      const { count, last } = current[i]!;
      waitMs = Math.max(waitMs, last + backoffDelayMs(count, policy) - now);
    });
    if (waitMs > 0) return { allowed: false, waitMs, counts: current.map((c) => c.count) };
    const counts = keys.map(({ key, policy }, i) => {
      const entry = { count: current[i]!.count + 1, last: now, forgetMs: policy.forgetMs };
      touch(this.attempts, key, entry, this.maxEntries);
      return entry.count;
    });
    return { allowed: true, waitMs: 0, counts };
  }

  async forgiveAttempt(keys: Array<{ key: string; mode: 'reset' | 'one' }>): Promise<void> {
    for (const { key, mode } of keys) {
      const entry = this.attempts.get(key);
      if (!entry) continue;
      if (mode === 'reset' || entry.count <= 1) this.attempts.delete(key);
      else entry.count -= 1;
    }
  }

  async attemptCounts(keys: AttemptKey[], now: number): Promise<number[]> {
    return keys.map(({ key }) => this.liveAttempt(key, now)?.count ?? 0);
  }

  async setFlag(key: string, ttlMs: number, now: number): Promise<void> {
    this.sweep(now);
    touch(this.flags, key, now + ttlMs, this.maxEntries);
  }

  async hasFlag(key: string, now: number): Promise<boolean> {
    const until = this.flags.get(key);
    return until !== undefined && until > now;
  }

  private liveAttempt(key: string, now: number): AttemptEntry | undefined {
    const entry = this.attempts.get(key);
    return entry && now - entry.last < entry.forgetMs ? entry : undefined;
  }

  /** Drops what has expired, at most once a minute of the caller's time. */
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + SWEEP_EVERY_MS;
    for (const [key, entry] of this.windows) if (entry.expiresAt <= now) this.windows.delete(key);
    for (const [key, entry] of this.attempts) if (now - entry.last >= entry.forgetMs) this.attempts.delete(key);
    for (const [key, until] of this.flags) if (until <= now) this.flags.delete(key);
  }
}

/** Stores `value` as the most recently used entry, dropping the least recently used beyond `max`. */
function touch<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size <= max) return;
  const oldest = map.keys().next();
  if (!oldest.done) map.delete(oldest.value);
}
