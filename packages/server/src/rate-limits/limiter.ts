import type { Clock } from '../core/clock.js';
import type { Principal } from '../http/principal.js';
import { bucketMs, type SharedCounters, type WindowHit, type WindowSpec } from '../shared-state/counters.js';
import { addressKey } from './address.js';
import { RATE_WINDOW, type ClassLimits, type RateDecision, type RateSubject } from './types.js';

/**
 * Request limits per principal and class, over a sliding window (see `RATE_WINDOW`): a request is allowed when the
 * last 60 seconds, counted in one-second buckets, hold fewer requests than the limit. Refused requests are not
 * counted, so a client that waits for `Retry-After` is served then, however hard it pushed before.
 */
export class RateLimiter {
  constructor(
    private readonly counters: SharedCounters,
    private readonly clock: Clock,
    private readonly limits: ClassLimits,
    private readonly window: WindowSpec = RATE_WINDOW,
  ) {}

  /** The user (JWT), the key (API key), the client (OAuth), or on public routes the client address. */
  subjectOf(principal: Principal | undefined, ip: string): RateSubject {
    if (!principal) return { rateClass: 'public', key: `ip:${addressKey(ip)}`, limit: this.limits.public };
    const classLimit = this.limits[principal.method];
    // A key's own limit may only be lower: one set before the class limit was lowered does not outrank it.
    const limit = principal.rateLimit === undefined ? classLimit : Math.min(principal.rateLimit, classLimit);
    return { rateClass: principal.method, key: principal.rateKey, limit };
  }

  async consume(subject: RateSubject): Promise<RateDecision> {
    const now = this.clock.now();
    const hit = await this.counters.hitWindow(`${subject.rateClass}:${subject.key}`, subject.limit, this.window, now);
    return decide(hit, subject, this.window, now);
  }
}

/** Turns a window's buckets into what the headers say. Exported for its unit tests. */
export function decide(hit: WindowHit, subject: RateSubject, window: WindowSpec, now: number): RateDecision {
  const size = bucketMs(window);
  const leavesAt = (bucket: number) => (bucket + window.buckets) * size;
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  const oldest = hit.buckets[0];
  const base = {
    rateClass: subject.rateClass,
    limit: subject.limit,
    windowSeconds: Math.round(window.windowMs / 1000),
    remaining: Math.max(0, subject.limit - hit.count),
  };
  if (hit.allowed) return { ...base, allowed: true, resetSeconds: seconds(oldest ? leavesAt(oldest[0]) - now : window.windowMs) };

  // The earliest time enough of the oldest buckets have left for one more request to fit.
  let count = hit.count;
  let freeAt = now + window.windowMs;
  for (const [bucket, hits] of hit.buckets) {
    count -= hits;
    if (count < subject.limit) {
      freeAt = leavesAt(bucket);
      break;
    }
  }
  const retryAfter = seconds(freeAt - now);
  return { ...base, allowed: false, resetSeconds: retryAfter, retryAfterSeconds: retryAfter };
}

/**
 * The response headers: the widely used `RateLimit-Limit`/`-Remaining`/`-Reset` trio, and the structured fields of
 * draft-ietf-httpapi-ratelimit-headers (`RateLimit-Policy: "<class>";q=<limit>;w=<window>`,
 * `RateLimit: "<class>";r=<remaining>;t=<reset>`).
 */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const policy = `"${decision.rateClass}"`;
  return {
    'ratelimit-limit': String(decision.limit),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': String(decision.resetSeconds),
    'ratelimit-policy': `${policy};q=${decision.limit};w=${decision.windowSeconds}`,
    ratelimit: `${policy};r=${decision.remaining};t=${decision.resetSeconds}`,
  };
}
