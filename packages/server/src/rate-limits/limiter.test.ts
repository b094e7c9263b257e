import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, rateLimitHeaders } from './limiter.js';
import { RATE_WINDOW, type RateSubject } from './types.js';

const subject: RateSubject = { rateClass: 'jwt', key: 'user:1', limit: 5 };
/** Bucket index of a time, in the one-second buckets of the minute window. */
const B = 1_800_000_000;
const at = (seconds: number, ms = 0) => (B + seconds) * 1000 + ms;

describe('what the rate-limit headers say', () => {
  it('allowed: remaining quota, and seconds until the oldest counted requests leave the window', () => {
    const d = decide({ allowed: true, count: 3, buckets: [[B, 2], [B + 10, 1]] }, subject, RATE_WINDOW, at(10, 400));
    assert.deepEqual(d, { allowed: true, rateClass: 'jwt', limit: 5, windowSeconds: 60, remaining: 2, resetSeconds: 50 });
  });

  it('refused: Retry-After is when enough of the oldest requests have left for one more', () => {
    const d = decide({ allowed: false, count: 5, buckets: [[B, 1], [B + 5, 3], [B + 30, 1]] }, subject, RATE_WINDOW, at(40));
    assert.equal(d.allowed, false);
    assert.equal(d.remaining, 0);
    assert.equal(d.retryAfterSeconds, 20, 'the single request at B leaves at B+60');
    assert.equal(d.resetSeconds, 20);
  });

  it('refused after the limit was lowered: waits until the count is under the new limit', () => {
    const d = decide({ allowed: false, count: 9, buckets: [[B, 2], [B + 5, 3], [B + 30, 4]] }, subject, RATE_WINDOW, at(40));
    assert.equal(d.retryAfterSeconds, 25, 'both oldest buckets must leave: 9 - 2 - 3 = 4 < 5');
  });

  it('never says 0 seconds: a partial second rounds up', () => {
    const d = decide({ allowed: false, count: 5, buckets: [[B, 5]] }, subject, RATE_WINDOW, at(59, 999));
    assert.equal(d.retryAfterSeconds, 1);
  });

  it('formats the fields of draft-ietf-httpapi-ratelimit-headers and the classic trio', () => {
    const d = decide({ allowed: true, count: 1, buckets: [[B, 1]] }, { rateClass: 'api_key', key: 'k', limit: 5000 }, RATE_WINDOW, at(0));
    assert.deepEqual(rateLimitHeaders(d), {
      'ratelimit-limit': '5000',
      'ratelimit-remaining': '4999',
      'ratelimit-reset': '60',
      'ratelimit-policy': '"api_key";q=5000;w=60',
      ratelimit: '"api_key";r=4999;t=60',
    });
  });
});
