import type { Role } from '@aim/protocol';
import type { OrgId, UserId } from '../core/ids.js';
import type { Organization, User, UserWithSecret } from './types.js';

export interface UserStore {
  createOrganization(org: Organization): Promise<void>;
  /** Inserts a user; a taken email throws `conflict` (unique index, so concurrent creates cannot both win). */
  createUser(user: UserWithSecret): Promise<void>;
  findByEmail(email: string): Promise<UserWithSecret | undefined>;
  findById(id: UserId): Promise<UserWithSecret | undefined>;
  /** Scoped to one organization: a user of another organization is not found. */
  findInOrganization(orgId: OrgId, id: UserId): Promise<User | undefined>;
  listByOrganization(orgId: OrgId): Promise<User[]>;
  countUsers(): Promise<number>;
  updateRole(orgId: OrgId, id: UserId, role: Role, now: number): Promise<boolean>;
  updatePassword(id: UserId, passwordHash: string, now: number): Promise<void>;
}
