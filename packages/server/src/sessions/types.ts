import type { FamilyId, OrgId, UserId } from '../core/ids.js';

/** Session families are the web UI and human logins; sdk families are long-lived SDK credentials. */
export type FamilyKind = 'session' | 'sdk';

/** A chain of refresh tokens, each replacing the last; revoking the family stops every token in it. */
export interface RefreshFamily {
  id: FamilyId;
  kind: FamilyKind;
  organizationId: OrgId;
  userId: UserId;
  name: string | null;
  scopes: string[];
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  lastIp: string | null;
  userAgent: string | null;
  revokedAt: number | null;
  revokedReason: string | null;
  /**
   * When the person last proved their password for this family (ms): the sign-in that started a session. Null for
   * SDK token families. Unchanged by rotation, so a refreshed access token is no fresher proof than the first.
   */
  authTime: number | null;
}

export interface NewRefreshToken {
  id: string;
  secretHash: string;
  createdAt: number;
  expiresAt: number;
}

export type RotateOutcome =
  /** `retried`: the token had been rotated moments before and its successor was never used (a lost response). */
  | { kind: 'rotated'; family: RefreshFamily; retried: boolean }
  /** The token was already used: the family is now revoked (by this call or an earlier one). */
  | { kind: 'reused'; family: RefreshFamily }
  | { kind: 'revoked'; family: RefreshFamily }
  | { kind: 'expired' }
  | { kind: 'invalid' };

export type RevokeReason =
  | 'logout'
  | 'reuse_detected'
  | 'password_changed'
  | 'user_revoked'
  | 'admin_revoked'
  | 'oauth_revoke'
  | 'user_disabled'
  | 'user_deleted'
  | 'mfa_reset'
  | 'password_reset'
  | 'role_reduced';
