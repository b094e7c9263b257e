export { addressKey } from './address.js';
export { rateLimitHook, type RateLimitEvents } from './hook.js';
export { RateLimiter, decide, rateLimitHeaders } from './limiter.js';
export { LoginThrottle, THROTTLE_POLICIES, TRUSTED_ADDRESS_TTL, accountDigest, type ThrottleKey, type ThrottleKind } from './login-throttle.js';
export { RATE_WINDOW, type ClassLimits, type RateDecision, type RateSubject } from './types.js';
