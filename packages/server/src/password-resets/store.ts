import type { OrgId, UserId } from '../core/ids.js';

/** A one-time password reset link, as stored: the secret only as its SHA-256. */
export interface PasswordReset {
  id: string;
  userId: UserId;
  organizationId: OrgId;
  secretHash: string;
  /** The admin who made it; null when made from the command line. */
  createdBy: UserId | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface PasswordResetStore {
  /** Stores a new link for the user, replacing the one they had (a user has at most one). */
  replacePasswordReset(reset: PasswordReset): Promise<void>;
  findPasswordReset(id: string): Promise<PasswordReset | undefined>;
  /**
   * Marks the link used, if it is unused and not expired at `now`, in one conditional update: of concurrent
   * requests presenting it, exactly one gets true.
   */
  usePasswordReset(id: string, now: number): Promise<boolean>;
  deletePasswordResets(userId: UserId): Promise<void>;
}
