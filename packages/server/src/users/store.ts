import type { Role } from '@aim/protocol';
import type { OrgId, UserId } from '../core/ids.js';
import type { Organization, User, UserWithSecret } from './types.js';

/** What an administrator changes about an account. */
export type UserChange =
  | { kind: 'role'; role: Role }
  | { kind: 'disable' }
  | { kind: 'enable' }
  /** Makes the row a tombstone: email replaced (so it can be reused), password hash cleared, disabled. */
  | { kind: 'delete'; tombstoneEmail: string };

export type UserChangeOutcome =
  | { kind: 'changed'; before: User; user: User }
  /** Already so (a role it has, disabling a disabled account): nothing written. */
  | { kind: 'unchanged'; user: User }
  | { kind: 'not_found' }
  /** The change would leave the organization with no active admin: nothing written. */
  | { kind: 'last_admin'; user: User };

export interface UserStore {
  createOrganization(org: Organization): Promise<void>;
  /** Inserts a user; a taken email throws `conflict` (unique index, so concurrent creates cannot both win). */
  createUser(user: UserWithSecret): Promise<void>;
  /** Lookups skip deleted accounts (tombstones). */
  findByEmail(email: string): Promise<UserWithSecret | undefined>;
  findById(id: UserId): Promise<UserWithSecret | undefined>;
  /** Scoped to one organization: a user of another organization is not found. */
  findInOrganization(orgId: OrgId, id: UserId): Promise<User | undefined>;
  listByOrganization(orgId: OrgId): Promise<User[]>;
  /** Every account ever created, deleted ones included (first-admin bootstrap asks whether any exists). */
  countUsers(): Promise<number>;
  /**
   * Changes one user of the organization unless that would leave it with no active admin. Changes in one
   * organization are serialized (advisory lock on PostgreSQL, the single writer on SQLite), so concurrent calls
   * on any node, such as two admins disabling each other, can never together remove the last active admin.
   */
  changeUser(orgId: OrgId, id: UserId, change: UserChange, now: number): Promise<UserChangeOutcome>;
  updatePassword(id: UserId, passwordHash: string, now: number): Promise<void>;
  /**
   * Whether the account exists and is not disabled, holding a share lock on its row (PostgreSQL) until the
   * surrounding transaction ends: a disable that commits meanwhile waits, so the credential this transaction
   * issues is there for its revocation to find. SQLite's single writer gives the same order. `update` takes the
   * row lock an update of the user needs anyway, for transactions that change the user later on: taking it first
   * keeps the lock order (user, then what hangs off it) of every other writer, so they cannot deadlock.
   */
  lockIfActive(id: UserId, mode?: 'share' | 'update'): Promise<boolean>;
}
