import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AimError, notFound } from '../core/errors.js';
import { sha256Hex } from '../core/hashing.js';
import type { OrgId, UserId } from '../core/ids.js';
import type { Random } from '../core/random.js';
import type { StoreHub } from '../storage/stores.js';
import type { Actor } from '../users/service.js';
import type { User } from '../users/types.js';
import { formatResetToken, resetUrl } from './reset-token.js';
import type { PasswordReset } from './store.js';

export interface IssuedReset {
  user: User;
  /** `pr_<id>.<secret>`: shown once, in the response that made it. */
  token: string;
  /** The web UI's page for it, with the token in the fragment. */
  url: string;
  expiresAt: number;
}

/**
 * Password reset links, for people who forgot their password. AIM sends no email: an admin (or the operator, with
 * `aim user reset-password --store`) makes a link and hands it over; `PasswordResetService` redeems it.
 */
export class ResetLinks {
  constructor(
    private readonly hub: StoreHub,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly options: { ttlMs: number; publicUrl: string },
  ) {}

  /**
   * Makes a link for a user of the organization, replacing any earlier one. Admins change their own password with
   * the current one instead, and a disabled account must be enabled first (its link would not work).
   */
  async issue(orgId: OrgId, userId: UserId, actor: Actor, ip: string | null): Promise<IssuedReset> {
    if (actor.type === 'user' && actor.id === userId) {
      throw new AimError('conflict', 'change your own password with POST /api/v1/auth/password');
    }
    const now = this.clock.now();
    const secret = this.random.bytes(32).toString('base64url');
    const reset: Omit<PasswordReset, 'userId' | 'organizationId'> = {
      id: this.random.uuid(),
      secretHash: sha256Hex(secret),
      createdBy: actor.type === 'user' ? (actor.id as UserId) : null,
      createdAt: now,
      expiresAt: now + this.options.ttlMs,
      usedAt: null,
    };
    const user = await this.hub.transaction(async (s) => {
      const user = await s.users.findInOrganization(orgId, userId);
      if (!user) throw notFound('user');
      // Read under the user's row lock, so a disable cannot commit between this check and the link (it would not
      // find the link to delete, and enabling the account later would bring the link back).
      if (!(await s.users.lockIfActive(user.id))) throw new AimError('conflict', 'the account is disabled; enable it first');
      await s.passwordResets.replacePasswordReset({ ...reset, userId: user.id, organizationId: orgId });
      await this.audit.withStore(s.audit).record({
        organizationId: orgId,
        event: 'user.password_reset_issued',
        actor,
        subject: { type: 'user', id: user.id },
        ip,
        data: { reset_id: reset.id, expires_at: reset.expiresAt },
      });
      return user;
    });
    const token = formatResetToken(reset.id, secret);
    return { user, token, url: resetUrl(this.options.publicUrl, token), expiresAt: reset.expiresAt };
  }
}
