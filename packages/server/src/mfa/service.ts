import type { AuditEvent } from '@aim/protocol';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditInput } from '../audit/types.js';
import type { Clock } from '../core/clock.js';
import { AimError } from '../core/errors.js';
import type { OrgId, UserId } from '../core/ids.js';
import type { SecretBox } from '../core/master-key.js';
import type { Random } from '../core/random.js';
import type { LoginThrottle, ThrottleKey } from '../rate-limits/index.js';
import type { LoginFailureListener, ReauthenticatedStep, SecondFactor, SignInProof } from '../sessions/service.js';
import type { StoreHub } from '../storage/stores.js';
import type { User } from '../users/types.js';
import { RECOVERY_CODE_COUNT, formatRecoveryCode, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';
import { TOTP_CODE, TOTP_SECRET_BYTES, base32Secret, matchStep, otpauthUrl } from './totp.js';
import type { FactorMethod, NewRecoveryCode, TotpFactor, TotpSetup } from './types.js';

export interface RequestMeta {
  ip: string | null;
}

/** The check that the person enrolling signed in with their password recently (SessionService). */
export interface RecentSignIn {
  requireRecentSignIn(user: User, proof: SignInProof, ip: string | null, step: ReauthenticatedStep): Promise<void>;
}

/**
 * TOTP two-factor authentication (RFC 6238) with one-time recovery codes. Secrets are sealed with the master key,
 * bound to their user; codes are accepted at most once, by conditional updates in the store.
 */
export class MfaService implements SecondFactor {
  private throttle: LoginThrottle | undefined;
  private readonly failureListeners: LoginFailureListener[] = [];

  constructor(
    private readonly hub: StoreHub,
    private readonly audit: AuditLog,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly random: Random,
    /** Shown by authenticator apps next to the account name. */
    private readonly issuer: string,
    private readonly recentSignIn: RecentSignIn,
  ) {}

  /**
   * Codes at enable and disable count against the same per-user second-factor key as codes at sign-in (429
   * `rate_limited` with Retry-After): a stolen access token is no unlimited oracle for them.
   */
  useThrottle(throttle: LoginThrottle): void {
    this.throttle = throttle;
  }

  /** Wrong codes at enable or disable (the `failed_logins` alert counts them with failed sign-ins). */
  onFailure(listener: LoginFailureListener): void {
    this.failureListeners.push(listener);
  }

  async isEnrolled(userId: UserId): Promise<boolean> {
    return (await this.hub.mfa.findTotp(userId))?.enabledAt != null;
  }

  /**
   * Starts (or restarts) enrolment: a new secret, pending until a code from it is given to `enable`. Setup and enable
   * both need a recent password sign-in (or the password): with only a stolen access token, enrolling a factor of
   * the thief's would lock the owner out of an account that had none.
   */
  async setup(userId: UserId, proof: SignInProof, meta: RequestMeta): Promise<TotpSetup> {
    const user = await this.userOf(userId);
    await this.recentSignIn.requireRecentSignIn(user, proof, meta.ip, 'totp_setup');
    const secret = base32Secret(this.random.bytes(TOTP_SECRET_BYTES));
    const sealed = this.box.seal(secret, purpose(user.id));
    await this.hub.transaction(async (s) => {
      if (!(await s.mfa.savePendingTotp(user.id, sealed, this.clock.now()))) {
        throw new AimError('conflict', 'two-factor authentication is already on; disable it first to set up a new authenticator');
      }
      await this.audit.withStore(s.audit).record(ownFactorEvent(user, 'mfa.totp_setup_started', meta));
    });
    return { secret, otpauthUrl: otpauthUrl(secret, this.issuer, user.email) };
  }

  /** Turns the pending factor on with a code from it; answers the recovery codes, which are never shown again. */
  async enable(userId: UserId, code: string, proof: SignInProof, meta: RequestMeta): Promise<string[]> {
    const user = await this.userOf(userId);
    await this.recentSignIn.requireRecentSignIn(user, proof, meta.ip, 'totp_enable');
    const factor = await this.hub.mfa.findTotp(user.id);
    if (!factor || factor.enabledAt !== null) {
      throw new AimError('conflict', factor ? 'two-factor authentication is already on' : 'start with POST /api/v1/auth/mfa/totp/setup');
    }
    const keys = await this.checkThrottle(user, 'enable', meta);
    const step = matchStep(this.open(factor), code.trim(), this.clock.now(), factor.lastUsedStep);
    if (step === undefined) {
      await this.wrongCode(user, 'enable', keys, meta);
      throw new AimError('invalid_credentials', 'the code is wrong; check the time on your device');
    }
    await this.throttle?.success(keys);
    const { shown: codes, records } = this.newRecoveryCodes();
    await this.hub.transaction(async (s) => {
      // The secret the code came from: a setup since then replaced it, and the code proves nothing about the new one.
      if (!(await s.mfa.enableTotp(user.id, factor.secretSealed, step, records, this.clock.now()))) {
        throw new AimError('conflict', 'two-factor authentication was turned on or set up again by another request; start over');
      }
      await this.audit.withStore(s.audit).record(ownFactorEvent(user, 'mfa.totp_enabled', meta, { recovery_codes: codes.length }));
    });
    return codes;
  }

  /** Turns the factor off; needs a current TOTP code or an unused recovery code, which it uses up. */
  async disable(userId: UserId, code: string, meta: RequestMeta): Promise<void> {
    const user = await this.userOf(userId);
    const factor = await this.hub.mfa.findTotp(user.id);
    if (!factor || factor.enabledAt === null) throw new AimError('conflict', 'two-factor authentication is not on');
    const keys = await this.checkThrottle(user, 'disable', meta);
    const method = await this.check(user, factor, code, meta);
    if (!method) {
      await this.wrongCode(user, 'disable', keys, meta);
      throw new AimError('invalid_credentials', 'the code is wrong or was already used');
    }
    await this.throttle?.success(keys);
    await this.hub.transaction(async (s) => {
      if (!(await s.mfa.deleteTotp(user.id))) return;
      await this.audit.withStore(s.audit).record(ownFactorEvent(user, 'mfa.totp_disabled', meta, { method }));
    });
  }

  /**
   * Ten new recovery codes for a user whose authenticator still works, proved by a current TOTP code (a recovery
   * code is not accepted: losing the codes is the reason to ask). The old codes stop working in the same step.
   */
  async regenerateRecoveryCodes(userId: UserId, code: string, meta: RequestMeta): Promise<string[]> {
    const user = await this.userOf(userId);
    const factor = await this.hub.mfa.findTotp(user.id);
    if (!factor || factor.enabledAt === null) throw new AimError('conflict', 'two-factor authentication is not on');
    const keys = await this.checkThrottle(user, 'regenerate_recovery_codes', meta);
    const compact = code.replace(/\s/g, '');
    if (!TOTP_CODE.test(compact) || (await this.check(user, factor, compact, meta)) !== 'totp') {
      await this.wrongCode(user, 'regenerate_recovery_codes', keys, meta);
      throw new AimError('invalid_credentials', 'the code is wrong or was already used; give a current code from your authenticator');
    }
    await this.throttle?.success(keys);
    const codes = this.newRecoveryCodes();
    await this.hub.transaction(async (s) => {
      if (!(await s.mfa.replaceRecoveryCodes(user.id, codes.records, this.clock.now()))) {
        throw new AimError('conflict', 'two-factor authentication was turned off by another request');
      }
      await this.audit.withStore(s.audit).record(ownFactorEvent(user, 'mfa.recovery_codes_regenerated', meta, { recovery_codes: codes.shown.length }));
    });
    return codes.shown;
  }

  /**
   * An admin removes another user's factor and recovery codes (lost authenticator), so they can enrol again.
   * Revoking the user's sessions is the caller's next step.
   */
  async resetByAdmin(user: User, actor: { type: 'user'; id: string }, meta: RequestMeta): Promise<void> {
    await this.hub.transaction(async (s) => {
      if (!(await s.mfa.removeAllFactors(user.id))) throw new AimError('conflict', 'this user has no two-factor authentication to reset');
      await this.audit.withStore(s.audit).record({
        organizationId: user.organizationId,
        event: 'mfa.reset_by_admin',
        actor,
        subject: { type: 'user', id: user.id },
        ip: meta.ip,
      });
    });
  }

  /** The users of an organization who have 2FA on. */
  enrolledInOrganization(orgId: OrgId): Promise<Set<UserId>> {
    return this.hub.mfa.enrolledInOrganization(orgId);
  }

  /**
   * The login check (SessionService, which throttles it): a TOTP code or a recovery code, each accepted at most once.
   * A wrong one is audited as `mfa.verification_failed` (during `login`) in the user's organization.
   */
  async verify(user: User, code: string, ip: string | null): Promise<boolean> {
    const factor = await this.hub.mfa.findTotp(user.id);
    if (!factor || factor.enabledAt === null) return false;
    const ok = (await this.check(user, factor, code, { ip })) !== undefined;
    if (!ok) await this.recordFailure(user, 'login', 'invalid_code', { ip });
    return ok;
  }

  private async check(user: User, factor: TotpFactor, code: string, meta: RequestMeta): Promise<FactorMethod | undefined> {
    const compact = code.replace(/\s/g, '');
    if (TOTP_CODE.test(compact)) {
      const step = matchStep(this.open(factor), compact, this.clock.now(), factor.lastUsedStep);
      // The store moves last_used_step forward only to a newer step: a replayed or raced code loses here.
      return step !== undefined && (await this.hub.mfa.useTotpStep(user.id, step)) ? 'totp' : undefined;
    }
    const normalized = normalizeRecoveryCode(code);
    if (!normalized) return undefined;
    const used = await this.hub.transaction(async (s) => {
      if (!(await s.mfa.consumeRecoveryCode(user.id, hashRecoveryCode(normalized), this.clock.now()))) return false;
      await this.audit.withStore(s.audit).record(ownFactorEvent(user, 'mfa.recovery_code_used', meta, { remaining: await s.mfa.countUnusedRecoveryCodes(user.id) }));
      return true;
    });
    return used ? 'recovery_code' : undefined;
  }

  private async userOf(userId: UserId): Promise<User> {
    const user = await this.hub.users.findById(userId);
    if (!user || user.disabledAt !== null) throw new AimError('invalid_token', 'the account no longer exists');
    return user;
  }

  /** Codes to show once, and the hashes to store. */
  private newRecoveryCodes(): { shown: string[]; records: NewRecoveryCode[] } {
    const shown = Array.from({ length: RECOVERY_CODE_COUNT }, () => formatRecoveryCode(this.random.bytes(10)));
    return { shown, records: shown.map((c) => ({ id: this.random.uuid(), codeHash: hashRecoveryCode(normalizeRecoveryCode(c)!) })) };
  }

  private open(factor: TotpFactor): string {
    return this.box.open(factor.secretSealed, purpose(factor.userId));
  }

  private async checkThrottle(user: User, during: Guarded, meta: RequestMeta): Promise<ThrottleKey[]> {
    const keys = this.throttle?.totpKeys(user.id) ?? [];
    await this.throttle?.check(keys, () => this.recordFailure(user, during, 'throttled', meta));
    return keys;
  }

  private async wrongCode(user: User, during: Guarded, keys: ThrottleKey[], meta: RequestMeta): Promise<void> {
    await this.throttle?.failure(keys);
    const failure = { email: user.email, ip: meta.ip, reason: 'invalid_totp' as const, user };
    await Promise.allSettled(this.failureListeners.map(async (listener) => listener(failure)));
    await this.recordFailure(user, during, 'invalid_code', meta);
  }

  private async recordFailure(user: User, during: Guarded | 'login', reason: 'invalid_code' | 'throttled', meta: RequestMeta): Promise<void> {
    await this.audit.record(ownFactorEvent(user, 'mfa.verification_failed', meta, { during, reason }));
  }
}

/** An entry of the user's own second factor: they act on themselves, from the request's address. */
function ownFactorEvent(user: User, event: AuditEvent, meta: RequestMeta, data?: Record<string, unknown>): AuditInput {
  const self = { type: 'user', id: user.id } as const;
  return { organizationId: user.organizationId, event, actor: self, subject: self, ip: meta.ip, ...(data && { data }) };
}

/** The routes that check a TOTP code outside login, throttled per user like the login's second factor. */
type Guarded = 'enable' | 'disable' | 'regenerate_recovery_codes';

/** The sealed secret is bound to its user: copied into another user's row it does not open. */
/** The associated data of a sealed TOTP secret: bound to its user. */
export function purpose(userId: string): string {
  return `aim.mfa.totp-secret:${userId}`;
}
