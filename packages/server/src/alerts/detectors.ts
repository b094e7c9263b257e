import type { AuditLog } from '../audit/audit-log.js';
import { MINUTE, type Clock } from '../core/clock.js';
import type { Principal } from '../http/principal.js';
import { accountDigest, type RateDecision } from '../rate-limits/index.js';
import type { LoginFailure } from '../sessions/service.js';
import type { RefreshFamily } from '../sessions/types.js';
import type { SharedCounters, WindowSpec } from '../shared-state/counters.js';
import type { AlertService } from './service.js';
import type { RaiseAlertInput } from './types.js';

/** `failed_logins`: this many failed sign-ins for one account within the window (counted on every node). */
export const FAILED_LOGINS_THRESHOLD = 10;
export const FAILED_LOGINS_WINDOW: WindowSpec = { windowMs: 15 * MINUTE, buckets: 15 };
/** `api_key_rate_limited`: this many refused requests for one API key within one minute (on one node). */
export const API_KEY_REFUSALS_THRESHOLD = 10;

/**
 * Turns what other services observe into alerts: refresh and SDK token reuse, repeated failed sign-ins for one
 * account, API keys that keep hitting their limit, and (through `burst`) any other "too many in a short time" signal
 * such as invalid signatures or nonce replays. Each method is safe on a request path: it never throws.
 */
export class AlertDetectors {
  private readonly refusals = new Map<string, { minute: number; count: number; raised: boolean }>();

  constructor(
    private readonly alerts: AlertService,
    private readonly audit: AuditLog,
    private readonly counters: SharedCounters,
    private readonly clock: Clock,
    /** The account behind an email, for failures the sign-in could not attribute (a wrong password). */
    private readonly findUser: (email: string) => Promise<{ id: string; organizationId: string } | undefined>,
  ) {}

  /** For `sessions.onReuse`: the family is already revoked and audited. */
  async refreshTokenReused(family: RefreshFamily, ip: string | null): Promise<void> {
    await this.alerts.report({
      organizationId: family.organizationId,
      type: family.kind === 'session' ? 'refresh_token_reused' : 'sdk_token_reused',
      principal: { type: 'user', id: family.userId },
      evidence: {
        family_id: family.id,
        ...(family.name !== null && { name: family.name }),
        ip,
        family_created_at: family.createdAt,
        family_last_ip: family.lastIp,
        family_revoked: true,
      },
    });
  }

  /**
   * Counts one occurrence of something that only matters in numbers (an invalid signature, a replayed nonce) and
   * raises `type` for `principal` when the `threshold`-th occurs within `window`, counted across nodes. Occurrences
   * past the threshold are not counted, so a sustained burst raises (and groups) about once per bucket of the window,
   * not once per occurrence. Answers whether this occurrence raised the alert. Never throws.
   *
   * @example
   * await detectors.burst({ organizationId, type: 'invalid_signatures', principal: { type: 'agent', id: agentId },
   *   threshold: 20, window: { windowMs: 60_000, buckets: 12 }, evidence: { last_ip: ip, action } });
   */
  async burst(input: RaiseAlertInput & { threshold: number; window: WindowSpec; key?: string }): Promise<boolean> {
    const key = input.key ?? `${input.organizationId}:${input.principal.type}:${input.principal.id}`;
    const hit = await this.counters.hitWindow(`alert:${input.type}:${key}`, input.threshold, input.window, this.clock.now());
    if (!hit.allowed || hit.count < input.threshold) return false;
    await this.alerts.report({
      organizationId: input.organizationId,
      type: input.type,
      principal: input.principal,
      evidence: { ...input.evidence, occurrences: hit.count, window_seconds: input.window.windowMs / 1000 },
    });
    return true;
  }

  /**
   * For `sessions.onLoginFailure`: the threshold-th failed sign-in for one account within the window. Counted by the
   * email's digest, so guesses at an unknown email count too, but only an existing account gets an alert.
   */
  async loginFailed(failure: LoginFailure): Promise<void> {
    const hit = await this.counters.hitWindow(
      `alert:failed_logins:${accountDigest(failure.email)}`,
      FAILED_LOGINS_THRESHOLD,
      FAILED_LOGINS_WINDOW,
      this.clock.now(),
    );
    if (!hit.allowed || hit.count < FAILED_LOGINS_THRESHOLD) return;
    let user: { id: string; organizationId: string } | undefined = failure.user;
    try {
      user ??= await this.findUser(failure.email);
    } catch {
      return;
    }
    if (!user) return;
    await this.alerts.report({
      organizationId: user.organizationId,
      type: 'failed_logins',
      principal: { type: 'user', id: user.id },
      evidence: {
        failures: hit.count,
        window_seconds: FAILED_LOGINS_WINDOW.windowMs / 1000,
        last_ip: failure.ip,
        last_reason: failure.reason,
      },
    });
  }

  /** For the rate limiter's `onRefused`: API keys refused again and again within a minute. */
  rateLimited(principal: Principal | undefined, decision: RateDecision): void {
    if (principal?.method !== 'api_key') return;
    const keyId = principal.actor.id;
    const minute = Math.floor(this.clock.now() / MINUTE);
    let entry = this.refusals.get(keyId);
    if (!entry || entry.minute !== minute) {
      if (this.refusals.size > 10_000) for (const [k, e] of this.refusals) if (e.minute < minute) this.refusals.delete(k);
      entry = { minute, count: 0, raised: false };
      this.refusals.set(keyId, entry);
    }
    entry.count += 1;
    if (entry.raised || entry.count < API_KEY_REFUSALS_THRESHOLD) return;
    entry.raised = true;
    const evidence = { refused_in_minute: entry.count, limit: decision.limit, window_seconds: decision.windowSeconds };
    void this.audit
      .record({
        organizationId: principal.organizationId,
        event: 'api_key.rate_limited',
        actor: { type: 'api_key', id: keyId },
        subject: { type: 'api_key', id: keyId },
        data: evidence,
      })
      .catch(() => undefined);
    void this.alerts.report({ organizationId: principal.organizationId, type: 'api_key_rate_limited', principal: { type: 'api_key', id: keyId }, evidence });
  }
}
