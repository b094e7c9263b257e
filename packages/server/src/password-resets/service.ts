import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AimError } from '../core/errors.js';
import { constantTimeEqual, sha256Hex } from '../core/hashing.js';
import type { LoginThrottle, ThrottleKey } from '../rate-limits/login-throttle.js';
import { addressKey } from '../rate-limits/address.js';
import type { StoreHub, Stores } from '../storage/stores.js';
import type { FamilyId } from '../core/ids.js';
import type { PasswordHasher } from '../users/passwords.js';
import { checkPasswordPolicy } from '../users/service.js';
import type { User } from '../users/types.js';
import { parseResetToken } from './reset-token.js';
import type { PasswordReset } from './store.js';

interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

/** What ending a person's sessions takes (SessionService): revoked in the reset's transaction, stopped after it. */
interface Sessions {
  revokeAllForUserIn(s: Stores, user: User, reason: 'password_reset', options: { kind: 'session' }, meta: RequestMeta): Promise<FamilyId[]>;
  stopAccess(ids: FamilyId[]): Promise<void>;
}

type Failure = 'unknown' | 'invalid_secret' | 'expired' | 'used' | 'account_disabled' | 'issuer_not_admin';

const INVALID = 'the reset link is invalid, expired or already used; ask an admin for a new one';

/**
 * Using a password reset link (made by `ResetLinks`): it works once, before it expires, and only for an active
 * account; it sets the new password and ends every session of the user. It changes nothing else: the second
 * factor, SDK tokens and API keys stay as they were.
 */
export class PasswordResetService {
  constructor(
    private readonly hub: StoreHub,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly sessions: Sessions,
  ) {}

  /**
   * Sets a new password with a link. Every way a link can fail answers the same 400 `invalid_grant`, and counts
   * against the client address like a failed sign-in. Answers the user and how many sessions were ended.
   */
  async complete(token: string, newPassword: string, meta: RequestMeta): Promise<{ user: User; sessionsRevoked: number }> {
    checkPasswordPolicy(newPassword);
    const keys: ThrottleKey[] = meta.ip ? [{ kind: 'address', id: addressKey(meta.ip) }] : [];
    await this.throttle.check(keys);

    const parsed = parseResetToken(token);
    const reset = parsed && (await this.hub.passwordResets.findPasswordReset(parsed.id));
    const now = this.clock.now();
    if (!parsed || !reset) return this.refuse(keys, undefined, 'unknown', meta);
    const problem = checkLink(reset, parsed.secret, now);
    if (problem) return this.refuse(keys, reset, problem, meta);
    // With a good link in hand, the password is also checked against the person's own email (the link stays unused).
    const owner = await this.hub.users.findInOrganization(reset.organizationId, reset.userId);
    if (owner) checkPasswordPolicy(newPassword, owner.email);

    // Hash before the transaction: argon2 takes tens of milliseconds and must not hold a write lock.
    const passwordHash = await this.hasher.hash(newPassword);
    const outcome = await this.hub.transaction(async (s): Promise<{ user: User; revoked: FamilyId[] } | Failure> => {
      // The user's row first, locked for the update to come: every writer takes the user before what hangs off it
      // (disable, delete and password change then delete links), so none of them can deadlock with this one.
      const user = await s.users.findInOrganization(reset.organizationId, reset.userId);
      if (!user || !(await s.users.lockIfActive(user.id, 'update'))) return 'account_disabled';
      // A link is worth what its maker is worth now: one made by someone since disabled, deleted or no longer an
      // admin stops working (links made from the command line have no maker).
      if (reset.createdBy !== null) {
        const issuer = await s.users.findInOrganization(reset.organizationId, reset.createdBy);
        if (!issuer || issuer.disabledAt !== null || issuer.role !== 'admin') return 'issuer_not_admin';
      }
      // The conditional update decides between concurrent uses.
      if (!(await s.passwordResets.usePasswordReset(reset.id, now))) return 'used';
      await s.users.updatePassword(user.id, passwordHash, now);
      await this.audit.withStore(s.audit).record({
        organizationId: user.organizationId,
        event: 'user.password_reset',
        actor: { type: 'user', id: user.id },
        subject: { type: 'user', id: user.id },
        ip: meta.ip,
        data: { reset_id: reset.id, issued_by: reset.createdBy },
      });
      // Sessions end in the same transaction: a spent link always means they are gone.
      return { user, revoked: await this.sessions.revokeAllForUserIn(s, user, 'password_reset', { kind: 'session' }, meta) };
    });
    if (typeof outcome === 'string') return this.refuse(keys, reset, outcome, meta);

    await this.throttle.success(keys);
    await this.sessions.stopAccess(outcome.revoked);
    return { user: outcome.user, sessionsRevoked: outcome.revoked.length };
  }

  /** Counts the failure, audits it to the user's organization when the link names one, and answers 400. */
  private async refuse(keys: ThrottleKey[], reset: PasswordReset | undefined, reason: Failure, meta: RequestMeta): Promise<never> {
    await this.throttle.failure(keys);
    if (reset) {
      await this.audit.record({
        organizationId: reset.organizationId,
        event: 'user.password_reset_failed',
        actor: { type: 'anonymous' },
        subject: { type: 'user', id: reset.userId },
        ip: meta.ip,
        data: { reset_id: reset.id, reason },
      });
    }
    throw new AimError('invalid_grant', INVALID);
  }
}

/** Why a stored link cannot be used now, or undefined when it can. The secret is compared in constant time. */
function checkLink(reset: PasswordReset, secret: string, now: number): Failure | undefined {
  if (!constantTimeEqual(sha256Hex(secret), reset.secretHash)) return 'invalid_secret';
  if (reset.usedAt !== null) return 'used';
  if (reset.expiresAt <= now) return 'expired';
  return undefined;
}
