import { AimError } from '../core/errors.js';
import type { RateLimitHook } from '../http/app.js';
import type { Principal } from '../http/principal.js';
import { rateLimitHeaders, type RateLimiter } from './limiter.js';
import type { RateDecision } from './types.js';

export interface RateLimitEvents {
  /** A request was refused (alerts watch API keys that keep hitting their limit). Must not throw. */
  onRefused?(principal: Principal | undefined, decision: RateDecision): void;
}

/**
 * The hook `buildApp` runs on every limited route once the principal is known: it counts the request, puts the
 * limit headers on the response whatever its outcome, and refuses with 429 `rate_limited` and `Retry-After`.
 */
export function rateLimitHook(limiter: RateLimiter, events: RateLimitEvents = {}): RateLimitHook {
  return async (request, reply, principal) => {
    const decision = await limiter.consume(limiter.subjectOf(principal, request.ip));
    void reply.headers(rateLimitHeaders(decision));
    if (decision.allowed) return;
    events.onRefused?.(principal, decision);
    const retryAfter = String(decision.retryAfterSeconds ?? decision.resetSeconds);
    throw new AimError('rate_limited', `more than ${decision.limit} requests in ${decision.windowSeconds} s; retry in ${retryAfter} s`, {
      headers: { 'retry-after': retryAfter },
    });
  };
}
