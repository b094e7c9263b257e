import { DAY, HOUR, MINUTE, SECOND, type Clock } from '../core/clock.js';
import { AimError } from '../core/errors.js';
import { sha256Hex } from '../core/hashing.js';
import type { AttemptKey, BackoffPolicy, SharedCounters, WindowSpec } from '../shared-state/counters.js';
import { addressKey } from './address.js';

/** What a credential check counts against. */
export type ThrottleKind = 'account' | 'address' | 'totp';

export interface ThrottleKey {
  kind: ThrottleKind;
  /** An account digest, an address, or a user id: never a secret, never a raw email. */
  id: string;
}

/**
 * Failed attempts allowed per key, then waits of 1 s, 2 s, 4 s … capped at 15 minutes; a key left alone for an hour
 * starts over. An address gets more free attempts than an account because many people can share one (offices, NAT).
 */
export const THROTTLE_POLICIES: Record<ThrottleKind, BackoffPolicy> = {
  account: { free: 5, baseMs: SECOND, capMs: 15 * MINUTE, forgetMs: HOUR },
  address: { free: 20, baseMs: SECOND, capMs: 15 * MINUTE, forgetMs: HOUR },
  totp: { free: 5, baseMs: SECOND, capMs: 15 * MINUTE, forgetMs: HOUR },
};

/** Refused attempts are reported (audited) at most once per key in this window. */
const REPORT_WINDOW: WindowSpec = { windowMs: MINUTE, buckets: 6 };

/** How long an address an account signed in from keeps its own account bucket. */
export const TRUSTED_ADDRESS_TTL = 30 * DAY;

/**
 * Slows credential guessing with growing waits per account, per address and per second factor, without ever locking
 * anyone out for good:
 *
 * - `check(keys)` before any password or code is verified: refuses with 429 `rate_limited` and `Retry-After` while a
 *   key still has to wait; otherwise it counts the attempt on every key at once, as a failure until told otherwise,
 *   so a concurrent burst cannot get past the free attempts before its failures are recorded.
 * - `failure(keys)` when the credential was wrong: the attempt stays counted; answers the counts.
 * - `success(keys)` when it was right: account and second-factor keys start over; an address only gets this one
 *   attempt back, so guessing at someone else's account cannot be laundered by signing in to one's own in between.
 *
 * An attacker can make one account wait at most 15 minutes between guesses, and only for as long as they keep
 * guessing. Addresses the account signed in from before (`trust`) count against an account bucket of their own, so
 * guesses from elsewhere do not make its owner wait at all.
 */
export class LoginThrottle {
  private readonly refusedListeners: Array<() => void> = [];

  constructor(
    private readonly counters: SharedCounters,
    private readonly clock: Clock,
  ) {}

  /** Hears of every refusal (metrics); must not throw. */
  onRefused(listener: () => void): void {
    this.refusedListeners.push(listener);
  }

  /** The keys a password sign-in counts against: the account, and the client address. */
  async loginKeys(email: string, ip: string): Promise<ThrottleKey[]> {
    const account = accountDigest(email);
    const address = addressKey(ip);
    const trusted = await this.counters.hasFlag(trustFlag(account, address), this.clock.now());
    return [
      { kind: 'account', id: trusted ? `${account}@${address}` : account },
      { kind: 'address', id: address },
    ];
  }

  /** The keys a TOTP or recovery code check counts against. */
  totpKeys(userId: string): ThrottleKey[] {
    return [{ kind: 'totp', id: userId }];
  }

  /**
   * `onRefused` (to audit the refusal) runs for at most one refusal per first key and minute, so a flood of refused
   * guesses cannot turn into a flood of audit writes. Its errors are ignored.
   */
  async check(keys: ThrottleKey[], onRefused?: (retryAfter: number) => Promise<void>): Promise<void> {
    if (keys.length === 0) return;
    const now = this.clock.now();
    const outcome = await this.counters.beginAttempt(keys.map(attemptKey), now);
    if (outcome.allowed) return;
    const retryAfter = Math.max(1, Math.ceil(outcome.waitMs / 1000));
    for (const listener of this.refusedListeners) listener();
    const [first] = keys;
    if (onRefused && first) {
      const report = await this.counters.hitWindow(`login:refusal-reported:${first.kind}:${first.id}`, 1, REPORT_WINDOW, now);
      // The 429 is the answer whatever happens to its report.
      if (report.allowed) await onRefused(retryAfter).catch(() => undefined);
    }
    throw new AimError('rate_limited', `too many failed attempts; retry in ${retryAfter} s`, { headers: { 'retry-after': String(retryAfter) } });
  }

  async failure(keys: ThrottleKey[]): Promise<number[]> {
    if (keys.length === 0) return [];
    return this.counters.attemptCounts(keys.map(attemptKey), this.clock.now());
  }

  async success(keys: ThrottleKey[]): Promise<void> {
    await this.counters.forgiveAttempt(keys.map((k) => ({ key: attemptKey(k).key, mode: k.kind === 'address' ? 'one' : 'reset' })));
  }

  /** Remembers that this account signed in from this address (after a complete sign-in, second factor included). */
  async trust(email: string, ip: string): Promise<void> {
    await this.counters.setFlag(trustFlag(accountDigest(email), addressKey(ip)), TRUSTED_ADDRESS_TTL, this.clock.now());
  }
}

/** Emails stay out of Redis and memory dumps: accounts are counted by a digest of the normalized address. */
export function accountDigest(email: string): string {
  return sha256Hex(`aim.login:${email.trim().toLowerCase()}`).slice(0, 32);
}

function attemptKey(key: ThrottleKey): AttemptKey {
  return { key: `login:${key.kind}:${key.id}`, policy: THROTTLE_POLICIES[key.kind] };
}

function trustFlag(account: string, address: string): string {
  return `login:trusted:${account}@${address}`;
}
