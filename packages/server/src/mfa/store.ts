import type { OrgId, UserId } from '../core/ids.js';
import type { NewRecoveryCode, TotpFactor } from './types.js';

export interface MfaStore {
  findTotp(userId: UserId): Promise<TotpFactor | undefined>;
  /**
   * Stores a new pending secret, replacing an earlier pending one. Answers false, changing nothing, when the user
   * already has an enabled factor (one conditional upsert, so a concurrent enable cannot be overwritten).
   */
  savePendingTotp(userId: UserId, secretSealed: string, now: number): Promise<boolean>;
  /**
   * Enables the pending factor with the time step of the code that proved it, and replaces the recovery codes.
   * Of concurrent calls exactly one answers true (a conditional UPDATE on `enabled_at IS NULL`); `secretSealed` is
   * the pending secret the code was checked against, so a setup that replaced it meanwhile makes this answer false.
   */
  enableTotp(userId: UserId, secretSealed: string, step: number, recoveryCodes: NewRecoveryCode[], now: number): Promise<boolean>;
  /**
   * Accepts a time step at most once: moves `last_used_step` forward only if `step` is newer (a conditional
   * UPDATE), so of concurrent calls with one code, on any node, exactly one answers true.
   */
  useTotpStep(userId: UserId, step: number): Promise<boolean>;
  /** Marks one unused recovery code used; of concurrent calls with one code exactly one answers true. */
  consumeRecoveryCode(userId: UserId, codeHash: string, now: number): Promise<boolean>;
  countUnusedRecoveryCodes(userId: UserId): Promise<number>;
  /** Removes the factor and every recovery code; answers whether an enabled factor was removed. */
  deleteTotp(userId: UserId): Promise<boolean>;
  /** Removes the factor, pending or enabled, and every recovery code (admin reset, account deletion). */
  removeAllFactors(userId: UserId): Promise<boolean>;
  /**
   * Replaces every recovery code with new ones, only while the factor is enabled; old codes stop at once.
   * One transaction, so a concurrent login sees either the old set or the new one, never a mix or none.
   */
  replaceRecoveryCodes(userId: UserId, recoveryCodes: NewRecoveryCode[], now: number): Promise<boolean>;
  /** The users of an organization with an enabled factor (the users list shows it). */
  enrolledInOrganization(orgId: OrgId): Promise<Set<UserId>>;
}
