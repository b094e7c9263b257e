import type { FamilyId, UserId } from '../core/ids.js';
import type { FamilyKind, NewRefreshToken, RefreshFamily, RevokeReason, RotateOutcome } from './types.js';

export interface RotateRequest {
  tokenId: string;
  secretHash: string;
  /** A token of another kind (an SDK token at the session endpoint) is `invalid` and left untouched. */
  kind: FamilyKind;
  now: number;
  reuseGraceMs: number;
  next: NewRefreshToken;
  ip: string | null;
  userAgent: string | null;
}

export interface RefreshTokenStore {
  createFamily(family: RefreshFamily, first: NewRefreshToken): Promise<void>;
  /**
   * Compare-and-swap rotation: marks the presented token used and stores its successor in one step.
   * Of any number of concurrent calls with one token, on any node, exactly one gets `rotated`;
   * the others get `reused` and the family is revoked. Call inside a transaction so the revocation
   * commits together with its audit entry.
   *
   * With `reuseGraceMs` above 0, a token rotated at most that long ago whose successor is still unused is a client
   * retrying after a lost response: the unused successor is retired (presenting it later is reuse) and `next`
   * replaces it. A successor retired this way never gets the grace itself.
   */
  rotateRefreshToken(input: RotateRequest): Promise<RotateOutcome>;
  /** A presented token and its family, when its secret matches; never changes anything. */
  findRefreshToken(
    tokenId: string,
    secretHash: string,
  ): Promise<{ family: RefreshFamily; createdAt: number; expiresAt: number; usedAt: number | null } | undefined>;
  findFamily(id: FamilyId): Promise<RefreshFamily | undefined>;
  /** Newest first; with `liveAt`, only families neither revoked nor expired at that time. */
  listFamilies(userId: UserId, kind: FamilyKind, options?: { liveAt?: number }): Promise<RefreshFamily[]>;
  /**
   * Records that the person proved their password again in this live session (`auth_time`, kept by later refreshes);
   * answers whether the family was a live session of that user.
   */
  markSignedIn(id: FamilyId, userId: UserId, at: number): Promise<boolean>;
  /** Revokes one family; answers whether this call revoked it (false when it already was). */
  revokeFamily(id: FamilyId, reason: RevokeReason, now: number): Promise<boolean>;
  /** Revokes every live family of a user (optionally of one kind, optionally sparing one); answers their ids. */
  revokeUserFamilies(
    userId: UserId,
    reason: RevokeReason,
    now: number,
    options?: { kind?: FamilyKind; except?: FamilyId },
  ): Promise<FamilyId[]>;
}
