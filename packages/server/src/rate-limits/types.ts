import type { RateClass } from '../http/principal.js';
import type { WindowSpec } from '../shared-state/counters.js';

/** Every class counts requests in a sliding window of one minute, in 60 one-second buckets. */
export const RATE_WINDOW: WindowSpec = { windowMs: 60_000, buckets: 60 };

/** Requests per minute for each class (`AIM_RATE_LIMIT_*`). */
export type ClassLimits = Record<RateClass, number>;

/** What one request counts against. */
export interface RateSubject {
  rateClass: RateClass;
  /** The user, key, client or address; never a secret. */
  key: string;
  limit: number;
}

/** The outcome of counting one request, with everything the response headers say. */
export interface RateDecision {
  allowed: boolean;
  rateClass: RateClass;
  limit: number;
  windowSeconds: number;
  remaining: number;
  /** Seconds until requests counted now start leaving the window (when refused: until one more is allowed). */
  resetSeconds: number;
  /** Seconds until a request is allowed again; only when refused. */
  retryAfterSeconds?: number;
}
