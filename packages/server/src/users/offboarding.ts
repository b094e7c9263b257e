import { ROLE_SCOPES, type Role } from '@aim/protocol';
import { AimError } from '../core/errors.js';
import type { OrgId, UserId } from '../core/ids.js';
import type { UserService } from './service.js';
import type { User } from './types.js';

type AdminActor = { type: 'user'; id: string };

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

/** What offboarding needs from the domains that hold a person's credentials. */
export interface CredentialHolders {
  /** Session and SDK token families (SessionService); access tokens of revoked families stop on every node. */
  sessions: {
    revokeAllForUser(
      user: User,
      reason: 'user_disabled' | 'user_deleted' | 'mfa_reset' | 'role_reduced',
      options: { kind?: 'session' | 'sdk'; actor?: AdminActor },
      meta: RequestMeta,
    ): Promise<number>;
  };
  /** API keys the user created (ApiKeyService). */
  apiKeys: { revokeAllCreatedBy(user: User, reason: string, actor: AdminActor, meta: RequestMeta): Promise<number> };
  /** The second factor (MfaService). */
  mfa: {
    resetByAdmin(user: User, actor: AdminActor, meta: { ip: string | null }): Promise<void>;
    enrolledInOrganization(orgId: OrgId): Promise<Set<UserId>>;
    isEnrolled(userId: UserId): Promise<boolean>;
  };
}

export interface UserStatus {
  user: User;
  mfaEnabled: boolean;
}

export interface Revoked {
  /** Session and SDK token families. */
  sessions: number;
  apiKeys: number;
}

/**
 * An admin cutting a person off (disable, delete) or letting them back in (enable, 2FA reset). The account change
 * commits first, so a failure halfway leaves the person unable to sign in; the revocations run after it and are
 * repeated by a retry (they are idempotent).
 */
export class UserOffboarding {
  constructor(
    private readonly users: UserService,
    private readonly holders: CredentialHolders,
  ) {}

  async list(orgId: OrgId): Promise<UserStatus[]> {
    const [users, enrolled] = await Promise.all([this.users.list(orgId), this.holders.mfa.enrolledInOrganization(orgId)]);
    return users.map((user) => ({ user, mfaEnabled: enrolled.has(user.id) }));
  }

  /**
   * A new role. Access tokens carry the scopes of the role they were issued under, and API keys the scopes granted
   * when they were made, so a role that loses any scope ends the person's sessions and SDK tokens and revokes the API
   * keys they created: nothing keeps the old rights for the rest of a token's life. A promotion ends nothing.
   */
  async changeRole(orgId: OrgId, id: UserId, role: Role, actor: AdminActor, meta: RequestMeta): Promise<{ user: User; revoked: Revoked }> {
    // The role it had is read in the change's own transaction: one read earlier could miss a promotion in between.
    const { user, before } = await this.users.changeRole(orgId, id, role, actor);
    const kept = new Set<string>(ROLE_SCOPES[role]);
    if (ROLE_SCOPES[before].every((scope) => kept.has(scope))) return { user, revoked: { sessions: 0, apiKeys: 0 } };
    return { user, revoked: await this.revokeEverything(user, 'role_reduced', actor, meta) };
  }

  /** Login answers as for a wrong password; every session, SDK token and API key of the user stops now. */
  async disable(orgId: OrgId, id: UserId, actor: AdminActor, meta: RequestMeta): Promise<{ status: UserStatus; revoked: Revoked }> {
    notSelf(id, actor, 'disable');
    const { user } = await this.users.setDisabled(orgId, id, true, actor, meta.ip);
    const revoked = await this.revokeEverything(user, 'user_disabled', actor, meta);
    return { status: await this.statusOf(user), revoked };
  }

  /** Login works again; credentials revoked when the user was disabled stay revoked. */
  async enable(orgId: OrgId, id: UserId, actor: AdminActor, meta: RequestMeta): Promise<UserStatus> {
    const { user } = await this.users.setDisabled(orgId, id, false, actor, meta.ip);
    return this.statusOf(user);
  }

  /**
   * Disables (so a failure later leaves the account shut), revokes every credential, then deletes: the email can be
   * used again, and audit entries keep the user's id.
   */
  async remove(orgId: OrgId, id: UserId, actor: AdminActor, meta: RequestMeta): Promise<Revoked> {
    notSelf(id, actor, 'delete');
    const { user } = await this.users.setDisabled(orgId, id, true, actor, meta.ip);
    const revoked = await this.revokeEverything(user, 'user_deleted', actor, meta);
    await this.users.remove(orgId, id, actor, meta.ip);
    return revoked;
  }

  /** Removes another user's TOTP and recovery codes and ends their sessions, so they enrol again at next sign-in. */
  async resetMfa(orgId: OrgId, id: UserId, actor: AdminActor, meta: RequestMeta): Promise<UserStatus> {
    if (id === actor.id) {
      throw new AimError('conflict', 'you cannot reset your own two-factor authentication; turn it off with a code (POST /api/v1/auth/mfa/totp/disable)');
    }
    const user = await this.users.getInOrganization(orgId, id);
    await this.holders.mfa.resetByAdmin(user, actor, meta);
    await this.holders.sessions.revokeAllForUser(user, 'mfa_reset', { kind: 'session', actor }, meta);
    return { user, mfaEnabled: false };
  }

  private async revokeEverything(user: User, reason: 'user_disabled' | 'user_deleted' | 'role_reduced', actor: AdminActor, meta: RequestMeta): Promise<Revoked> {
    const sessions = await this.holders.sessions.revokeAllForUser(user, reason, { actor }, meta);
    const apiKeys = await this.holders.apiKeys.revokeAllCreatedBy(user, reason, actor, meta);
    return { sessions, apiKeys };
  }

  private async statusOf(user: User): Promise<UserStatus> {
    return { user, mfaEnabled: await this.holders.mfa.isEnrolled(user.id) };
  }
}

function notSelf(id: UserId, actor: AdminActor, verb: string): void {
  if (id === actor.id) throw new AimError('conflict', `you cannot ${verb} your own account; ask another admin`);
}
